"""The BLT format of preference profiles, read strictly.

```
11 4                    candidates, seats
-3 -7                   optional: withdrawn candidates (1-based), each negated
369 1 0                 weight, then preferences (1-based), then 0
2 1 10 7 0
0                       end of ballots
"Shaukat Butt"          one quoted name per candidate, in order (several may share a line)
…
"GOVAN Ward"            the title (optional)
```

Blank lines are ignored. Names are normalised (:func:`~verivote.count.profile.
normalise_name`). A ballot line with only a weight (``5 0``) counts as ``empty`` invalid
ballots. Everything else that does not fit — a weight that is not a positive integer, a
preference out of range or repeated, equal preferences (``2=3``), ballot identifiers, a
missing ``0``, too few or too many names, two names equal once normalised, text that is
not a quoted string — is a :class:`BltError` naming the line and the reason.
"""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from verivote.count.profile import EMPTY, Profile, Ranking, build_profile, normalise_name
from verivote.errors import DecodeError

_INT = re.compile(r"[+-]?[0-9]+")
_QUOTED = re.compile(r'\s*"([^"]*)"\s*')


class BltError(DecodeError):
    """A BLT file that does not parse; ``line`` is 1-based (0: the file as a whole)."""

    def __init__(self, line: int, reason: str) -> None:
        super().__init__(f"line {line}: {reason}" if line else reason)
        self.line = line
        self.reason = reason


def _ints(line: int, text: str, what: str) -> list[int]:
    out = []
    for token in text.split():
        if "=" in token:
            raise BltError(line, f"equal preferences ({token!r}) are not supported")
        if token.startswith("("):
            raise BltError(line, "ballot identifiers are not supported")
        if not _INT.fullmatch(token):
            raise BltError(line, f"{what}: {token!r} is not an integer")
        out.append(int(token))
    return out


def _ballot(line: int, numbers: list[int], candidates: int) -> tuple[Ranking, int]:
    weight, *rest = numbers
    if weight < 1:
        raise BltError(line, f"ballot weight {weight} is not a positive integer")
    if not rest or rest[-1] != 0:
        raise BltError(line, "a ballot line must end with 0")
    prefs = rest[:-1]
    seen: set[int] = set()
    for p in prefs:
        if p == 0:
            raise BltError(line, "0 in the middle of a ballot")
        if not 1 <= p <= candidates:
            raise BltError(line, f"preference {p} is not a candidate (1..{candidates})")
        if p in seen:
            raise BltError(line, f"candidate {p} is ranked twice")
        seen.add(p)
    return tuple(p - 1 for p in prefs), weight


def parse_blt(text: str) -> Profile:
    """The :class:`~verivote.count.profile.Profile` a BLT text describes (candidates
    0-based in file order; the seats and title kept). Raises :class:`BltError`."""
    lines = [(i, raw.strip()) for i, raw in enumerate(text.splitlines(), start=1)]
    body = [(i, s) for i, s in lines if s]
    if not body:
        raise BltError(0, "the file is empty")
    pos = 0
    line, head = body[pos]
    header = _ints(line, head, "header")
    if len(header) != 2:
        raise BltError(line, "the first line must be: number of candidates, number of seats")
    candidates, seats = header
    if candidates < 1:
        raise BltError(line, f"{candidates} candidates: there must be at least one")
    if not 1 <= seats <= candidates:
        raise BltError(line, f"{seats} seats for {candidates} candidates")
    pos += 1
    withdrawn: list[int] = []
    if pos < len(body) and body[pos][1].startswith("-"):
        line, text_ = body[pos]
        for w in _ints(line, text_, "withdrawn candidate"):
            if not -candidates <= w <= -1:
                raise BltError(
                    line, f"withdrawn {w} is not a negated candidate (-1..-{candidates})"
                )
            if -w - 1 in withdrawn:
                raise BltError(line, f"candidate {-w} is withdrawn twice")
            withdrawn.append(-w - 1)
        pos += 1
    ballots: list[tuple[Ranking, int]] = []
    empty = 0
    while True:
        if pos == len(body):
            last = lines[-1][0] if lines else 0
            raise BltError(last, "the file ends before the 0 line that closes the ballots")
        line, text_ = body[pos]
        pos += 1
        if text_.startswith('"'):
            raise BltError(line, "a name before the 0 line that closes the ballots")
        numbers = _ints(line, text_, "ballot")
        if numbers == [0]:
            break
        ranking, weight = _ballot(line, numbers, candidates)
        if ranking:
            ballots.append((ranking, weight))
        else:
            empty += weight
    strings: list[tuple[int, str]] = []
    for line, text_ in body[pos:]:
        end = 0
        for match in _QUOTED.finditer(text_):
            if match.start() != end:
                break
            strings.append((line, match.group(1)))
            end = match.end()
        if end != len(text_):
            raise BltError(line, f"expected a quoted name or title, found {text_[end:][:30]!r}")
    if len(strings) < candidates:
        where = strings[-1][0] if strings else body[pos - 1][0]
        raise BltError(where, f"{candidates} candidate names expected, {len(strings)} found")
    if len(strings) > candidates + 1:
        raise BltError(strings[candidates + 1][0], "text after the title")
    names = [normalise_name(s) for _, s in strings[:candidates]]
    for (line, _), name in zip(strings, names, strict=False):
        if not name:
            raise BltError(line, "a candidate's name is empty")
    counts = Counter(names)
    for (line, _), name in zip(strings, names, strict=False):
        if counts[name] > 1:
            raise BltError(line, f"two candidates are named {name!r}")
    title = normalise_name(strings[candidates][1]) if len(strings) > candidates else ""
    return build_profile(
        names, ballots, {EMPTY: empty}, withdrawn=withdrawn, seats=seats, title=title
    )


def read_blt(path: str | Path) -> Profile:
    """Read and parse a BLT file (UTF-8). Raises :class:`BltError` (including for bytes
    that are not UTF-8) or ``OSError``."""
    data = Path(path).read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BltError(line, "not UTF-8 text") from None
    return parse_blt(text)
