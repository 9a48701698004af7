"""verivote.groups: both groups, same tests — known answers, strict decoding, group laws."""

from __future__ import annotations

import hashlib
import pickle

import pytest
from helpers import VECTORS as VECTOR_DIR
from helpers import load_generator, load_vectors_from_file, prop, scalars
from hypothesis import strategies as st

from verivote.errors import DecodeError, InvalidElement, InvalidScalar, ParameterError
from verivote.groups import DEFAULT_GROUP, GROUP_NAMES, get_group
from verivote.groups.base import Element, Scalar

VECTORS = load_vectors_from_file("groups.json")["groups"]


def _cases(kind, result):
    return [
        pytest.param(name, case, id=f"{name}-{case['tcId']}-{case['comment']}")
        for name in GROUP_NAMES
        for case in VECTORS[name][kind]
        if case["result"] == result
    ]


# --- get_group --------------------------------------------------------------------------
def test_get_group_singletons():
    assert DEFAULT_GROUP == "ristretto255"
    assert get_group() is get_group("ristretto255")
    for name in GROUP_NAMES:
        assert get_group(name) is get_group(name)
        assert get_group(name).name == name


@pytest.mark.parametrize("name", ["", "ED25519", "modp2048", "p256"])
def test_get_group_unknown(name):
    with pytest.raises(ParameterError):
        get_group(name)


def test_vector_file_covers_every_group():
    assert set(VECTORS) == set(GROUP_NAMES)


def test_vector_files_are_what_the_generator_writes():
    # Catches hand edits to the JSON and a generator that drifted from the files; after an
    # intended change of encoding, run `python tests/vectors/generate.py`.
    generator = load_generator()
    for name, content in generator.build().items():
        on_disk = (VECTOR_DIR / name).read_text(encoding="utf-8")
        assert on_disk == generator.render(content), f"tests/vectors/{name} is stale"


def test_reference_verdicts_agree_with_the_library():
    # The verdicts in the vector file come from generate.py's reference decoders (RFC 8032
    # in pure Python; plain pow for MODP), not from the library: check them here as well.
    generator = load_generator()
    reference = {
        "ed25519": generator.ed_verdict,
        "modp4096": generator.modp_verdict,
        "ristretto255": generator.rist_verdict,
    }
    for name in GROUP_NAMES:
        for case in VECTORS[name]["elements"]:
            data = bytes.fromhex(case["encoded"])
            assert reference[name](data) == (case["result"] == "valid"), case["comment"]


# --- known answers ----------------------------------------------------------------------
def test_parameters_vectors(group):
    v = VECTORS[group.name]
    assert format(group.order, "x") == v["order"]
    assert group.element_size == v["element_size"]
    assert group.scalar_size == v["scalar_size"]
    assert group.generator.hex() == v["generator"]
    assert group.identity.hex() == v["identity"]
    assert hashlib.sha512(group.description()).hexdigest() == v["description_sha512"]


def test_hash_to_scalar_vectors(group):
    for case in VECTORS[group.name]["hash_to_scalar"]:
        parts = [bytes.fromhex(p) for p in case["parts"]]
        out = group.hash_to_scalar(bytes.fromhex(case["domain"]), *parts)
        assert out.hex() == case["scalar"]


def test_hash_to_element_vectors(group):
    for case in VECTORS[group.name]["hash_to_element"]:
        parts = [bytes.fromhex(p) for p in case["parts"]]
        out = group.hash_to_element(bytes.fromhex(case["domain"]), *parts)
        assert out.hex() == case["element"]


def test_pow_vectors(group):
    for case in VECTORS[group.name]["pow"]:
        base = group.decode_element(bytes.fromhex(case["base"]))
        k = group.decode_scalar(bytes.fromhex(case["scalar"]))
        assert (base**k).hex() == case["element"]


@pytest.mark.parametrize(("name", "case"), _cases("elements", "valid"))
def test_decode_element_accepts(name, case):
    group = get_group(name)
    data = bytes.fromhex(case["encoded"])
    element = group.decode_element(data)
    assert element.to_bytes() == data
    assert bytes(element) == data
    assert element.hex() == case["encoded"]
    assert group.decode_element(bytes(element.inverse())).inverse() == element


@pytest.mark.parametrize(("name", "case"), _cases("elements", "invalid"))
def test_decode_element_rejects(name, case):
    group = get_group(name)
    with pytest.raises(InvalidElement):
        group.decode_element(bytes.fromhex(case["encoded"]))


