"""The organiser's election file: the manifest written by hand, in TOML.

::

    election_id = "leadership-2026"
    title = "Leadership election 2026"
    group = "ristretto255"            # optional: ristretto255 (default), ed25519, modp4096
    opens = 2026-09-01T09:00:00Z      # UTC, a TOML date-time or a string; or --opens
    closes = 2026-09-08T17:00:00Z     # or --closes
    threshold = 2                     # trustees needed to decrypt
    min_category_size = 10            # optional, default 10
    categories = ["members", "affiliated", "registered"]
    max_additions = 5                 # optional, default 0: electors the registrar
                                      # may add after opening
    registrar_key = "…64 hex…"
    issuer_key = "…64 hex…"           # the credential issuer's key
    board_key = "…64 hex…"

    [[contests]]
    id = "leader"
    title = "Party leader"
    kind = "plurality"                # plurality, approval or referendum
    limit = 1                         # optional, default 1
    candidates = [{ id = "ashworth", name = "Ashworth" }, { id = "begum", name = "Begum" }]

    [[trustees]]                      # numbered 1, 2, … in this order
    name = "Trustee 1"
    sign_key = "…64 hex…"
    box_key = "…64 hex…"

Every error is an :class:`ElectionFileError` that names the file, the line (when the
field can be found in the text) and the field, e.g. ``election.toml:14: contests[1].kind:
'ranked' is not one of plurality, approval, referendum``.

Times: besides real UTC times, ``now`` and ``+N`` with a unit ``s``, ``m``, ``h`` or
``d`` (``+10m``: ten minutes from now) are accepted, and ``closes`` may also be relative
to ``opens`` the same way; they become fixed UTC times in the manifest.
"""

from __future__ import annotations

import re
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from verivote.election.manifest import (
    KINDS,
    Candidate,
    Contest,
    Manifest,
    TrusteeInfo,
    check_id,
    check_time,
    format_time,
)
from verivote.errors import DecodeError, ParameterError, VerivoteError
from verivote.groups import DEFAULT_GROUP, GROUP_NAMES

