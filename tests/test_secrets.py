"""Secrets: constant-time exponentiation for secret exponents, secrets that never print
or pickle, and a distinct type for points whose subgroup check is deferred."""

from __future__ import annotations

import io
import logging
import pickle
import subprocess
import sys
from pathlib import Path

import gmpy2
import pytest
from helpers import prop
from hypothesis import strategies as st

from verivote import elgamal
from verivote.election import ceremony
from verivote.election.ballot import encrypt_ballot
from verivote.elgamal import Ciphertext, DeferredCiphertext, KeyPair
from verivote.errors import InvalidElement
from verivote.groups import get_group
from verivote.groups.base import Element, Scalar, SecretScalar
from verivote.groups.modp4096 import FixedBase, Modp4096Group, P
from verivote.groups.unchecked import UncheckedElement
from verivote.proofs.chaum_pedersen import prove_equal_logs, verify_equal_logs
from verivote.proofs.range import prove_range, verify_range
from verivote.proofs.schnorr import prove_schnorr, verify_schnorr
from verivote.signatures import Signer

ROOT = Path(__file__).resolve().parent.parent
TORSION8 = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")


# ---------------------------------------------------------------------- constant time
def test_gmpy2_has_a_constant_time_powmod():
    assert callable(gmpy2.powmod_sec)
    assert gmpy2.powmod_sec(3, 2**255 + 1, P) == pow(3, 2**255 + 1, P)


def test_secret_and_public_exponentiation_agree(group):
    g = group.generator
    h = g ** group.scalar(987654321)
    group.precompute(h)

    @prop(group, st.integers(0, group.order - 1), fast=30, slow=6)
    def _(k):
        public, secret = group.scalar(k), group.secret_scalar(k)
        assert type(secret) is SecretScalar and type(public) is Scalar
        assert g**secret == g**public and h**secret == h**public


@pytest.fixture
def spy(monkeypatch):
    """Counts fixed-base table look-ups and constant-time exponentiations in the 4096-bit
    group."""
    calls = {"table": 0, "secret": 0}
    table_pow, secret_pow = FixedBase.pow, Modp4096Group._pow_secret

    def counted_table(self, k):
        calls["table"] += 1
        return table_pow(self, k)

    def counted_secret(self, a, k):
        calls["secret"] += 1
        return secret_pow(self, a, k)

    monkeypatch.setattr(FixedBase, "pow", counted_table)
    monkeypatch.setattr(Modp4096Group, "_pow_secret", counted_secret)
    return calls


def test_provers_never_look_up_a_table_with_a_secret(spy):
    group = get_group("modp4096")
    pair = KeyPair.generate(group)
    group.precompute(pair.public)
    ct, nonce = elgamal.encrypt(pair.public, 1)
    schnorr = prove_schnorr(pair.secret, pair.public, b"ctx")
    d = ct.alpha**pair.secret
    cp = prove_equal_logs(pair.secret, (group.generator, ct.alpha), (pair.public, d), b"ctx")
    rp = prove_range(pair.public, ct, 1, nonce, 1, b"ctx")
    assert elgamal.decrypt_to_element(pair.secret, ct) == group.generator
    assert spy["table"] == 0 and spy["secret"] > 10
    # verification, whose exponents are public, still uses the tables
    verify_schnorr(pair.public, schnorr, b"ctx")
    verify_equal_logs((group.generator, ct.alpha), (pair.public, d), cp, b"ctx")
    verify_range(pair.public, ct, rp, 1, b"ctx")
    assert spy["table"] > 0


def test_a_vote_and_a_decryption_share_take_the_constant_time_path(spy):
    group = get_group("modp4096")
    pair = KeyPair.generate(group)
    group.precompute(pair.public)
    before = spy["secret"]
    elgamal.encrypt_with_nonce(pair.public, 1, group.scalar(5))  # a public-typed nonce
    assert spy["table"] == 0 and spy["secret"] == before + 3  # g^r, g^m, h^r


def test_secret_arithmetic_stays_secret(group):
    @prop(group, st.integers(1, group.order - 1), st.integers(1, group.order - 1))
    def _(a, b):
        s, p = group.secret_scalar(a), group.scalar(b)
        q = group.order
        for value, expected in (
            (s + p, a + b),
            (p + s, a + b),
            (s - p, a - b),
            (p - s, b - a),
            (s * p, a * b),
            (p * s, a * b),
            (-s, -a),
            (s + 1, a + 1),
            (2 * s, 2 * a),
            (s.inverse() * s, 1),
        ):
            assert type(value) is SecretScalar and value.value == expected % q
        assert type(p + p) is Scalar


