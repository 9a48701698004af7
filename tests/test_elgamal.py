"""verivote.elgamal: exponential ElGamal, homomorphism, threshold maths, discrete log."""

from __future__ import annotations

import pytest
from helpers import flip_byte, load_vectors_from_file, prop, scalars
from hypothesis import strategies as st

from verivote import elgamal
from verivote.elgamal import Ciphertext, DiscreteLog, KeyPair
from verivote.errors import DecodeError, DiscreteLogError, InvalidElement, ParameterError

VECTORS = load_vectors_from_file("elgamal.json")["groups"]
small = st.integers(0, 1000)


def decrypt(keypair, ct):
    return elgamal.decrypt_to_element(keypair.secret, ct)


# --- known answers ----------------------------------------------------------------------
def test_encrypt_with_nonce_vectors(group):
    v = VECTORS[group.name]
    secret = group.decode_scalar(bytes.fromhex(v["secret"]))
    public = group.decode_element(bytes.fromhex(v["public"]))
    assert group.generator**secret == public
    assert len(v["encryptions"]) >= 3
    for case in v["encryptions"]:
        nonce = group.decode_scalar(bytes.fromhex(case["nonce"]))
        ct = elgamal.encrypt_with_nonce(public, case["message"], nonce)
        assert ct.to_dict() == case["ciphertext"]
        assert ct.to_bytes().hex() == case["ciphertext"]["a"] + case["ciphertext"]["b"]
        again = group.decode_scalar(bytes.fromhex(case["reencrypt_nonce"]))
        assert elgamal.reencrypt(public, ct, again).to_dict() == case["reencrypted"]
        assert elgamal.decrypt_to_element(secret, ct).hex() == case["plaintext_element"]
        assert group.generator ** case["message"] == elgamal.decrypt_to_element(secret, ct)
        assert Ciphertext.from_dict(group, case["ciphertext"]) == ct


# --- encryption -------------------------------------------------------------------------
def test_encrypt_returns_its_nonce(group, keypair):
    ct, nonce = elgamal.encrypt(keypair.public, 7)
    assert elgamal.encrypt_with_nonce(keypair.public, 7, nonce) == ct
    assert decrypt(keypair, ct) == group.generator**7
    ct2, nonce2 = elgamal.encrypt(keypair.public, 7)
    assert ct2 != ct
    assert nonce2 != nonce


def test_encrypt_rejects_negative_messages(keypair, group):
    with pytest.raises(ParameterError):
        elgamal.encrypt(keypair.public, -1)
    with pytest.raises(ParameterError):
        elgamal.encrypt_with_nonce(keypair.public, -5, group.scalar(1))


def test_keypair_generate(group):
    kp = KeyPair.generate(group)
    assert group.generator**kp.secret == kp.public
    assert int(kp.secret) != 0
    text = repr(kp)
    assert kp.secret.hex() not in text
    assert str(int(kp.secret)) not in text
    assert format(int(kp.secret), "x") not in text


def test_homomorphic_addition(group, keypair):
    g, h = group.generator, keypair.public

    @prop(group, small, small, scalars(group), scalars(group))
    def _(a, b, r, s):
        ca = elgamal.encrypt_with_nonce(h, a, r)
        cb = elgamal.encrypt_with_nonce(h, b, s)
        total = ca * cb
        assert decrypt(keypair, total) == g ** (a + b)
        # and it is exactly the encryption of a + b under nonce r + s
        assert total == elgamal.encrypt_with_nonce(h, a + b, r + s)


def test_homomorphic_scaling(group, keypair):
    g, h = group.generator, keypair.public

    @prop(group, small, scalars(group), scalars(group), slow=6)
    def _(m, k, r):
        ct = elgamal.encrypt_with_nonce(h, m, r)
        assert decrypt(keypair, ct**k) == g ** (k * m)
        assert ct ** int(k) == ct**k
        assert decrypt(keypair, ct**3) == g ** (3 * m)