@pytest.mark.parametrize(("name", "case"), _cases("scalars", "valid"))
def test_decode_scalar_accepts(name, case):
    group = get_group(name)
    scalar = group.decode_scalar(bytes.fromhex(case["encoded"]))
    assert int(scalar) == int(case["value"], 16)
    assert scalar.hex() == case["encoded"]


@pytest.mark.parametrize(("name", "case"), _cases("scalars", "invalid"))
def test_decode_scalar_rejects(name, case):
    group = get_group(name)
    with pytest.raises(InvalidScalar):
        group.decode_scalar(bytes.fromhex(case["encoded"]))


def test_ed25519_edge_cases_are_frozen():
    # The brief's edge cases must stay in the vector file with these verdicts.
    cases = {c["encoded"]: c["result"] for c in VECTORS["ed25519"]["elements"]}
    assert cases["01" + "00" * 31] == "valid"
    assert cases["01" + "00" * 30 + "80"] == "invalid"
    assert cases["ff" * 31 + "7f"] == "invalid"
    torsion = [c for c in VECTORS["ed25519"]["elements"] if c["comment"].startswith("torsion")]
    assert len({c["encoded"] for c in torsion}) == 8
    assert [c["result"] for c in torsion].count("valid") == 1
    assert any("base point + torsion" in c["comment"] for c in VECTORS["ed25519"]["elements"])


def test_modp_edge_cases_are_frozen():
    group = get_group("modp4096")
    cases = {int(c["encoded"] or "0", 16): c for c in VECTORS["modp4096"]["elements"]}
    p = group.parameters()["p"]
    for value, verdict in [(0, "invalid"), (1, "valid"), (2, "invalid")]:
        assert cases[value]["result"] == verdict
    assert cases[int(p, 16)]["result"] == "invalid"
    assert cases[int(p, 16) + 1]["result"] == "invalid"
    assert cases[int(p, 16) - 1]["result"] == "invalid"


# --- decoding: error classes and odd inputs ---------------------------------------------
def test_error_classes():
    for cls in (InvalidElement, InvalidScalar):
        assert issubclass(cls, DecodeError)
        assert issubclass(cls, ValueError)


@pytest.mark.parametrize("bad", [None, "00", 0, [0]])
def test_decode_element_rejects_non_bytes(group, bad):
    with pytest.raises(InvalidElement):
        group.decode_element(bad)


def test_decode_accepts_bytearray(group):
    g = group.generator
    assert group.decode_element(bytearray(bytes(g))) == g


def test_decode_element_rejects_other_groups_encoding(group, other_group):
    for element in (other_group.generator, other_group.identity):
        with pytest.raises(InvalidElement):
            group.decode_element(bytes(element))


def test_scalar_boundaries(group):
    q, n = group.order, group.scalar_size
    assert int(group.decode_scalar((q - 1).to_bytes(n, "big"))) == q - 1
    for bad in (q, q + 1, 2 ** (8 * n) - 1):
        with pytest.raises(InvalidScalar):
            group.decode_scalar(bad.to_bytes(n, "big"))
    for length in (0, n - 1, n + 1):
        with pytest.raises(InvalidScalar):
            group.decode_scalar(bytes(length))


# --- round trips ------------------------------------------------------------------------
def test_element_round_trip(group):
    @prop(group, scalars(group))
    def _(k):
        x = group.generator**k
        assert group.decode_element(x.to_bytes()) == x
        assert len(x.to_bytes()) == group.element_size
        assert hash(group.decode_element(x.to_bytes())) == hash(x)


def test_scalar_round_trip(group):
    @prop(group, scalars(group), fast=200, slow=200)
    def _(k):
        assert group.decode_scalar(k.to_bytes()) == k
        assert bytes(k) == k.to_bytes()
        assert len(k.to_bytes()) == group.scalar_size
        assert k.hex() == k.to_bytes().hex()


def test_pickle_round_trip(group):
    x = group.generator ** group.scalar(12345)
    k = group.scalar(678)
    assert pickle.loads(pickle.dumps(group)) is group
    assert pickle.loads(pickle.dumps(x)) == x
    assert pickle.loads(pickle.dumps(k)) == k
    assert pickle.loads(pickle.dumps(x)).group is group


# --- group laws -------------------------------------------------------------------------
def test_group_laws(group):
    g, e = group.generator, group.identity

    @prop(group, scalars(group), scalars(group), scalars(group))
    def _(a, b, c):
        A, B, C = g**a, g**b, g**c
        assert (A * B) * C == A * (B * C)
        assert A * B == B * A
        assert A * e == A == e * A
        assert (A * A.inverse()).is_identity()
        assert A * B.inverse() == A / B
        assert A.inverse().inverse() == A


