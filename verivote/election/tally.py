"""The homomorphic tally, overall and broken down by elector category.

Every counted ballot holds, for each contest in manifest order, one exponential ElGamal
ciphertext per candidate encrypting 0 or 1. The ballot's elector belongs to exactly one
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

from verivote.election.manifest import Manifest
from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError, ParameterError, ProtocolError
from verivote.groups.base import Group
from verivote.proofs.codec import expect_keys

OVERALL = "overall"


def group_label(categories: Sequence[str]) -> str:
    """A breakdown group's name in messages and tables: its categories joined by ``+``."""
    return "+".join(categories)


def _publishable(ballots: int, classes: Mapping[int, int] | None, min_size: int) -> bool:
    """Whether a group's weighted counts may be published: at least ``min_size`` ballots,
    and every weight class among them holds none or at least ``min_size`` ballots."""
    if ballots < min_size:
        return False
    return classes is None or all(n == 0 or n >= min_size for n in classes.values())


def breakdown_groups(
    ballots_per_category: Mapping[str, int],
    categories: Sequence[str],
    min_size: int,
    weight_classes: Mapping[str, Mapping[int, int]] | None = None,
) -> tuple[tuple[str, ...], ...]:
    """Group the categories so that no published breakdown reveals fewer than
    ``min_size`` ballots.

    ``weight_classes`` gives, per category, the number of counted ballots of each weight
    (a weight class). A group is *publishable* when it holds at least ``min_size``
    ballots and each of its weight classes holds either no ballot or at least
    ``min_size`` ballots (without ``weight_classes`` only the first condition applies).

    Start with every category as its own group, in manifest order. While some group is
    not publishable and more than one group remains, merge the unpublishable group with
    the fewest ballots (ties: the earlier one) with the smallest other group (ties
    likewise); the merged group takes the position of the earlier of the two and lists
    its categories in manifest order. If a single group remains it holds every category
    and its breakdown equals the overall tally.

    Why weight classes: the published counts are weighted, and the roll links every
    credential to its category and weight, while the board shows which credentials
    voted. A group's count for a candidate is ``Σ_w w·c_w``, where ``c_w`` is the number
    of its ballots of weight ``w`` for that candidate; with varied weights that sum often
    has one solution and reveals every ``c_w`` — ten ballots of random weights reveal all
    ten votes. When every class of the group holds at least ``min_size`` ballots, each
    ``c_w`` it can reveal counts at least ``min_size`` ballots, as the unweighted rule
    intends.

    Why merge rather than simply withhold a small group: the overall tally is always
    published, so a withheld group's counts are the overall counts minus the sum of the
    published ones — withholding hides nothing. Because the groups partition the categories
    and each is publishable (unless there is only one), every count that can be derived
    from the published figures — a group, a union of groups, or the difference between
    the overall total and some groups — covers, in each weight class, no ballot or at
    least ``min_size`` ballots.

    The rule depends only on public facts (who voted, their categories and weights), so
    the verifier recomputes it. Categories absent from ``ballots_per_category`` count as
    0. Raises :class:`ParameterError` for an empty or repeating ``categories``, a count
    for an unknown category, a negative count or ``min_size < 1``.
    """
    if min_size < 1:
        raise ParameterError("min_size must be at least 1")
    if not categories or len(set(categories)) != len(categories):
        raise ParameterError("categories must be non-empty and distinct")
    unknown = sorted(set(ballots_per_category) - set(categories))
    if unknown:
        raise ParameterError(f"ballot counts for unknown categories {unknown}")
    rank = {c: i for i, c in enumerate(categories)}
    groups: list[tuple[list[str], int, dict[int, int] | None]] = []
    for cat in categories:
        n = ballots_per_category.get(cat, 0)
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise ParameterError(f"category {cat}: ballot count must be a non-negative integer")
        classes = None if weight_classes is None else dict(weight_classes.get(cat, {}))
        groups.append(([cat], n, classes))

    def bad(i: int) -> bool:
        return not _publishable(groups[i][1], groups[i][2], min_size)

    while len(groups) > 1 and any(bad(i) for i in range(len(groups))):
        # Groups stay in manifest order of their first category, so the list position
        # breaks ties as "the earlier in manifest order".
        by_size = sorted(range(len(groups)), key=lambda i: (groups[i][1], i))
        first = next(i for i in by_size if bad(i))
        second = next(i for i in by_size if i != first)
        a, b = sorted((first, second))
        (cats_a, n_a, cls_a), (cats_b, n_b, cls_b) = groups[a], groups[b]
        merged = sorted(cats_a + cats_b, key=rank.__getitem__)
        classes = None
        if cls_a is not None and cls_b is not None:
            classes = dict(cls_a)
            for w, n in cls_b.items():
                classes[w] = classes.get(w, 0) + n
        groups[a] = (merged, n_a + n_b, classes)
        del groups[b]
    return tuple(tuple(cats) for cats, _, _ in groups)


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
        if not isinstance(raw, list) or len(raw) != len(manifest.contests):
            raise DecodeError(f"tally: expected a list of {len(manifest.contests)} contests")
        group = manifest.group
        contests = []
        for contest, co in zip(manifest.contests, raw, strict=True):
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
        self._sizes = tuple(len(c.candidates) for c in manifest.contests)
        zero = Ciphertext.zero(self._group)
        width = sum(self._sizes)
        self._products: dict[str, list[Ciphertext]] = {
            cat: [zero] * width for cat in manifest.categories
        }
        self._counts = dict.fromkeys(manifest.categories, 0)
        self._weights = dict.fromkeys(manifest.categories, 0)
        self._classes: dict[str, dict[int, int]] = {cat: {} for cat in manifest.categories}

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
        if len(selections) != len(self._sizes):
            raise ParameterError(f"expected selections for {len(self._sizes)} contests")
        flat: list[Ciphertext] = []
        for contest, sels, size in zip(
            self.manifest.contests, selections, self._sizes, strict=True
        ):
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
        acc = self._products[category]
        self._products[category] = [a * c for a, c in zip(acc, flat, strict=True)]
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
        acc = self._products[category]
        self._products[category] = [
            Ciphertext(a.alpha / c.alpha, a.beta / c.beta) for a, c in zip(acc, flat, strict=True)
        ]
        self._counts[category] -= 1
        self._weights[category] -= weight
        self._count_class(category, weight, -1)

    def merge(self, other: TallyAccumulator) -> None:
        """Add every ballot ``other`` includes (a partial accumulator from a worker).
        Raises :class:`ParameterError` if ``other`` is for another election."""
        if other.manifest.fingerprint != self.manifest.fingerprint:
            raise ParameterError("cannot merge accumulators of different elections")
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
        for contest, size in zip(m.contests, self._sizes, strict=True):
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
    for contest, g_c, e_c in zip(manifest.contests, got.contests, expected.contests, strict=True):
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
    for contest, ct in zip(manifest.contests, tally.contests, strict=True):
        labels = [OVERALL] + [f"group {group_label(g.categories)}" for g in ct.groups]
        for label in labels:
            out.extend(
                f"contest {contest.id}, {label}, candidate {c.id}" for c in contest.candidates
            )
    return out