def test_reencryption(group, keypair):
    h = keypair.public

    @prop(group, small, scalars(group), scalars(group, nonzero=True), slow=6)
    def _(m, r, s):
        ct = elgamal.encrypt_with_nonce(h, m, r)
        fresh = elgamal.reencrypt(h, ct, s)
        assert decrypt(keypair, fresh) == decrypt(keypair, ct)
        assert fresh.to_bytes() != ct.to_bytes()
        assert fresh.alpha != ct.alpha
        assert fresh.beta != ct.beta
        assert fresh == elgamal.encrypt_with_nonce(h, m, r + s)


def test_reencrypt_with_zero_nonce_is_identity(group, keypair):
    ct = elgamal.encrypt_with_nonce(keypair.public, 3, group.scalar(99))
    assert elgamal.reencrypt(keypair.public, ct, group.scalar(0)) == ct


def test_zero_and_product(group, keypair):
    h = keypair.public
    zero = Ciphertext.zero(group)
    assert zero.alpha.is_identity()
    assert zero.beta.is_identity()
    assert decrypt(keypair, zero) == group.identity
    cts = [elgamal.encrypt_with_nonce(h, m, group.scalar(10 + m)) for m in (0, 1, 1, 0, 1)]
    assert elgamal.product([], group) == zero
    assert elgamal.product(cts, group) == cts[0] * cts[1] * cts[2] * cts[3] * cts[4]
    assert decrypt(keypair, elgamal.product(cts, group)) == group.generator**3
    assert cts[1] * zero == cts[1]
    assert elgamal.product(iter(cts), group) == elgamal.product(cts, group)


def test_wrong_key_does_not_decrypt(group, keypair):
    ct = elgamal.encrypt_with_nonce(keypair.public, 1, group.scalar(5))
    assert elgamal.decrypt_to_element(keypair.secret + 1, ct) != group.generator


# --- ciphertext encoding ----------------------------------------------------------------
def test_ciphertext_dict_round_trip(group, keypair):
    ct = elgamal.encrypt_with_nonce(keypair.public, 2, group.scalar(77))
    obj = ct.to_dict()
    assert set(obj) == {"a", "b"}
    assert Ciphertext.from_dict(group, obj) == ct
    assert len(ct.to_bytes()) == 2 * group.element_size