def test_exponent_laws(group):
    g = group.generator

    @prop(group, scalars(group), scalars(group), fast=30, slow=6)
    def _(a, b):
        A = g**a
        assert g ** (a + b) == g**a * g**b
        assert A**b == g ** (a * b)
        assert A ** (-b) == (A**b).inverse()
        assert A ** int(b) == A**b
        assert A ** (int(b) + group.order) == A**b


def test_identity_and_order(group):
    g, e = group.generator, group.identity
    assert e.is_identity()
    assert not g.is_identity()
    assert g ** (group.order - 1) * g == e
    assert g ** (group.order - 1) == g.inverse()
    assert g**0 == e
    assert g**1 == g
    assert e**12345 == e
    assert e.inverse() == e
    assert e * e == e
    assert g / g == e


def test_precompute_does_not_change_results(group):
    h = group.hash_to_element(b"verivote/tests/precompute")
    k = group.scalar(2**200 + 12345)
    before = h**k
    group.precompute(h)
    assert h**k == before
    assert h ** group.scalar(0) == group.identity


def test_scalar_arithmetic(group):
    @prop(group, scalars(group), scalars(group, nonzero=True), fast=200, slow=200)
    def _(a, b):
        q = group.order
        assert int(a + b) == (int(a) + int(b)) % q
        assert int(a - b) == (int(a) - int(b)) % q
        assert int(a * b) == int(a) * int(b) % q
        assert (a - b) + b == a
        assert -a + a == group.scalar(0)
        assert b * b.inverse() == group.scalar(1)
        assert 1 + a == a + 1
        assert 5 - a == group.scalar(5) - a
        assert 3 * a == a * 3 == a + a + a


def test_scalar_zero_has_no_inverse(group):
    with pytest.raises(ParameterError):
        group.scalar(0).inverse()


def test_scalar_reduces(group):
    assert group.scalar(group.order) == group.scalar(0)
    assert group.scalar(-1) == group.scalar(group.order - 1)


def test_random_scalars(group):
    draws = [group.random_scalar() for _ in range(16)]
    assert all(0 <= int(k) < group.order for k in draws)
    assert len(set(draws)) == 16
    assert all(0 < int(group.random_nonzero_scalar()) < group.order for _ in range(16))


def test_mixing_groups_is_refused(group, other_group):
    a, b = group.generator, other_group.generator
    with pytest.raises(ParameterError):
        a * b
    with pytest.raises(ParameterError):
        a / b
    with pytest.raises(ParameterError):
        a ** other_group.scalar(2)
    with pytest.raises(ParameterError):
        group.scalar(1) + other_group.scalar(1)
    assert a != b
    assert group.scalar(1) != other_group.scalar(1)
    assert group.scalar(1) != 1


# --- hashing into the group ---------------------------------------------------------------
def test_hash_to_element_properties(group):
    @prop(group, st.binary(max_size=16), st.lists(st.binary(max_size=8), max_size=3), slow=5)
    def _(domain, parts):
        h = group.hash_to_element(domain, *parts)
        assert not h.is_identity()
        assert h != group.generator
        assert group.decode_element(h.to_bytes()) == h
        assert group.hash_to_element(domain, *parts) == h
        assert group.hash_to_element(domain + b"x", *parts) != h


def test_hash_to_scalar_properties(group):
    @prop(group, st.binary(max_size=16), st.lists(st.binary(max_size=8), max_size=3))
    def _(domain, parts):
        k = group.hash_to_scalar(domain, *parts)
        assert 0 <= int(k) < group.order
        assert group.hash_to_scalar(domain, *parts) == k
        assert group.hash_to_scalar(domain, *parts, b"") != k


def test_hash_inputs_are_framed(group):
    # ("ab", "c") and ("a", "bc") must not collide: every part is length-prefixed.
    assert group.hash_to_scalar(b"d", b"ab", b"c") != group.hash_to_scalar(b"d", b"a", b"bc")
    assert group.hash_to_element(b"d", b"ab", b"c") != group.hash_to_element(b"d", b"a", b"bc")


def test_element_and_scalar_reprs(group):
    assert group.name in repr(group.generator)
    assert group.name in repr(group.scalar(7))
    assert isinstance(group.generator, Element)
    assert isinstance(group.scalar(7), Scalar)
