"""Known answers for ristretto255's device path (tests/vectors/ristretto255.json), on both
backends, and the same answers recomputed by libsodium's own ristretto255 (the oracle of
tests/ristretto_oracle.py)."""

from __future__ import annotations

import importlib.util

import pytest
import ristretto_oracle as oracle
from helpers import VECTORS, load_vectors_from_file

from verivote import elgamal
from verivote._native import get_backend, native_available
from verivote.groups.ristretto255 import BASE, L, Ristretto255Group
from verivote.proofs import range as range_proof

DATA = load_vectors_from_file("ristretto255.json")


@pytest.fixture(params=["native", "python"])
def group(request):
    if request.param == "native" and not native_available():
        pytest.skip("the compiled backend is not built")
    return Ristretto255Group(get_backend(request.param))


def _o_mul(k: int, point: bytes = BASE) -> bytes:
    out = oracle.scalarmult(k % L, point)
    assert out is not None
    return out


def test_the_file_covers_the_edge_scalars():
    rs = {case["r"] for case in DATA["encryptions"]}
    ms = {case["m"] for case in DATA["encryptions"]}
    assert {0, 1, L - 1} <= rs and 0 in ms and 1 in ms
    exponents = {k for case in DATA["products"] for k in case["exponents"]}
    assert {0, 1, L - 1} <= exponents


def test_encryptions(group):
    for case in DATA["encryptions"]:
        h = group.generator ** group.scalar(case["x"])
        for nonce in (group.secret_scalar(case["r"]), group.scalar(case["r"])):
            ct = elgamal.encrypt_with_nonce(h, case["m"], nonce)
            assert ct.to_dict() == {"a": case["alpha"], "b": case["beta"]}, case
        ct = elgamal.Ciphertext.from_dict(group, {"a": case["alpha"], "b": case["beta"]})
        assert elgamal.decrypt_to_element(group.scalar(case["x"]), ct) == group.generator ** (
            group.scalar(case["m"])
        )


def test_encryptions_by_the_oracle():
    for case in DATA["encryptions"]:
        alpha = _o_mul(case["r"])
        beta = oracle.add(_o_mul(case["m"]), _o_mul(case["x"] * case["r"]))
        assert (alpha.hex(), beta and beta.hex()) == (case["alpha"], case["beta"]), case


def test_products(group):
    for case in DATA["products"]:
        bases = [group.generator ** group.scalar(b) for b in case["logs"]]
        got = group.secret_product(bases, case["exponents"])
        assert got.hex() == case["product"], case
        want = group.product_of_powers(bases, case["exponents"])  # the public path
        assert want.hex() == case["product"], case


def test_range_proof_check_value(group):
    v = DATA["range_proof"]
    s = group.scalar
    h = group.generator ** s(v["x"])
    ct = elgamal.encrypt_with_nonce(h, v["m"], s(v["r"]))
    sims = [(s(c), s(k)) for c, k in v["sims"]]
    context = v["context"].encode()
    proof = range_proof._prove_range(h, ct, v["m"], s(v["r"]), 1, context, s(v["w"]), sims)
    assert proof.to_dict() == v["proof"]
    range_proof.verify_range(h, ct, proof, 1, context)


def test_range_proof_commitments_by_the_oracle():
    """Every published b_j = h^s_j · (β / g^j)^-c_j, in libsodium's arithmetic."""
    v = DATA["range_proof"]
    h = _o_mul(v["x"])
    beta = oracle.add(_o_mul(v["m"]), _o_mul(v["x"] * v["r"]))
    assert beta is not None
    for j, b_hex in enumerate(v["proof"]["b"]):
        c = int(v["proof"]["c"][j], 16)
        s = int(v["proof"]["s"][j], 16)
        shifted = oracle.sub(beta, _o_mul(j))
        assert shifted is not None
        b = oracle.add(_o_mul(s, h), _o_mul(-c % L, shifted) if c % L else oracle.IDENTITY)
        assert b is not None and b.hex() == b_hex, j


def test_the_file_is_what_the_generator_writes():
    spec = importlib.util.spec_from_file_location("gen_rist", VECTORS / "generate_ristretto.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.main(["--check"]) == 0
