"""Range proofs of many ballots checked together with one multi-scalar multiplication.

:class:`~verivote.proofs.range.RangeBatch` batches the proofs of one ballot. This module
batches across ballots, for a group with a multi-scalar multiplication
(``group.multi_exp``: ``ristretto255`` on its compiled backend, ``modp4096`` with its
bucket multi-exponentiation). Each proof contributes:

* at :meth:`MultiRangeBatch.add`: its size and its challenge, hashed from the published
  ``a_j, b_j`` (no exponentiation), checked at once; a failure raises
  :class:`~verivote.errors.InvalidProof` with ``verify_range``'s message;
* deferred: its equations ``g^s_j = a_j · α^c_j`` and ``h^s_j = b_j · (β/g^j)^c_j``, each
  raised to its own fresh random 128-bit weight (``ρ'_j`` and ``ρ_j``) from
  :mod:`secrets`.

:meth:`MultiRangeBatch.verify` checks all deferred equations of the batch as ONE product

    h^(-Σρ·s) · g^(-Σρ·j·c - Σρ'·s) · Π a_j^ρ' · Π α^(Σρ'·c) · Π b_j^ρ · Π β^(Σρ·c) = 1

(one ``multi_exp`` over every ``a_j``, ``b_j``, ``α`` and ``β`` of the batch; a contest's
limit proof enters through its selections' ``α`` and ``β``, whose product is its
ciphertext). A false equation makes it fail except with probability at most 2^-127 per
false item (small-exponent batch verification with odd 128-bit weights in a group of prime
order). When it fails, the batch is bisected — each half re-checked with the same weights,
only failing halves split again — until single items remain, and each remaining item's
proofs are verified one by one with :func:`~verivote.proofs.range.verify_range`, so the
failure is named exactly as the one-ballot verifier names it. One false item among ``n``
costs about ``2n`` more terms.

Every point given must be a validated :class:`~verivote.groups.base.Element` (commitments
still unchecked are validated by :func:`_validated`, free when already established):
``ristretto255``'s decoding admits only group elements; on ``modp4096``, whose
``multi_exp`` validates nothing, the caller
(:func:`~verivote.election.ballot_batch.check_ballots`) establishes every element's
subgroup membership first with one batched test (``validate_batch``).
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from verivote.elgamal import Ciphertext
from verivote.errors import InvalidProof, ParameterError
from verivote.groups.base import Element, Group, Scalar
from verivote.groups.unchecked import UncheckedElement
from verivote.proofs.range import RangeProof, _check_challenge, _check_shape, verify_range

WEIGHT_BITS = 128


class MultiExpGroup(Protocol):
    """A group offering a multi-scalar multiplication (see ``Ristretto255Group``)."""

    def multi_exp(self, elements: Sequence[Element], scalars: Sequence[Scalar | int]) -> Element:
        """The product of ``elements[i] ** scalars[i]``."""


@dataclass
class _Check:
    where: str
    ct: Ciphertext
    proof: RangeProof
    limit: int
    context: bytes


@dataclass
class _Item:
    """One caller-named item (a ballot): its proofs and its share of the batch equation."""

    key: Hashable
    checks: list[_Check] = field(default_factory=list)
    h: int = 0
    """Σ ρ·s over the item's branches."""
    g: int = 0
    """Σ -ρ·j·c over the item's branches."""
    terms: dict[bytes, tuple[Element, int]] = field(default_factory=dict)
    """Point encoding -> (point, weight): every b_j and β, merged when repeated."""


@dataclass(frozen=True)
class Failure:
    """A failed item: its key, which proof (the caller's ``where``) and the error."""

    key: Hashable
    where: str
    error: InvalidProof


def _validated(point: Element | UncheckedElement) -> Element:
    """A commitment as a validated element: free when its decoding already validated it
    (strict decoding, or ristretto255, whose encoding admits only subgroup elements), a
    full subgroup check otherwise — the batch's multi-exponentiation validates nothing."""
    return point.checked() if isinstance(point, UncheckedElement) else point


def _multi_exp(group: Group, elements: Sequence[Element], scalars: Sequence[int]) -> Element:
    fn = getattr(group, "multi_exp", None)
    if fn is None:  # pragma: no cover - the constructor refuses such groups
        raise ParameterError(f"{group.name} has no multi_exp")
    result: Element = fn(elements, scalars)
    return result


T = TypeVar("T")


