"""The homomorphic tally, overall and broken down by elector category.

Every counted ballot holds, for each contest in manifest order (ranked contests apart:
they are mixed, not tallied, and :attr:`Manifest.tallied` leaves them out), one exponential
ElGamal ciphertext per candidate encrypting 0 or 1. The ballot's elector belongs to exactly one
category of :attr:`Manifest.categories` and carries an integer weight ``w >= 1``; the ballot
contributes ``ct ** w`` for each of its ciphertexts. The product of the contributions
encrypts each candidate's weighted count.

:class:`TallyAccumulator` keeps one running product per category and candidate — never a
list of ballots — so a ballot can be added, divided out again when a re-vote supersedes it
or its credential is revoked, and partial accumulators from worker processes merged.
:meth:`TallyAccumulator.finish` gives the :class:`EncryptedTally` the organiser posts: the
overall ciphertexts and one set per *breakdown group* of categories
(:func:`breakdown_groups`), which the trustees then decrypt. :func:`check_tally` is the
verifier's side: the posted body must equal the tally recomputed from the counted ballots.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from verivote.election.breakdown import breakdown_groups
from verivote.election.manifest import Manifest
from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError, ParameterError, ProtocolError
from verivote.groups.base import Element, Group
from verivote.proofs.codec import expect_keys

OVERALL = "overall"
_PENDING_MAX = 4096
"""Contributions of one category kept before they are multiplied in (bounded memory)."""


def group_label(categories: Sequence[str]) -> str:
    """A breakdown group's name in messages and tables: its categories joined by ``+``."""
    return "+".join(categories)


@dataclass(frozen=True, slots=True)
class GroupTally:
    """One breakdown group of a contest: its categories and one ciphertext per candidate."""

    categories: tuple[str, ...]
    ciphertexts: tuple[Ciphertext, ...]


@dataclass(frozen=True, slots=True)
class ContestTally:
    """One contest: the overall ciphertexts (one per candidate) and the breakdown groups."""

    id: str
    overall: tuple[Ciphertext, ...]
    groups: tuple[GroupTally, ...]


@dataclass(frozen=True)
class EncryptedTally:
    """The encrypted tally: per contest, overall and per breakdown group; the number of
    ballots and their total weight per category; the number of counted ballots.

    One canonical JSON form (:meth:`to_dict`); :meth:`ciphertexts` fixes the flat order in
    which trustees decrypt."""

    contests: tuple[ContestTally, ...]
    ballots: Mapping[str, int] = field(hash=False)
    weights: Mapping[str, int] = field(hash=False)
    counted: int

    @property
    def groups(self) -> tuple[tuple[str, ...], ...]:
        """The breakdown groups (the same for every contest)."""
        return tuple(g.categories for g in self.contests[0].groups) if self.contests else ()

    @property
    def total_weight(self) -> int:
        """Sum of the weights of the counted ballots: the largest possible count."""
        return sum(self.weights.values())

    def ciphertexts(self) -> list[Ciphertext]:
        """Every ciphertext in the fixed flat order used by decryption: contest by contest,
        the overall candidates, then each group's candidates."""
        out: list[Ciphertext] = []
        for contest in self.contests:
            out.extend(contest.overall)
            for grp in contest.groups:
                out.extend(grp.ciphertexts)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the body of the ``tally`` entry)."""
        return {
            "contests": [
                {
                    "id": c.id,
                    "overall": [ct.to_dict() for ct in c.overall],
                    "groups": [
                        {
                            "categories": list(g.categories),
                            "ciphertexts": [ct.to_dict() for ct in g.ciphertexts],
                        }
                        for g in c.groups
                    ],
                }
                for c in self.contests
            ],
            "ballots": dict(self.ballots),
            "weights": dict(self.weights),
            "counted": self.counted,
        }

    @classmethod
    def from_dict(cls, manifest: Manifest, obj: Any) -> EncryptedTally:
        """Strictly decode the JSON form against ``manifest``: exact keys, one entry per
        contest in manifest order with one ciphertext per candidate (every element
        validated), groups naming manifest categories, non-negative integer counts per
        manifest category and ``counted`` equal to their sum. Raises :class:`DecodeError`.
        Whether the grouping follows :func:`breakdown_groups` is :func:`check_tally`'s job."""
        expect_keys(obj, ("contests", "ballots", "weights", "counted"), "tally")
        ballots = _count_map(obj["ballots"], manifest.categories, "tally ballots")
        weights = _count_map(obj["weights"], manifest.categories, "tally weights")
        counted = _count(obj["counted"], "tally counted")
        if counted != sum(ballots.values()):
            raise DecodeError("tally: counted is not the sum of the ballots per category")
        raw = obj["contests"]
        if not isinstance(raw, list) or len(raw) != len(manifest.tallied):
            raise DecodeError(f"tally: expected a list of {len(manifest.tallied)} contests")
        group = manifest.group
        contests = []
        for contest, co in zip(manifest.tallied, raw, strict=True):
            where = f"tally contest {contest.id}"
            expect_keys(co, ("id", "overall", "groups"), where)
            if co["id"] != contest.id:
                raise DecodeError(f"tally: contest {co['id']!r} where {contest.id!r} was due")
            n = len(contest.candidates)
            overall = _ciphertexts(group, co["overall"], n, f"{where} overall")
            if not isinstance(co["groups"], list) or not co["groups"]:
                raise DecodeError(f"{where}: groups must be a non-empty list")
            groups = []
            for go in co["groups"]:
                expect_keys(go, ("categories", "ciphertexts"), f"{where} group")
                cats = _categories(go["categories"], manifest.categories, f"{where} group")
                cts = _ciphertexts(group, go["ciphertexts"], n, f"{where} group")
                groups.append(GroupTally(cats, cts))
            contests.append(ContestTally(contest.id, overall, tuple(groups)))
        return cls(tuple(contests), ballots, weights, counted)


