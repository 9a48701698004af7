"""Range proofs in commitment form (a_j published) and their batch verification."""

from __future__ import annotations

import pytest

from verivote import elgamal
from verivote.errors import DecodeError, InvalidProof
from verivote.groups import get_group
from verivote.proofs.range import RangeProof, _transcript
from verivote.proofs.range_committed import (
    CommittedRangeProof,
    commitments_a,
    prove_range_committed,
    verify_range_committed,
)
from verivote.proofs.range_multi import MultiRangeBatch

CTX = b"verivote/tests/range-committed"


@pytest.fixture(scope="module", params=["ristretto255", "ed25519"])
def setup(request):
    group = get_group(request.param)
    pk = group.generator ** group.hash_to_scalar(CTX, b"key")
    pool = []
    for i, (value, limit) in enumerate([(0, 1), (1, 1), (3, 3)]):
        nonce = group.hash_to_scalar(CTX, b"nonce", bytes([i]))
        ct = elgamal.encrypt_with_nonce(pk, value, nonce)
        ctx = CTX + bytes([i])
        pool.append((ct, prove_range_committed(pk, ct, value, nonce, limit, ctx), limit, ctx))
    return group, pk, pool


def false_a_proof(group, pk, limit, ctx):
    """Encrypts ``limit``; the challenge and every b-equation hold, but a_L is random."""
    nonce = group.random_nonzero_scalar()
    ct = elgamal.encrypt_with_nonce(pk, limit, nonce)
    g = group.generator
    cs = [group.random_scalar() for _ in range(limit)]
    ss = [group.random_scalar() for _ in range(limit)]
    a, b, ab = [], [], []
    shifted = ct.beta
    for j in range(limit):
        a.append(g ** ss[j] * ct.alpha ** (-cs[j]))
        b.append(pk ** ss[j] * shifted ** (-cs[j]))
        ab += [a[-1], b[-1]]
        shifted = shifted / g
    w = group.random_scalar()
    a.append(group.hash_to_element(b"verivote/tests/not-a", bytes(w)))
    b.append(pk**w)
    ab += [a[-1], b[-1]]
    challenge = _transcript(pk, ct, limit, ctx).elements(b"ab", ab).challenge()
    c_last = challenge - sum(cs, group.scalar(0))
    proof = RangeProof((*cs, c_last), (*ss, w + c_last * nonce), tuple(b))
    return ct, CommittedRangeProof(proof, tuple(a))


def test_round_trip_and_single_verification(setup):
    group, pk, pool = setup
    for ct, cproof, limit, ctx in pool:
        obj = cproof.to_dict()
        assert set(obj) == {"a", "b", "c", "s"}
        assert CommittedRangeProof.from_dict(group, obj, limit) == cproof
        verify_range_committed(pk, ct, cproof, limit, ctx)
        assert cproof.a == commitments_a(ct, cproof.proof)


def test_from_dict_rejects(setup):
    group, _pk, pool = setup
    _ct, cproof, limit, _ctx = pool[0]
    obj = cproof.to_dict()
    for bad in (
        {k: v for k, v in obj.items() if k != "a"},
        {**obj, "a": obj["a"][:-1]},
        {**obj, "a": ["00" * (group.element_size - 1) + "01", *obj["a"][1:]]},
    ):
        with pytest.raises(DecodeError):
            CommittedRangeProof.from_dict(group, bad, limit)


def test_false_a_is_caught_alone_and_in_a_batch(setup):
    group, pk, pool = setup
    if not hasattr(group, "multi_exp"):
        ct, cproof = false_a_proof(group, pk, 1, CTX)
        with pytest.raises(InvalidProof, match="branch 1: a_j is not g"):
            verify_range_committed(pk, ct, cproof, 1, CTX)
        return
    ct, cproof = false_a_proof(group, pk, 1, CTX)
    with pytest.raises(InvalidProof, match="branch 1: a_j is not g"):
        verify_range_committed(pk, ct, cproof, 1, CTX)
    batch = MultiRangeBatch(pk)
    for i in range(60):
        c, p, limit, ctx = pool[i % len(pool)]
        batch.add(i, "honest", c, p.proof, limit, ctx, a=p.a)
    batch.add(99, "false a", ct, cproof.proof, 1, CTX, a=cproof.a)
    (failure,) = batch.verify()
    assert (failure.key, failure.where) == (99, "false a")
    assert str(failure.error) == "range: branch 1: a_j is not g^s_j · α^-c_j"


def test_committed_batch_holds_and_mixes_with_plain(setup):
    group, pk, pool = setup
    if not hasattr(group, "multi_exp"):
        pytest.skip("batching needs multi_exp")
    batch = MultiRangeBatch(pk)
    for i in range(90):
        c, p, limit, ctx = pool[i % len(pool)]
        if i % 2:
            batch.add(i, "committed", c, p.proof, limit, ctx, a=p.a)
        else:
            batch.add(i, "plain", c, p.proof, limit, ctx)
    assert batch.verify() == []
    c, p, limit, ctx = pool[0]
    with pytest.raises(InvalidProof, match="commitments a_j"):
        batch.add(0, "x", c, p.proof, limit, ctx, a=p.a[:-1])
    with pytest.raises(InvalidProof, match="do not sum"):
        batch.add(0, "x", c, p.proof, limit, ctx, a=(p.a[1], p.a[0]))
