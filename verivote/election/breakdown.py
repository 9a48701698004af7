"""Breakdown groups: which categories' weighted counts the tally may publish apart.

The rule is :func:`breakdown_groups`; :mod:`verivote.election.tally` applies it. It depends
only on public facts — how many counted ballots each category holds, and of which weights
— so the verifier recomputes it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from verivote.errors import ParameterError


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