def bisect_failures(
    holds: Callable[[Sequence[T]], bool], items: Sequence[T], bad: list[T], known_bad: bool
) -> None:
    """Append to ``bad`` the items of ``items`` that fail alone, where ``holds(subset)``
    says whether a subset's batch equation holds: the whole (unless ``known_bad``), then
    halves, only failing halves split again. When the left half holds the right one must
    fail (its parent failed), so it is split without being checked again."""
    if not known_bad and holds(items):
        return
    if len(items) == 1:
        bad.append(items[0])
        return
    mid = len(items) // 2
    left, right = items[:mid], items[mid:]
    left_ok = holds(left)
    if not left_ok:
        bisect_failures(holds, left, bad, known_bad=True)
    bisect_failures(holds, right, bad, known_bad=left_ok)


class MultiRangeBatch:
    """Range proofs of many items (ballots) under one public key, checked with one MSM."""

    def __init__(self, public_key: Element) -> None:
        group = public_key.group
        if not callable(getattr(group, "multi_exp", None)):
            raise ParameterError(f"{group.name} has no multi-scalar multiplication")
        self.public_key = public_key
        self.group = group
        self.order = group.order
        self.items: dict[Hashable, _Item] = {}

    def __len__(self) -> int:
        return len(self.items)

    def add(
        self,
        key: Hashable,
        where: str,
        ct: Ciphertext,
        proof: RangeProof,
        limit: int,
        context: bytes,
        parts: Sequence[Ciphertext] | None = None,
    ) -> None:
        """Check ``proof``'s size and challenge now (hashed from its published ``a_j, b_j``;
        InvalidProof with ``verify_range``'s message on failure) and defer all its
        equations under item ``key``. Several proofs may share a key (one ballot's
        selections and limit proofs). ``parts``: ciphertexts whose product is ``ct`` (a
        contest total), whose ``α`` and ``β`` enter the equation instead of its own."""
        _check_shape(proof, limit)
        _check_challenge(self.public_key, ct, proof, limit, context)
        q = self.order
        item = self.items.get(key)
        if item is None:
            item = self.items[key] = _Item(key)
        item.checks.append(_Check(where, ct, proof, limit, context))
        beta = alpha = 0
        for j in range(limit + 1):
            rho = secrets.randbits(WEIGHT_BITS) | 1
            rho_a = secrets.randbits(WEIGHT_BITS) | 1
            c = proof.challenges[j].value
            s = proof.responses[j].value
            # b_j^ρ · (β/g^j)^(ρ·c_j) · h^(-ρ·s_j) = 1
            item.h = (item.h + rho * s) % q
            item.g = (item.g - rho * j * c) % q
            _merge(item.terms, _validated(proof.commitments[j]), rho, q)
            beta = (beta + rho * c) % q
            # a_j^ρ' · α^(ρ'·c_j) · g^(-ρ'·s_j) = 1
            _merge(item.terms, _validated(proof.a_commitments[j]), rho_a, q)
            alpha = (alpha + rho_a * c) % q
            item.g = (item.g - rho_a * s) % q
        for part in parts if parts is not None else (ct,):
            _merge(item.terms, part.beta, beta, q)
            _merge(item.terms, part.alpha, alpha, q)

    def discard(self, key: Hashable) -> None:
        """Forget item ``key`` (a ballot found bad before :meth:`verify`)."""
        self.items.pop(key, None)

    def _holds(self, items: Sequence[_Item]) -> bool:
        q = self.order
        elements: list[Element] = [self.public_key, self.group.generator]
        scalars: list[int] = [-sum(i.h for i in items) % q, sum(i.g for i in items) % q]
        for item in items:
            for element, weight in item.terms.values():
                elements.append(element)
                scalars.append(weight)
        return _multi_exp(self.group, elements, scalars).is_identity()

    def verify(self, *, name: bool = True) -> list[Failure]:
        """Check every deferred equation; return the failed items (empty when all hold), in
        the order they were added. With ``name`` each failure carries the first of its
        item's proofs that :func:`verify_range` rejects and that error (an item whose
        proofs all pass one by one although its batched equation failed — it cannot happen
        with honest arithmetic — gets a generic error); without it, only the key (for a
        caller that names failures its own way)."""
        items = list(self.items.values())
        if not items:
            return []
        bad: list[_Item] = []
        bisect_failures(self._holds, items, bad, known_bad=False)
        if not name:
            unnamed = InvalidProof("the batched range equations fail")
            return [Failure(item.key, "", unnamed) for item in bad]
        return [self._name(item) for item in bad]

    def _name(self, item: _Item) -> Failure:
        for check in item.checks:
            try:
                verify_range(self.public_key, check.ct, check.proof, check.limit, check.context)
            except InvalidProof as exc:
                return Failure(item.key, check.where, exc)
        return Failure(
            item.key,
            item.checks[0].where,
            InvalidProof("the batched range equations fail although each proof holds"),
        )


def _merge(terms: dict[bytes, tuple[Element, int]], element: Element, weight: int, q: int) -> None:
    key = element.to_bytes()
    known = terms.get(key)
    terms[key] = (element, weight if known is None else (known[1] + weight) % q)
