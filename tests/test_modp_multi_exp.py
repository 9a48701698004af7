"""modp4096's public-exponent multi_exp and its batched subgroup check (validate_batch)."""

from __future__ import annotations

import secrets

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verivote.errors import ParameterError
from verivote.groups import get_group
from verivote.groups.modp4096 import P, Q

group = get_group("modp4096")
BASES = [group.generator ** (secrets.randbelow(Q - 1) + 1) for _ in range(8)]


@settings(max_examples=6, deadline=None)
@given(st.lists(st.integers(min_value=0, max_value=2**256 - 1), min_size=0, max_size=8))
def test_multi_exp_is_the_product_of_powers(exponents: list[int]) -> None:
    bases = [group.generator, group.identity, *BASES][: len(exponents)]
    expected = group.identity
    for base, k in zip(bases, exponents, strict=True):
        expected = expected * base**k
    assert group.multi_exp(bases, exponents) == expected


def test_multi_exp_edge_scalars() -> None:
    base = BASES[0]
    ks = [0, 1, Q - 1, Q, 2**256 - 1, -1]
    assert group.multi_exp([base] * 6, ks) == base ** sum(k % Q for k in ks)
    assert group.multi_exp([], []).is_identity()
    assert group.multi_exp([base], [group.scalar(5)]) == base**5


def test_multi_exp_refuses_secret_exponents_and_bad_input() -> None:
    with pytest.raises(ParameterError, match="public exponents only"):
        group.multi_exp([BASES[0]], [group.random_scalar()])
    with pytest.raises(ParameterError):
        group.multi_exp([BASES[0]], [1, 2])


def _unchecked(values: list[int]) -> list:
    return [group.decode_element_deferred(v.to_bytes(512, "big")) for v in values]


def test_validate_batch_accepts_subgroup_elements() -> None:
    elements = _unchecked([int(b.value) for b in BASES])
    assert group.validate_batch(elements)
    assert all(e.validated for e in elements)


@pytest.mark.parametrize(
    "bad",
    [
        P - 1,  # order 2: Jacobi symbol -1
        4,  # a quadratic residue outside the order-q subgroup (component of order r')
        (int(BASES[1].value) * 4) % P,
    ],
)
def test_validate_batch_refuses_an_element_outside_the_subgroup(bad: int) -> None:
    elements = _unchecked([int(b.value) for b in BASES[:5]] + [bad])
    assert not group.validate_batch(elements)
    assert not any(e.validated for e in elements)