# ---------------------------------------------------------------------- never printed
def _secrets(group):
    manifest_free = ceremony.TrusteeSecrets.generate(group, 1, 2)
    pair = KeyPair.generate(group)
    nonce = group.random_scalar()
    share = manifest_free.evaluate(2)
    return [
        (group.secret_scalar(0x1234567890ABCDEF), "1234567890abcdef"),
        (nonce, nonce.hex()),
        (share, share.hex()),
        (group.scalar(0xFEDCBA9876543210), "fedcba9876543210"),
        (pair, pair.secret.hex()),
        (manifest_free, manifest_free.coefficients[0].hex()),
    ]


def _renderings(obj):
    stream = io.StringIO()
    logger = logging.getLogger("verivote.test.secrets")
    handler = logging.StreamHandler(stream)
    logger.addHandler(handler)
    try:
        logger.warning("%s %r", obj, obj)
    finally:
        logger.removeHandler(handler)
    return [repr(obj), str(obj), f"{obj}", f"{obj!r}", stream.getvalue(), repr([obj])]


def test_secrets_never_print_their_value(group):
    for obj, secret in _secrets(group):
        digits = (secret.lstrip("0"), str(int(secret, 16)))
        for text in _renderings(obj):
            assert not any(d in text.lower() for d in digits), (type(obj), text)


def test_signers_never_print_their_seed():
    signer = Signer.generate()
    for text in _renderings(signer):
        assert signer.seed.hex() not in text and signer.seed.hex()[:16] not in text


def test_secrets_refuse_to_be_pickled(group):
    refusing = [group.random_scalar(), KeyPair.generate(group), Signer.generate()]
    refusing.append(ceremony.TrusteeSecrets.generate(group, 1, 2))
    for obj in refusing:
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    public = group.scalar(7)  # public scalars still go to worker processes
    assert pickle.loads(pickle.dumps(public)) == public


def test_a_prepared_ballot_refuses_to_be_pickled(tmp_path):
    from live_board import choice, voting_election

    sim = voting_election(voters=2, seed=3)
    prepared = encrypt_ballot(sim.manifest, sim.joint_key, sim.credentials[0], choice(0))
    with pytest.raises(TypeError):
        pickle.dumps(prepared)
    assert prepared.nonces[0][0].hex() not in repr(prepared)


# ---------------------------------------------------------------------- unchecked points
def test_deferred_points_have_their_own_type(group):
    data = (group.generator ** group.scalar(5)).to_bytes()
    point = group.decode_element_deferred(data)
    assert type(point) is UncheckedElement and not isinstance(point, Element)
    assert not issubclass(UncheckedElement, Element)
    product = group.generator * point  # mixing keeps it unchecked
    assert type(product) is UncheckedElement
    assert type(point * group.generator) is UncheckedElement
    ct = DeferredCiphertext(point, point)
    assert type(ct * Ciphertext(group.generator, group.generator)) is DeferredCiphertext
    assert point.checked() == group.decode_element(data)
    assert point.matches(group.decode_element(data))


def test_mypy_refuses_an_unchecked_point_where_an_element_is_needed(tmp_path):
    snippet = tmp_path / "snippet.py"
    snippet.write_text(
        "from verivote.groups import get_group\n"
        "from verivote.groups.base import Element\n"
        "\n\n"
        "def needs(e: Element) -> bytes:\n"
        "    return e.to_bytes()\n"
        "\n\n"
        "point = get_group().decode_element_deferred(bytes(32))\n"
        "needs(point.checked())\n"
        "needs(point)\n"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", str(snippet)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'snippet.py:11: error: Argument 1 to "needs" has incompatible type' in result.stdout
    assert '"UncheckedElement"; expected "Element"' in result.stdout
    assert "snippet.py:10" not in result.stdout


def test_every_conversion_validates_an_ed25519_point_outside_the_subgroup():
    group = get_group("ed25519")
    from nacl.bindings import crypto_core_ed25519_add

    bad = crypto_core_ed25519_add((group.generator**5).to_bytes(), TORSION8)
    with pytest.raises(InvalidElement):
        group.decode_element_deferred(bad).checked()
    with pytest.raises(InvalidElement):
        group.decode_element_deferred(bad) ** group.scalar(3)
    with pytest.raises(InvalidElement):
        group.decode_element_deferred(bad) ** 0  # a zero exponent checks in full
    assert not group.decode_element_deferred(bad).matches(group.generator**5)


def test_every_conversion_validates_a_modp_element_outside_the_subgroup():
    group = get_group("modp4096")
    minus_one = (P - 1).to_bytes(512, "big")  # of order 2
    with pytest.raises(InvalidElement):
        group.decode_element_deferred(minus_one).checked()
    with pytest.raises(InvalidElement):
        group.decode_element_deferred(minus_one) ** group.scalar(2)
