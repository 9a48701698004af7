"""Ties: the most recent stage at which the tied candidates differed, then a reproducible lot.

Candidates tied at the end of stage k are compared at stage k-1, then k-2, … down to
stage 1; the first stage (going back) at which their votes were not all equal orders them
by their votes at that stage, and candidates still equal there are compared further back
in the same way (comparing the tuples of votes from the latest stage back, as words are
sorted). Candidates equal at every stage are ordered by lot: by ascending
:func:`lot_digest`, which depends only on the caller's seed, the stage number and the name,
so anyone holding the seed redraws the same lot.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from verivote.count.report import Lot
from verivote.encoding import frame
from verivote.errors import ParameterError

LOT_DOMAIN = b"verivote/count/lot/v1"


def check_seed(seed: object) -> bytes:
    """``seed`` if it is ``bytes``; anything else is a :class:`ParameterError` (a text or
    hex string would draw different lots from the same-looking seed)."""
    if not isinstance(seed, bytes):
        raise ParameterError(f"the seed of the lots must be bytes, not {type(seed).__name__}")
    return seed


def lot_digest(seed: bytes, stage: int, name: str) -> bytes:
    """SHA-256 of the length-prefixed fields (:func:`verivote.encoding.frame`):
    ``"verivote/count/lot/v1"``, the seed, the stage as 4 big-endian bytes and the name in
    UTF-8. The lot orders tied candidates by ascending digest."""
    return hashlib.sha256(frame(LOT_DOMAIN, seed, stage.to_bytes(4, "big"), name.encode())).digest()


def rank(
    candidates: Sequence[int],
    history: Sequence[Sequence[int]],
    *,
    highest: bool,
    need: int,
    names: Sequence[str],
    seed: bytes,
    purpose: str,
    lots: list[Lot],
) -> list[int]:
    """``candidates`` ordered by their votes at the last stage of ``history`` (highest or
    lowest first), ties broken by earlier stages (most recent first), then by index or lot.

    The first ``need`` places are the ones that decide something (1 for an exclusion or a
    surplus, the seats for plurality). A lot is drawn — and appended to ``lots`` — only for
    a group tied at every stage that straddles place ``need``, so the lot decides which of
    them fall within it; any other group tied at every stage stays in index order, which
    then decides nothing."""
    sign = -1 if highest else 1

    def past(c: int) -> tuple[int, ...]:
        return tuple(sign * votes[c] for votes in reversed(history))

    ordered = sorted(candidates, key=lambda c: (past(c), c))
    out: list[int] = []
    i = 0
    while i < len(ordered):
        j = i + 1
        while j < len(ordered) and past(ordered[j]) == past(ordered[i]):
            j += 1
        group = ordered[i:j]
        if i < need < j:
            stage = len(history)
            drawn = sorted(group, key=lambda c: lot_digest(seed, stage, names[c]))
            lots.append(Lot(stage, purpose, tuple(group), tuple(drawn)))
            group = drawn
        out += group
        i = j
    return out
