"""The ristretto255 backends' batch functions (sum, sum_runs, valid_flags, msm_packed):
differential tests against libsodium (tests/ristretto_oracle.py) on both backends, with
the identity, invalid and non-canonical encodings, and scalars 0, 1, L-1 and 2^256-1."""

from __future__ import annotations

import pytest
import ristretto_oracle as oracle
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from test_ristretto import BAD, BASE, IDENTITY, MULTIPLES, backend_or_skip

from verivote.errors import InvalidElement, ParameterError
from verivote.groups import get_group
from verivote.groups.ristretto255 import L

SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=40)
BAD_POINTS = [bytes.fromhex(h) for cases in BAD.values() for h in cases]
OTHER = {"ristretto255": "ed25519", "ed25519": "modp4096", "modp4096": "ristretto255"}
EDGE = [0, 1, 2, L - 1, L, L + 1, 2**255 - 1, 2**256 - 1]


def points():
    return st.one_of(
        st.binary(min_size=64, max_size=64).map(oracle.from_hash),
        st.sampled_from([IDENTITY, BASE, bytes.fromhex(MULTIPLES[2])]),
    )


def any_encodings():
    """Valid points, RFC 9496's rejected encodings, and random 32-byte strings."""
    return st.one_of(points(), st.sampled_from(BAD_POINTS), st.binary(min_size=32, max_size=32))


def naive_sum(ps):
    acc = IDENTITY
    for p in ps:
        acc = oracle.add(acc, p)
    return acc


@pytest.fixture(scope="module", params=["native", "python"])
def backend(request):
    return backend_or_skip(request.param)


def test_sum_matches_libsodium(backend):
    @SETTINGS
    @given(st.lists(points(), max_size=9))
    @example([])
    @example([IDENTITY])
    @example([BASE, oracle.sub(IDENTITY, BASE)])
    def check(ps):
        assert backend.sum(ps) == naive_sum(ps)

    check()


def test_sum_runs_matches_libsodium(backend):
    @SETTINGS
    @given(st.integers(1, 4), st.lists(points(), max_size=12))
    def check(k, ps):
        ps = ps[: len(ps) - len(ps) % k]
        got = backend.sum_runs(b"".join(ps), k)
        want = b"".join(naive_sum(ps[i : i + k]) for i in range(0, len(ps), k))
        assert got == want

    check()


def test_invalid_points_are_named(backend):
    @SETTINGS
    @given(st.lists(any_encodings(), min_size=1, max_size=8), st.integers(1, 3))
    def check(ps, k):
        flags = backend.valid_flags(b"".join(ps))
        assert list(flags) == [int(oracle.is_valid(p)) for p in ps]
        bad = [i for i, p in enumerate(ps) if not oracle.is_valid(p)]
        if bad:
            with pytest.raises(InvalidElement, match=rf"\(point {bad[0]}\)"):
                backend.sum(ps)
        else:
            assert backend.sum(ps) == naive_sum(ps)
        whole = ps[: len(ps) - len(ps) % k]
        bad_whole = [i for i in bad if i < len(whole)]
        if bad_whole:
            with pytest.raises(InvalidElement, match=rf"\(point {bad_whole[0]}\)"):
                backend.sum_runs(b"".join(whole), k)
        ks = b"".join((i + 1).to_bytes(32, "little") for i in range(len(ps)))
        if bad:
            with pytest.raises(InvalidElement, match=rf"\(point {bad[0]}\)"):
                backend.msm_packed(ks, b"".join(ps))

    check()


def test_msm_packed_matches_libsodium(backend):
    @SETTINGS
    @given(
        st.lists(
            st.tuples(st.one_of(st.sampled_from(EDGE), st.integers(0, 2**256 - 1)), points()),
            max_size=8,
        )
    )
    @example([(0, BASE), (1, IDENTITY), (L - 1, BASE), (2**256 - 1, BASE)])
    def check(terms):
        acc = IDENTITY
        for k, p in terms:
            acc = oracle.add(acc, oracle.scalarmult(k % L, p))
        scalars = b"".join(k.to_bytes(32, "little") for k, _ in terms)
        assert backend.msm_packed(scalars, b"".join(p for _, p in terms)) == acc

    check()


def test_both_backends_agree_on_a_large_batch():
    native, python = backend_or_skip("native"), backend_or_skip("python")
    ps = [oracle.from_hash(bytes([i]) * 64) for i in range(60)] + [IDENTITY] * 4
    packed = b"".join(ps)
    assert native.sum_runs(packed, 16) == python.sum_runs(packed, 16)
    ks = b"".join(((i * 0x9E3779B97F4A7C15) % L).to_bytes(32, "little") for i in range(64))
    assert native.msm_packed(ks, packed) == python.msm_packed(ks, packed)


def test_lengths_are_checked(backend):
    with pytest.raises(ParameterError):
        backend.sum_runs(BASE * 3, 2)
    with pytest.raises(ParameterError):
        backend.sum_runs(BASE, 0)
    with pytest.raises(ParameterError):
        backend.valid_flags(BASE + b"\x00")
    with pytest.raises(ParameterError):
        backend.msm_packed(bytes(32), BASE * 2)
    with pytest.raises(InvalidElement):
        backend.sum([BASE, BASE[:31]])
    assert backend.sum_runs(b"", 3) == b""
    assert backend.valid_flags(b"") == b""
    assert backend.msm_packed(b"", b"") == IDENTITY


def test_group_product_equals_repeated_multiplication(group):
    """Group.product (one backend sum on ristretto255; used by the tally) is the product
    of its elements one by one, in every group."""
    elements = [group.hash_to_element(b"product", bytes([i])) for i in range(5)]
    elements += [group.identity, elements[0], elements[1].inverse()]
    expected = group.identity
    for n, element in enumerate(elements):
        expected = expected * element
        assert group.product(elements[: n + 1]) == expected
    assert group.product([]) == group.identity
    with pytest.raises(ParameterError):
        group.product([group.identity, get_group(OTHER[group.name]).identity])