def _count(value: Any, what: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise DecodeError(f"{what}: expected a non-negative integer, got {value!r}")
    return value


def _count_map(obj: Any, categories: Sequence[str], what: str) -> dict[str, int]:
    expect_keys(obj, categories, what)
    return {cat: _count(obj[cat], f"{what} {cat}") for cat in categories}


def _categories(obj: Any, known: Sequence[str], what: str) -> tuple[str, ...]:
    if not isinstance(obj, list) or not obj:
        raise DecodeError(f"{what}: categories must be a non-empty list")
    for cat in obj:
        if not isinstance(cat, str) or cat not in known:
            raise DecodeError(f"{what}: {cat!r} is not a category of the election")
    return tuple(obj)


def _ciphertexts(group: Group, obj: Any, n: int, what: str) -> tuple[Ciphertext, ...]:
    if not isinstance(obj, list) or len(obj) != n:
        raise DecodeError(f"{what}: expected a list of {n} ciphertexts")
    return tuple(Ciphertext.from_dict(group, ct) for ct in obj)


class TallyAccumulator:
    """Running per-category products of weighted ballot ciphertexts for one manifest.

    Works for either group; memory is one ciphertext per category and candidate, whatever
    the number of ballots."""

    def __init__(self, manifest: Manifest) -> None:
        self.manifest = manifest
        self._group = manifest.group
        self._sizes = tuple(len(c.candidates) for c in manifest.tallied)
        zero = Ciphertext.zero(self._group)
        width = sum(self._sizes)
        self._products: dict[str, list[Ciphertext]] = {
            cat: [zero] * width for cat in manifest.categories
        }
        self._counts = dict.fromkeys(manifest.categories, 0)
        self._weights = dict.fromkeys(manifest.categories, 0)
        self._classes: dict[str, dict[int, int]] = {cat: {} for cat in manifest.categories}
        # Contributions added but not yet multiplied in: one product per position for many
        # ballots at once (Group.product, one backend call) instead of one per ballot.
        self._pending: dict[str, list[list[Ciphertext]]] = {}

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (a worker's partial tally) with its pending contributions multiplied in."""
        self._flush()
        return self.__dict__

    def _flush(self) -> None:
        """Multiply the pending contributions into the running products (the same products
        as multiplying them in one at a time)."""
        if not self._pending:
            return
        group = self._group
        product = group._product  # every element was checked to be of this group by add()
        for cat, flats in self._pending.items():
            acc = self._products[cat]
            self._products[cat] = [
                Ciphertext(
                    Element(group, product([a.alpha.value] + [f[p].alpha.value for f in flats])),
                    Element(group, product([a.beta.value] + [f[p].beta.value for f in flats])),
                )
                for p, a in enumerate(acc)
            ]
        self._pending = {}

    @property
    def counts(self) -> dict[str, int]:
        """Number of ballots per category currently included (a copy)."""
        return dict(self._counts)

    @property
    def weights(self) -> dict[str, int]:
        """Total weight per category currently included (a copy)."""
        return dict(self._weights)

    @property
    def weight_classes(self) -> dict[str, dict[int, int]]:
        """Per category, the number of ballots included of each weight (a copy; weights
        with no ballot left are omitted)."""
        return {cat: {w: n for w, n in cls.items() if n} for cat, cls in self._classes.items()}

    def _count_class(self, category: str, weight: int, delta: int) -> None:
        classes = self._classes[category]
        classes[weight] = classes.get(weight, 0) + delta

    def _contribution(
        self, category: str, weight: int, selections: Sequence[Sequence[Ciphertext]]
    ) -> list[Ciphertext]:
        if category not in self._products:
            raise ParameterError(f"unknown category {category!r}")
        if not isinstance(weight, int) or isinstance(weight, bool) or weight < 1:
            raise ParameterError(f"weight must be an integer >= 1, got {weight!r}")
        if len(selections) == len(self.manifest.contests) != len(self._sizes):
            # a ballot's ranked contests are mixed, never tallied
            pairs = zip(self.manifest.contests, selections, strict=True)
            selections = [s for c, s in pairs if not c.ranked]
        if len(selections) != len(self._sizes):
            raise ParameterError(f"expected selections for {len(self._sizes)} contests")
        flat: list[Ciphertext] = []
        for contest, sels, size in zip(self.manifest.tallied, selections, self._sizes, strict=True):
            if len(sels) != size:
                raise ParameterError(f"contest {contest.id}: expected {size} ciphertexts")
            for ct in sels:
                if ct.alpha.group is not self._group or ct.beta.group is not self._group:
                    raise ParameterError(f"contest {contest.id}: ciphertext of another group")
            flat.extend(sels if weight == 1 else [ct**weight for ct in sels])
        return flat

    def add(self, category: str, weight: int, selections: Sequence[Sequence[Ciphertext]]) -> None:
        """Include one ballot: ``selections[i][j]`` is contest ``i``'s candidate ``j``.

        Raises :class:`ParameterError` (changing nothing) for an unknown category, a weight
        below 1, the wrong number of contests or candidates, or a ciphertext of another
        group."""
        flat = self._contribution(category, weight, selections)
        pending = self._pending.setdefault(category, [])
        pending.append(flat)
        if len(pending) >= _PENDING_MAX:
            self._flush()
        self._counts[category] += 1
        self._weights[category] += weight
        self._count_class(category, weight, 1)

    def remove(
        self, category: str, weight: int, selections: Sequence[Sequence[Ciphertext]]
    ) -> None:
        """Divide out a ballot previously added with the same category, weight and
        selections (superseded by a re-vote, or its credential revoked).

        Raises :class:`ParameterError` as :meth:`add` does, and when the category holds no
        ballot or too little weight to remove; the accumulator cannot tell whether these
        exact selections were added — the caller must only remove what it added."""
        flat = self._contribution(category, weight, selections)
        if self._classes[category].get(weight, 0) < 1:
            raise ParameterError(f"category {category!r}: nothing to remove of weight {weight}")
        self._flush()
        acc = self._products[category]
        self._products[category] = [
            Ciphertext(a.alpha / c.alpha, a.beta / c.beta) for a, c in zip(acc, flat, strict=True)
        ]
        self._counts[category] -= 1
        self._weights[category] -= weight
        self._count_class(category, weight, -1)

    def parts(
        self,
    ) -> tuple[
        dict[str, list[Ciphertext]], dict[str, int], dict[str, int], dict[str, dict[int, int]]
    ]:
        """Copies of the running products, counts, weights and weight classes (with the
        classes emptied again), for a snapshot; :meth:`restore` takes them back."""
        self._flush()
        return (
            {c: list(p) for c, p in self._products.items()},
            dict(self._counts),
            dict(self._weights),
            {c: dict(cls) for c, cls in self._classes.items()},
        )

    def restore(
        self,
        products: Mapping[str, Sequence[Ciphertext]],
        counts: Mapping[str, int],
        weights: Mapping[str, int],
        classes: Mapping[str, Mapping[int, int]],
    ) -> None:
        """Take back what :meth:`parts` gave. Raises ParameterError (changing nothing)
        unless there is one product per candidate for each of the manifest's categories."""
        width = sum(self._sizes)
        cats = set(self.manifest.categories)
        if not set(products) == set(counts) == set(weights) == set(classes) == cats:
            raise ParameterError("an accumulator's parts name other categories")
        if any(len(p) != width for p in products.values()):
            raise ParameterError(f"an accumulator holds {width} products per category")
        self._pending = {}
        self._products = {c: list(products[c]) for c in self.manifest.categories}
        self._counts = {c: counts[c] for c in self.manifest.categories}
        self._weights = {c: weights[c] for c in self.manifest.categories}
        self._classes = {c: dict(classes[c]) for c in self.manifest.categories}

    def merge(self, other: TallyAccumulator) -> None:
        """Add every ballot ``other`` includes (a partial accumulator from a worker).
        Raises :class:`ParameterError` if ``other`` is for another election."""
        if other.manifest.fingerprint != self.manifest.fingerprint:
            raise ParameterError("cannot merge accumulators of different elections")
        self._flush()
        other._flush()
        for cat, theirs in other._products.items():
            self._products[cat] = [a * b for a, b in zip(self._products[cat], theirs, strict=True)]
            self._counts[cat] += other._counts[cat]
            self._weights[cat] += other._weights[cat]
            for w, n in other._classes[cat].items():
                self._count_class(cat, w, n)

    def finish(self) -> EncryptedTally:
        """The encrypted tally of the ballots included now: overall products and one product
        per breakdown group (``manifest.min_category_size``, the ballot counts and their
        weight classes decide the groups). The accumulator is left unchanged."""
        self._flush()
        m = self.manifest
        groups = breakdown_groups(
            self._counts, m.categories, m.min_category_size, self.weight_classes
        )
        zero = Ciphertext.zero(self._group)

        def total(cats: Sequence[str], pos: int) -> Ciphertext:
            out = zero
            for cat in cats:
                out = out * self._products[cat][pos]
            return out

        contests = []
        start = 0
        for contest, size in zip(m.tallied, self._sizes, strict=True):
            positions = range(start, start + size)
            overall = tuple(total(m.categories, p) for p in positions)
            parts = tuple(GroupTally(g, tuple(total(g, p) for p in positions)) for g in groups)
            contests.append(ContestTally(contest.id, overall, parts))
            start += size
        return EncryptedTally(
            tuple(contests), dict(self._counts), dict(self._weights), sum(self._counts.values())
        )


def check_tally(body: Any, manifest: Manifest, expected: EncryptedTally) -> EncryptedTally:
    """Decode the posted tally ``body`` and require it to equal ``expected`` (the tally
    recomputed from the counted ballots); return the decoded tally.

    Raises :class:`DecodeError` for a malformed body and :class:`ProtocolError` naming the
    first difference: a category's ballot count or weight, the number counted, a contest's
    grouping, or the contest / group / candidate whose ciphertext differs."""
    got = EncryptedTally.from_dict(manifest, body)
    for cat in manifest.categories:
        if got.ballots[cat] != expected.ballots[cat]:
            raise ProtocolError(
                f"tally: category {cat} has {got.ballots[cat]} ballots, "
                f"the counted ballots give {expected.ballots[cat]}"
            )
        if got.weights[cat] != expected.weights[cat]:
            raise ProtocolError(
                f"tally: category {cat} has weight {got.weights[cat]}, "
                f"the counted ballots give {expected.weights[cat]}"
            )
    if got.counted != expected.counted:
        raise ProtocolError(f"tally: counted {got.counted}, expected {expected.counted}")
    for contest, g_c, e_c in zip(manifest.tallied, got.contests, expected.contests, strict=True):
        got_groups = [g.categories for g in g_c.groups]
        want_groups = [g.categories for g in e_c.groups]
        if got_groups != want_groups:
            raise ProtocolError(
                f"tally contest {contest.id}: breakdown groups {got_groups} differ from "
                f"{want_groups} (recomputed from the ballot counts)"
            )
        rows = [(OVERALL, g_c.overall, e_c.overall)] + [
            (f"group {group_label(g.categories)}", g.ciphertexts, e.ciphertexts)
            for g, e in zip(g_c.groups, e_c.groups, strict=True)
        ]
        for where, got_cts, want_cts in rows:
            for cand, a, b in zip(contest.candidates, got_cts, want_cts, strict=True):
                if a != b:
                    raise ProtocolError(
                        f"tally contest {contest.id}, {where}, candidate {cand.id}: ciphertext "
                        "differs from the product of the counted ballots"
                    )
    return got


def positions(manifest: Manifest, tally: EncryptedTally) -> list[str]:
    """A description of each position of :meth:`EncryptedTally.ciphertexts`, e.g.
    ``"contest leader, group members+affiliated, candidate alice"``, for error messages."""
    out: list[str] = []
    for contest, ct in zip(manifest.tallied, tally.contests, strict=True):
        labels = [OVERALL] + [f"group {group_label(g.categories)}" for g in ct.groups]
        for label in labels:
            out.extend(
                f"contest {contest.id}, {label}, candidate {c.id}" for c in contest.candidates
            )
    return out