def test_ciphertext_from_dict_rejects(group, keypair, other_group):
    ct = elgamal.encrypt_with_nonce(keypair.public, 2, group.scalar(77))
    good = ct.to_dict()
    size = group.element_size
    bad_point = "00" * size if group.name == "modp4096" else "01" + "00" * 30 + "80"
    cases = [
        (None, DecodeError),
        ([good["a"], good["b"]], DecodeError),
        ({"a": good["a"]}, DecodeError),
        ({**good, "c": good["a"]}, DecodeError),
        ({"a": good["a"].upper(), "b": good["b"]}, DecodeError),
        ({"a": good["a"][:-2], "b": good["b"]}, DecodeError),
        ({"a": good["a"], "b": good["b"] + "00"}, DecodeError),
        ({"a": bad_point, "b": good["b"]}, InvalidElement),
        ({"a": good["a"], "b": bytes.fromhex(good["b"])}, DecodeError),
        (
            {
                # (ristretto255: an odd s is always invalid; a flipped middle byte can
                # land on another element)
                "a": (
                    flip_byte(bytes.fromhex(good["a"]), 0, 0x01)
                    if group.name == "ristretto255"
                    else flip_byte(bytes.fromhex(good["a"]), size // 2, 0xFF)
                ).hex(),
                "b": good["b"],
            },
            InvalidElement,
        ),
        (
            elgamal.encrypt_with_nonce(other_group.generator, 1, other_group.scalar(3)).to_dict(),
            DecodeError,
        ),
    ]
    for obj, error in cases:
        with pytest.raises(error):
            Ciphertext.from_dict(group, obj)


# --- threshold decryption maths ---------------------------------------------------------
def _shamir(group, k, n, coefficients):
    """Shares f(1..n) of the polynomial with the given k coefficients (f(0) = secret)."""
    assert len(coefficients) == k
    return {
        i: sum((c * i**j for j, c in enumerate(coefficients)), group.scalar(0))
        for i in range(1, n + 1)
    }


@st.composite
def _sharing(draw, group):
    n = draw(st.integers(1, 6))
    k = draw(st.integers(1, n))
    coefficients = [draw(scalars(group)) for _ in range(k)]
    subset = draw(st.lists(st.integers(1, n), min_size=k, max_size=n, unique=True))
    return k, n, coefficients, subset


def test_combine_shares_reconstructs(group, keypair):
    alpha = elgamal.encrypt_with_nonce(keypair.public, 1, group.scalar(4242)).alpha

    @prop(group, _sharing(group), slow=6)
    def _(sharing):
        k, n, coefficients, subset = sharing
        shares = _shamir(group, k, n, coefficients)
        secret = coefficients[0]
        decryption_shares = {i: alpha ** shares[i] for i in subset}
        assert elgamal.combine_shares(decryption_shares, group) == alpha**secret
        # The coefficients interpolate the constant polynomial: they sum to 1.
        total = sum(
            (elgamal.lagrange_coefficient(i, subset, group) for i in subset), group.scalar(0)
        )
        assert total == group.scalar(1)
        # One share too few is not enough (unless k = 1, or the polynomial is degenerate).
        if k > 1 and coefficients[-1] != group.scalar(0):
            fewer = dict(list(decryption_shares.items())[: k - 1])
            assert elgamal.combine_shares(fewer, group) != alpha**secret


def test_combine_shares_decrypts_a_ciphertext(group):
    coefficients = [group.hash_to_scalar(b"verivote/tests", b"c", bytes([j])) for j in range(3)]
    shares = _shamir(group, 3, 5, coefficients)
    public = group.generator ** coefficients[0]
    ct = elgamal.encrypt_with_nonce(public, 42, group.scalar(31337))
    for subset in ([1, 2, 3], [5, 3, 1], [2, 4, 5], [1, 2, 3, 4, 5]):
        combined = elgamal.combine_shares({i: ct.alpha ** shares[i] for i in subset}, group)
        assert DiscreteLog(group, 100).solve(ct.beta / combined) == 42


@pytest.mark.parametrize(
    ("index", "indices"),
    [(4, [1, 2, 3]), (1, [1, 1, 2]), (0, [0, 1]), (1, [1, -1]), (1, [])],
)
def test_lagrange_coefficient_rejects(group, index, indices):
    with pytest.raises(ParameterError):
        elgamal.lagrange_coefficient(index, indices, group)


def test_lagrange_coefficient_known_values(group):
    q = group.order
    # indices {1, 2}: λ1 = 2/(2-1) = 2, λ2 = 1/(1-2) = -1
    assert int(elgamal.lagrange_coefficient(1, [1, 2], group)) == 2
    assert int(elgamal.lagrange_coefficient(2, [1, 2], group)) == q - 1
    assert int(elgamal.lagrange_coefficient(3, [3], group)) == 1


# --- discrete log -----------------------------------------------------------------------
def test_discrete_log_solves_in_range(group):
    solver = DiscreteLog(group, 5000)
    g = group.generator

    @prop(group, st.integers(0, 5000), fast=50, slow=15)
    def _(m):
        assert solver.solve(g**m) == m


def test_discrete_log_just_out_of_range(group):
    solver = DiscreteLog(group, 5000)
    g = group.generator
    for m in (5001, 5002, 5000 + solver.step, group.order - 1):
        with pytest.raises(DiscreteLogError):
            solver.solve(g**m)
    with pytest.raises(DiscreteLogError):
        solver.solve(group.hash_to_element(b"verivote/tests/dlog"))


@pytest.mark.parametrize("bound", [0, 1, 2, 3, 8, 9, 10, 15, 16, 17])
def test_discrete_log_exhaustive_small_bounds(group, bound):
    solver = DiscreteLog(group, bound)
    g = group.generator
    for m in range(bound + 1):
        assert solver.solve(g**m) == m
    for m in range(bound + 1, bound + 4):
        with pytest.raises(DiscreteLogError):
            solver.solve(g**m)


def test_discrete_log_parameters(group):
    with pytest.raises(ParameterError):
        DiscreteLog(group, -1)
    a = DiscreteLog.for_group(group, 77)
    assert DiscreteLog.for_group(group, 77) is a
    assert DiscreteLog.for_group(group, 78) is not a
    assert a.solve(group.generator**77) == 77
    assert issubclass(DiscreteLogError, ValueError)
