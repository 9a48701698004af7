"""Range proofs of many ballots checked with one multi-scalar multiplication (ristretto255)."""

from __future__ import annotations

import time

import pytest

from verivote import elgamal
from verivote.errors import InvalidProof, ParameterError
from verivote.groups import get_group
from verivote.proofs.range import RangeProof, _transcript, prove_range, verify_range
from verivote.proofs.range_multi import MultiRangeBatch

CTX = b"verivote/tests/range-multi"


@pytest.fixture(scope="module")
def setup():
    group = get_group("ristretto255")
    secret = group.hash_to_scalar(CTX, b"key")
    pk = group.generator**secret
    pool = []
    for i, (value, limit) in enumerate([(0, 1), (1, 1), (2, 3)]):
        nonce = group.hash_to_scalar(CTX, b"nonce", bytes([i]))
        ct = elgamal.encrypt_with_nonce(pk, value, nonce)
        ctx = CTX + bytes([i])
        pool.append((ct, prove_range(pk, ct, value, nonce, limit, ctx), limit, ctx))
    return group, pk, pool


def false_proof(group, pk, value, limit, ctx, ct=None, nonce=None, which="b"):
    """A proof whose challenge check passes (every published commitment is hashed) but one
    of whose last branch's equations is false: ``a_L`` (``which="a"``) or ``b_L`` is a
    random element, and the other is honest; the prover knows the nonce (of a fresh
    encryption of ``value``, or of ``ct`` when given with its nonce)."""
    if ct is None:
        nonce = group.random_nonzero_scalar()
        ct = elgamal.encrypt_with_nonce(pk, value, nonce)
    g = group.generator
    cs = [group.random_scalar() for _ in range(limit)]
    ss = [group.random_scalar() for _ in range(limit)]
    ab, as_, bs = [], [], []
    shifted = ct.beta
    for j in range(limit):
        a = g ** ss[j] * ct.alpha ** (-cs[j])
        b = pk ** ss[j] * shifted ** (-cs[j])
        ab += [a, b]
        as_.append(a)
        bs.append(b)
        shifted = shifted / g
    w = group.random_scalar()
    random = group.hash_to_element(b"verivote/tests/not-a-commitment", bytes(w))
    a_last, b_last = (random, pk**w) if which == "a" else (g**w, random)
    ab += [a_last, b_last]
    as_.append(a_last)
    bs.append(b_last)
    challenge = _transcript(pk, ct, limit, ctx).elements(b"ab", ab).challenge()
    c_last = challenge - sum(cs, group.scalar(0))
    proof = RangeProof((*cs, c_last), (*ss, w + c_last * nonce), tuple(bs), tuple(as_))
    return ct, proof


def false_b_proof(group, pk, value, limit, ctx, ct=None, nonce=None):
    """:func:`false_proof` with a false ``b``-equation."""
    return false_proof(group, pk, value, limit, ctx, ct, nonce, "b")


def test_false_a_equation_is_named(setup):
    group, pk, pool = setup
    ct, proof = false_proof(group, pk, 2, 3, CTX, which="a")
    with pytest.raises(InvalidProof, match="branch 3: a_j is not g") as single:
        verify_range(pk, ct, proof, 3, CTX)
    batch = MultiRangeBatch(pk)
    for i in range(20):
        c, p, limit, ctx = pool[i % len(pool)]
        batch.add(i, "sel", c, p, limit, ctx)
    batch.add(20, "limit", ct, proof, 3, CTX)
    (failure,) = batch.verify()
    assert (failure.key, failure.where, str(failure.error)) == (20, "limit", str(single.value))
    assert [f.key for f in batch.verify(name=False)] == [20]


def test_honest_batch_holds(setup):
    _group, pk, pool = setup
    batch = MultiRangeBatch(pk)
    for i in range(30):
        ct, proof, limit, ctx = pool[i % len(pool)]
        batch.add(i, f"item {i}", ct, proof, limit, ctx)
    assert len(batch) == 30
    assert batch.verify() == []
    assert MultiRangeBatch(pk).verify() == []


def test_false_proof_is_named_like_verify_range(setup):
    group, pk, pool = setup
    ct, proof = false_b_proof(group, pk, 1, 1, CTX)
    with pytest.raises(InvalidProof) as single:
        verify_range(pk, ct, proof, 1, CTX)
    batch = MultiRangeBatch(pk)
    for i in range(40):
        c, p, limit, ctx = pool[i % len(pool)]
        batch.add(("ballot", i), "contest x, candidate a", c, p, limit, ctx)
        if i == 17:
            batch.add(("ballot", i), "contest x, candidate b", ct, proof, 1, CTX)
    (failure,) = batch.verify()
    assert failure.key == ("ballot", 17)
    assert failure.where == "contest x, candidate b"
    assert str(failure.error) == str(single.value)
    assert "b_j is not h^s_j" in str(failure.error)


def test_several_false_items_all_named(setup):
    group, pk, pool = setup
    bad = {3, 4, 50}
    batch = MultiRangeBatch(pk)
    for i in range(64):
        if i in bad:
            ct, proof = false_b_proof(group, pk, 0, 1, CTX)
            batch.add(i, "sel", ct, proof, 1, CTX)
        else:
            c, p, limit, ctx = pool[i % len(pool)]
            batch.add(i, "sel", c, p, limit, ctx)
    assert {f.key for f in batch.verify()} == bad


def test_bad_challenge_is_refused_at_add(setup):
    _group, pk, pool = setup
    ct, proof, limit, ctx = pool[0]
    batch = MultiRangeBatch(pk)
    with pytest.raises(InvalidProof, match="do not sum to the transcript challenge"):
        batch.add(0, "x", ct, proof, limit, ctx + b"other")
    with pytest.raises(InvalidProof, match="expected"):
        batch.add(0, "x", ct, proof, 3, ctx)


def test_needs_a_group_with_multi_exp():
    ed = get_group("ed25519")
    with pytest.raises(ParameterError):
        MultiRangeBatch(ed.generator)


def test_one_false_proof_in_ten_thousand_is_named(setup):
    group, pk, pool = setup
    ct, proof = false_b_proof(group, pk, 0, 1, CTX)
    batch = MultiRangeBatch(pk)
    bad = 7321
    for i in range(10_000):
        if i == bad:
            batch.add(i, "contest c, candidate z", ct, proof, 1, CTX)
        else:  # honest proofs reused: a fast test
            c, p, limit, ctx = pool[i % 2]
            batch.add(i, "contest c, candidate a", c, p, limit, ctx)
    start = time.perf_counter()
    failures = batch.verify()
    elapsed = time.perf_counter() - start
    assert [(f.key, f.where) for f in failures] == [(bad, "contest c, candidate z")]
    assert "branch 1: b_j is not h^s_j" in str(failures[0].error)
    assert elapsed < 60