_RELATIVE = re.compile(r"^\+(\d{1,6})([smhd])$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}
TOP_FIELDS = {
    "election_id",
    "title",
    "group",
    "opens",
    "closes",
    "threshold",
    "min_category_size",
    "categories",
    "max_additions",
    "registrar_key",
    "issuer_key",
    "board_key",
    "contests",
    "trustees",
}


class ElectionFileError(VerivoteError, ValueError):
    """An election file that cannot be read, or a field in it that is wrong."""


def parse_moment(value: Any, what: str, now: datetime) -> datetime:
    """A UTC moment from a TOML date-time (with an offset), a ``2026-01-31T12:00:00Z``
    string, ``now`` or ``+N[smhd]`` (after ``now``). Raises DecodeError."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise DecodeError(f"{what}: give the time with its offset (…Z for UTC)")
        return value.astimezone(UTC)
    if value == "now":
        return now
    if isinstance(value, str):
        rel = _RELATIVE.match(value)
        if rel:
            return now + timedelta(**{_UNITS[rel.group(2)]: int(rel.group(1))})
    text = check_time(value, what)
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


class _Locator:
    """Finds the line of a field in the TOML text (best effort: None when not found)."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()

    def line(self, table: str | None, index: int, key: str | None) -> int | None:
        start, seen = 0, -1
        if table is not None:
            header = re.compile(rf"^\s*\[\[\s*{re.escape(table)}\s*\]\]")
            for n, text in enumerate(self.lines):
                if header.match(text):
                    seen += 1
                    if seen == index:
                        start = n
                        break
            else:
                return None
            if key is None:
                return start + 1
        assign = re.compile(rf"^\s*{re.escape(key or '')}\s*=")
        for n in range(start + (table is not None), len(self.lines)):
            text = self.lines[n]
            if text.lstrip().startswith("["):
                break
            if assign.match(text):
                return n + 1
        return None


class _Reader:
    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.where = _Locator(text)

    def fail(self, field: str, message: str, table: str | None = None, index: int = 0) -> NoReturn:
        key = field.rsplit(".", 1)[-1].split("[")[0]
        line = self.where.line(table, index, key if key != table else None)
        if message.startswith(f"{key}: "):
            message = message[len(key) + 2 :]
        at = f"{self.path}:{line}" if line else str(self.path)
        raise ElectionFileError(f"{at}: {field}: {message}")

    def get(
        self, obj: dict[str, Any], key: str, kind: type, field: str, table: str | None, i: int
    ) -> Any:
        if key not in obj:
            self.fail(field, "missing", table, i)
        value = obj[key]
        if kind is int and (type(value) is not int):
            self.fail(field, f"expected an integer, got {value!r}", table, i)
        if kind is not int and not isinstance(value, kind):
            self.fail(field, f"expected a {kind.__name__}, got {value!r}", table, i)
        return value


def read_election_file(
    path: Path,
    organiser_key: bytes,
    *,
    now: datetime,
    opens: str | None = None,
    closes: str | None = None,
) -> Manifest:
    """The manifest of the election file at ``path`` signed off by ``organiser_key``;
    ``opens`` / ``closes`` (as in the file: a UTC time, ``now`` or ``+N[smhd]``) replace
    the file's. Raises ElectionFileError naming the line and field of the first error."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ElectionFileError(f"{path}: cannot read: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ElectionFileError(f"{path}: not TOML: {exc}") from None
    r = _Reader(path, text)
    for key in data:
        if key not in TOP_FIELDS:
            r.fail(key, f"unknown field (expected some of {', '.join(sorted(TOP_FIELDS))})")

    def top(key: str, kind: type) -> Any:
        return r.get(data, key, kind, key, None, 0)

    def checked(field: str, fn: Any, *args: Any, table: str | None = None, i: int = 0) -> Any:
        try:
            return fn(*args)
        except (DecodeError, ParameterError) as exc:
            r.fail(field, str(exc), table, i)

    election_id = checked("election_id", check_id, top("election_id", str), "election id")
    title = top("title", str)
    group = data.get("group", DEFAULT_GROUP)
    if group not in GROUP_NAMES:
        r.fail("group", f"{group!r} is not one of {', '.join(GROUP_NAMES)}")
    raw_opens = opens if opens is not None else top("opens", object)
    start = checked("opens", parse_moment, raw_opens, "opens", now)
    raw_closes = closes if closes is not None else top("closes", object)
    end = checked("closes", parse_moment, raw_closes, "closes", start)
    if not start < end:
        r.fail("closes", f"{format_time(end)} is not after opens {format_time(start)}")
    threshold = top("threshold", int)
    min_size = (
        r.get(data, "min_category_size", int, "min_category_size", None, 0)
        if ("min_category_size" in data)
        else 10
    )
    max_additions = (
        r.get(data, "max_additions", int, "max_additions", None, 0)
        if ("max_additions" in data)
        else 0
    )
    categories = top("categories", list)
    for n, cat in enumerate(categories):
        checked(f"categories[{n}]", check_id, cat, "category")
    keys = {}
    for name in ("registrar_key", "issuer_key", "board_key"):
        keys[name] = checked(name, _key, top(name, str), name)
    contests = [_contest(r, c, i) for i, c in enumerate(top("contests", list))]
    trustees = [_trustee(r, t, i) for i, t in enumerate(top("trustees", list))]
    try:
        return Manifest(
            election_id=election_id,
            title=title,
            group_name=group,
            contests=tuple(contests),
            categories=tuple(categories),
            opens=format_time(start),
            closes=format_time(end),
            threshold=threshold,
            trustees=tuple(trustees),
            organiser_key=organiser_key,
            registrar_key=keys["registrar_key"],
            board_key=keys["board_key"],
            issuer_key=keys["issuer_key"],
            min_category_size=min_size,
            max_additions=max_additions,
        )
    except ParameterError as exc:
        text = str(exc)
        field = next(
            (f for f in ("threshold", "max_additions") if f in text),
            "issuer_key" if "keys must differ" in text else "election",
        )
        r.fail(field, str(exc))


def _key(value: str, what: str) -> bytes:
    try:
        raw = bytes.fromhex(value)
    except ValueError:
        raise DecodeError(f"{value!r} is not hex") from None
    if len(raw) != 32:
        raise DecodeError(f"a key is 32 bytes (64 hex digits), got {len(raw)}")
    return raw


def _contest(r: _Reader, obj: Any, i: int) -> Contest:
    where = f"contests[{i}]"
    if not isinstance(obj, dict):
        r.fail(where, "expected a [[contests]] table")
    extra = set(obj) - {"id", "title", "kind", "limit", "candidates"}
    if extra:
        r.fail(f"{where}.{sorted(extra)[0]}", "unknown field", "contests", i)
    cid = r.get(obj, "id", str, f"{where}.id", "contests", i)
    title = r.get(obj, "title", str, f"{where}.title", "contests", i)
    kind = r.get(obj, "kind", str, f"{where}.kind", "contests", i)
    if kind not in KINDS:
        r.fail(f"{where}.kind", f"{kind!r} is not one of {', '.join(KINDS)}", "contests", i)
    limit = r.get(obj, "limit", int, f"{where}.limit", "contests", i) if "limit" in obj else 1
    raw = r.get(obj, "candidates", list, f"{where}.candidates", "contests", i)
    candidates = []
    for n, c in enumerate(raw):
        field = f"{where}.candidates[{n}]"
        if not isinstance(c, dict) or set(c) != {"id", "name"}:
            r.fail(field, 'expected { id = "…", name = "…" }', "contests", i)
        if not isinstance(c["id"], str) or not isinstance(c["name"], str):
            r.fail(field, "id and name are strings", "contests", i)
        candidates.append(Candidate(c["id"], c["name"]))
    try:
        return Contest(cid, title, kind, tuple(candidates), limit)
    except (DecodeError, ParameterError) as exc:
        r.fail(where, str(exc), "contests", i)


def _trustee(r: _Reader, obj: Any, i: int) -> TrusteeInfo:
    where = f"trustees[{i}]"
    if not isinstance(obj, dict):
        r.fail(where, "expected a [[trustees]] table")
    extra = set(obj) - {"name", "sign_key", "box_key"}
    if extra:
        r.fail(f"{where}.{sorted(extra)[0]}", "unknown field", "trustees", i)
    name = r.get(obj, "name", str, f"{where}.name", "trustees", i)
    keys = []
    for k in ("sign_key", "box_key"):
        value = r.get(obj, k, str, f"{where}.{k}", "trustees", i)
        try:
            keys.append(_key(value, k))
        except DecodeError as exc:
            r.fail(f"{where}.{k}", str(exc), "trustees", i)
    return TrusteeInfo(i + 1, name, keys[0], keys[1])
