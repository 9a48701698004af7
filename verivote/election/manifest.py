"""The election manifest: what is being decided, by whom, in which group, and when.

The manifest is the body of the first entry of every record. Its hash (the *election
fingerprint*) is bound into every signature and every proof of the election; observers
compare it out of band. After the key ceremony, the *ballot context* adds the joint public
key, and every ballot proof binds to it.

Contest kinds:

* ``plurality`` — choose at most ``limit`` (usually 1) candidates;
* ``approval`` — choose up to ``limit`` of the candidates;
* ``referendum`` — exactly two options (e.g. yes / no), at most one chosen;
* ``ranked`` — rank up to ``ranks`` of the candidates; counted in public by ``rule``
  (a rule of :mod:`verivote.count`) for ``seats`` seats after a verifiable mix
  (:mod:`verivote.election.ranked`).

In the first three kinds every selection is encrypted as 0 or 1 and the contest's total is
proven to lie in ``[0, limit]``, so under-votes (including blank) are always allowed. A
ranked contest is not tallied homomorphically (:attr:`Manifest.tallied` leaves it out).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from verivote.count import RULES
from verivote.encoding import dumps, frame, from_hex
from verivote.errors import DecodeError, ParameterError
from verivote.groups import GROUP_NAMES, Element, Group, get_group
from verivote.proofs.range import MAX_RANGE

VERSION = "verivote/1"
KINDS = ("plurality", "approval", "referendum", "ranked")
RANKED = "ranked"
_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")
_TIME_ASCII = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z")


def check_id(value: Any, what: str) -> str:
    """An identifier: 1–64 characters of ``a-z 0-9 _ -``, starting alphanumeric."""
    if not isinstance(value, str) or not _ID.match(value):
        raise DecodeError(f"{what}: {value!r} is not an identifier (a-z, 0-9, _ and -)")
    return value


def check_time(value: Any, what: str) -> str:
    """A UTC time ``YYYY-MM-DDTHH:MM:SSZ``; such strings compare in time order. Raises
    DecodeError for any other form, or for a date or time that does not exist (February
    30, hour 24, second 60).

    The common case — 20 ASCII characters — is checked with ``datetime.fromisoformat``
    (about 1 µs); anything else takes :func:`_check_time_exact`, the definition, whose
    answer and messages the fast path reproduces exactly (tests/test_fast_paths.py)."""
    if (
        isinstance(value, str)
        and len(value) == 20
        and value.isascii()
        and _TIME_ASCII.fullmatch(value) is not None
    ):
        # ASCII digits in place: the same fields strptime reads. Its hour is at most 23;
        # fromisoformat reads the date and time with datetime's own range checks.
        if value[11:13] <= "23":
            try:
                datetime.fromisoformat(value[:19])
                return value
            except ValueError:
                pass
        raise DecodeError(f"{what}: {value!r} is not a real date and time")
    return _check_time_exact(value, what)


def _check_time_exact(value: Any, what: str) -> str:
    """:func:`check_time` by its definition: the pattern, then ``strptime``."""
    if not isinstance(value, str) or not _TIME.match(value):
        raise DecodeError(f"{what}: {value!r} is not a time of the form 2026-01-31T12:00:00Z")
    try:
        datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ")
    except ValueError:
        raise DecodeError(f"{what}: {value!r} is not a real date and time") from None
    return value


def format_time(moment: datetime) -> str:
    """``moment`` in the record's time format ``YYYY-MM-DDTHH:MM:SSZ``: UTC, whole seconds
    (a fraction is dropped), so such strings compare in time order. Give an aware
    ``datetime``; a naive one is taken as local time."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _text(value: Any, what: str, max_len: int = 500) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= max_len:
        raise DecodeError(f"{what}: expected a non-empty string of at most {max_len} characters")
    return value


def _int(value: Any, what: str, lo: int, hi: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise DecodeError(f"{what}: expected an integer in [{lo}, {hi}], got {value!r}")
    return value


def _keys(obj: Any, required: set[str], what: str) -> dict[str, Any]:
    if not isinstance(obj, dict):
        raise DecodeError(f"{what}: expected an object")
    if set(obj) != required:
        missing = sorted(required - set(obj))
        extra = sorted(set(obj) - required)
        raise DecodeError(f"{what}: missing {missing}, unexpected {extra}")
    return obj


def _key32(value: Any, what: str) -> bytes:
    return from_hex(value, 32, what)


@dataclass(frozen=True, slots=True)
class Candidate:
    """One option of a contest: ``id`` (an identifier, 1–64 characters of ``a-z 0-9 _ -``,
    checked by the :class:`Contest` that holds it) and the ``name`` voters see."""

    id: str
    name: str


@dataclass(frozen=True, slots=True)
class Contest:
    """A question on the ballot: candidates, kind and how many may be chosen.

    Construction guarantees: ``id`` and every candidate id are identifiers (else
    :class:`~verivote.errors.DecodeError`); ``kind`` is ``plurality``, ``approval`` or
    ``referendum``; 1 to the group's range of candidates with distinct ids; ``1 <= limit
    <= len(candidates)``; a referendum has exactly two options and limit 1 (else
    :class:`~verivote.errors.ParameterError`)."""

    id: str
    title: str
    kind: str
    candidates: tuple[Candidate, ...]
    limit: int
    ranks: int = 0
    rule: str = ""
    seats: int = 0

    @property
    def ranked(self) -> bool:
        """True for a ranked contest (mixed and counted in public, never tallied)."""
        return self.kind == RANKED

    @property
    def fields(self) -> int:
        """Ciphertexts per ballot: one per rank (ranked) or one per candidate."""
        return self.ranks if self.ranked else len(self.candidates)

    @property
    def field_bound(self) -> int:
        """Each ciphertext is proven to encrypt a value in ``[0, field_bound]``."""
        return len(self.candidates) if self.ranked else 1

    def __post_init__(self) -> None:
        check_id(self.id, "contest id")
        if self.kind not in KINDS:
            raise ParameterError(f"contest {self.id}: kind must be one of {KINDS}")
        if not 1 <= len(self.candidates) <= MAX_RANGE:
            raise ParameterError(f"contest {self.id}: 1..{MAX_RANGE} candidates")
        ids = [c.id for c in self.candidates]
        for cid in ids:
            check_id(cid, f"contest {self.id} candidate id")
        if len(set(ids)) != len(ids):
            raise ParameterError(f"contest {self.id}: candidate ids repeat")
        if not 1 <= self.limit <= len(self.candidates):
            raise ParameterError(f"contest {self.id}: limit must be in 1..{len(self.candidates)}")
        if self.kind == "referendum" and (len(self.candidates) != 2 or self.limit != 1):
            raise ParameterError(f"contest {self.id}: a referendum has two options and limit 1")
        if self.ranked:
            if self.limit != self.ranks or self.rule not in RULES:
                raise ParameterError(f"contest {self.id}: limit = ranks, rule in {sorted(RULES)}")
            if not 1 <= self.seats < len(self.candidates) or (
                self.rule == "av" and self.seats != 1
            ):
                raise ParameterError(f"contest {self.id}: seats in 1..candidates-1 (av: 1)")
        elif (self.ranks, self.rule, self.seats) != (0, "", 0):
            raise ParameterError(f"contest {self.id}: only a ranked contest has ranks, rule, seats")

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        if self.ranked:
            return {
                "id": self.id,
                "title": self.title,
                "kind": self.kind,
                "candidates": [{"id": c.id, "name": c.name} for c in self.candidates],
                "ranks": self.ranks,
                "rule": self.rule,
                "seats": self.seats,
            }
        return {
            "id": self.id,
            "title": self.title,
            "kind": self.kind,
            "candidates": [{"id": c.id, "name": c.name} for c in self.candidates],
            "limit": self.limit,
        }

    @classmethod
    def from_dict(cls, obj: Any) -> Contest:
        """Strict decoding; raises DecodeError."""
        if isinstance(obj, dict) and obj.get("kind") == RANKED:
            return _ranked_from_dict(obj)
        o = _keys(obj, {"id", "title", "kind", "candidates", "limit"}, "contest")
        if not isinstance(o["candidates"], list):
            raise DecodeError("contest candidates: expected a list")
        candidates = tuple(
            Candidate(
                check_id(_keys(c, {"id", "name"}, "candidate")["id"], "candidate id"),
                _text(c["name"], "candidate name"),
            )
            for c in o["candidates"]
        )
        try:
            return cls(
                check_id(o["id"], "contest id"),
                _text(o["title"], "contest title"),
                o["kind"] if isinstance(o["kind"], str) else "",
                candidates,
                _int(o["limit"], "contest limit", 1, MAX_RANGE),
            )
        except ParameterError as exc:
            raise DecodeError(str(exc)) from None


def _ranked_from_dict(obj: dict[str, Any]) -> Contest:
    o = _keys(obj, {"id", "title", "kind", "candidates", "ranks", "rule", "seats"}, "contest")
    plain = {k: o[k] for k in ("id", "title", "kind", "candidates")}
    ranks = _int(o["ranks"], "contest ranks", 1, MAX_RANGE)
    base = Contest.from_dict({**plain, "kind": "approval", "limit": 1})
    try:
        return Contest(
            base.id,
            base.title,
            RANKED,
            base.candidates,
            ranks,
            ranks,
            o["rule"] if isinstance(o["rule"], str) else "",
            _int(o["seats"], "contest seats", 1, MAX_RANGE),
        )
    except ParameterError as exc:
        raise DecodeError(str(exc)) from None


@dataclass(frozen=True, slots=True)
class TrusteeInfo:
    """A trustee's public identity: its ``index`` (1..n, its place in the manifest),
    ``name``, the Ed25519 key that signs its entries and the X25519 key that receives its
    shares (32 bytes each). :meth:`from_dict` rejects anything else with DecodeError."""

    index: int
    name: str
    sign_key: bytes
    box_key: bytes

    def to_dict(self) -> dict[str, Any]:
        """JSON form."""
        return {
            "index": self.index,
            "name": self.name,
            "sign_key": self.sign_key.hex(),
            "box_key": self.box_key.hex(),
        }

    @classmethod
    def from_dict(cls, obj: Any) -> TrusteeInfo:
        """Strict decoding; raises DecodeError."""
        o = _keys(obj, {"index", "name", "sign_key", "box_key"}, "trustee")
        return cls(
            _int(o["index"], "trustee index", 1, 255),
            _text(o["name"], "trustee name", 200),
            _key32(o["sign_key"], "trustee sign_key"),
            _key32(o["box_key"], "trustee box_key"),
        )


@dataclass(frozen=True, slots=True)
class Manifest:
    """Everything fixed before the election starts. Immutable; one canonical encoding
    (:meth:`to_dict`), hashed into :attr:`fingerprint`, which every signature and proof of
    the election binds.

    Construction guarantees: the election id and every category are identifiers; the group
    is ``ed25519`` or ``modp4096``; at least one contest, with distinct ids; at least one
    category, without repeats; ``opens`` and ``closes`` are record times with ``opens <
    closes``; trustees numbered 1..n in order with ``1 <= threshold <= n``;
    ``min_category_size >= 1``; the version is this library's. Anything else raises
    :class:`~verivote.errors.ParameterError` (:class:`~verivote.errors.DecodeError` for a
    malformed identifier or time); :meth:`from_dict` raises DecodeError only."""

    election_id: str
    title: str
    group_name: str
    contests: tuple[Contest, ...]
    categories: tuple[str, ...]
    opens: str
    closes: str
    threshold: int
    trustees: tuple[TrusteeInfo, ...]
    organiser_key: bytes
    registrar_key: bytes
    board_key: bytes
    issuer_key: bytes = b""
    """The credential issuer's Ed25519 key: the second, independent party whose half every
    credential needs (:mod:`verivote.election.roll`)."""
    min_category_size: int = 10
    max_additions: int = 0
    """How many electors the registrar may add after opening (``amend add``)."""
    version: str = VERSION
    _fingerprint: bytes = field(default=b"", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        check_id(self.election_id, "election id")
        if self.group_name not in GROUP_NAMES:
            raise ParameterError(f"group must be one of {GROUP_NAMES}")
        if not self.contests:
            raise ParameterError("an election needs at least one contest")
        if len({c.id for c in self.contests}) != len(self.contests):
            raise ParameterError("contest ids repeat")
        if not self.categories:
            raise ParameterError("at least one elector category is needed")
        for cat in self.categories:
            check_id(cat, "category")
        if len(set(self.categories)) != len(self.categories):
            raise ParameterError("categories repeat")
        check_time(self.opens, "opens")
        check_time(self.closes, "closes")
        if not self.opens < self.closes:
            raise ParameterError("the election must open before it closes")
        n = len(self.trustees)
        if n < 1 or not 1 <= self.threshold <= n:
            raise ParameterError(f"need 1 <= threshold <= trustees, got {self.threshold} of {n}")
        if [t.index for t in self.trustees] != list(range(1, n + 1)):
            raise ParameterError("trustees must be numbered 1..n in order")
        if self.min_category_size < 1:
            raise ParameterError("min_category_size must be at least 1")
        if len(self.issuer_key) != 32:
            raise ParameterError("the manifest needs the credential issuer's 32-byte key")
        if len(set(self.key_roles().values())) != len(self.key_roles()):
            raise ParameterError("the organiser, registrar, issuer and board keys must differ")
        if not 0 <= self.max_additions <= 10**9:
            raise ParameterError("max_additions must be in 0..10^9")
        if self.version != VERSION:
            raise ParameterError(f"unsupported manifest version {self.version!r}")
        digest = hashlib.sha512(frame(b"verivote/manifest", dumps(self.to_dict()))).digest()
        object.__setattr__(self, "_fingerprint", digest)

    def key_roles(self) -> dict[str, bytes]:
        """The single-party keys of the manifest by role."""
        return {
            "organiser": self.organiser_key,
            "registrar": self.registrar_key,
            "issuer": self.issuer_key,
            "board": self.board_key,
        }

    @property
    def group(self) -> Group:
        """The group every element of this election lives in."""
        return get_group(self.group_name)

    @property
    def fingerprint(self) -> bytes:
        """SHA-512 of the framed canonical manifest: the election's identity."""
        return self._fingerprint

    @property
    def tallied(self) -> tuple[Contest, ...]:
        """The contests tallied homomorphically (every kind but ``ranked``), in order."""
        return tuple(c for c in self.contests if not c.ranked)

    def contest(self, contest_id: str) -> Contest:
        """The contest with this id; raises KeyError."""
        for c in self.contests:
            if c.id == contest_id:
                return c
        raise KeyError(contest_id)

    def trustee(self, index: int) -> TrusteeInfo:
        """Trustee number ``index`` (1-based); raises KeyError."""
        if not 1 <= index <= len(self.trustees):
            raise KeyError(index)
        return self.trustees[index - 1]

    def ballot_context(self, joint_key: Element) -> bytes:
        """The context every ballot proof binds to: the fingerprint and the joint key."""
        return hashlib.sha512(
            frame(b"verivote/ballot-context", self.fingerprint, joint_key.to_bytes())
        ).digest()

    def to_dict(self) -> dict[str, Any]:
        """JSON form (the body of the ``election`` entry)."""
        return {
            "version": self.version,
            "election_id": self.election_id,
            "title": self.title,
            "group": self.group_name,
            "contests": [c.to_dict() for c in self.contests],
            "categories": list(self.categories),
            "opens": self.opens,
            "closes": self.closes,
            "threshold": self.threshold,
            "trustees": [t.to_dict() for t in self.trustees],
            "organiser_key": self.organiser_key.hex(),
            "registrar_key": self.registrar_key.hex(),
            "board_key": self.board_key.hex(),
            "issuer_key": self.issuer_key.hex(),
            "min_category_size": self.min_category_size,
            "max_additions": self.max_additions,
        }

    @classmethod
    def from_dict(cls, obj: Any) -> Manifest:
        """Strict decoding; raises DecodeError on any missing, extra or ill-typed field."""
        o = _keys(
            obj,
            {
                "version",
                "election_id",
                "title",
                "group",
                "contests",
                "categories",
                "opens",
                "closes",
                "threshold",
                "trustees",
                "organiser_key",
                "registrar_key",
                "board_key",
                "issuer_key",
                "min_category_size",
                "max_additions",
            },
            "manifest",
        )
        if not isinstance(o["contests"], list) or not isinstance(o["trustees"], list):
            raise DecodeError("manifest: contests and trustees must be lists")
        if not isinstance(o["categories"], list):
            raise DecodeError("manifest: categories must be a list")
        try:
            return cls(
                election_id=check_id(o["election_id"], "election id"),
                title=_text(o["title"], "title"),
                group_name=o["group"] if isinstance(o["group"], str) else "",
                contests=tuple(Contest.from_dict(c) for c in o["contests"]),
                categories=tuple(check_id(c, "category") for c in o["categories"]),
                opens=check_time(o["opens"], "opens"),
                closes=check_time(o["closes"], "closes"),
                threshold=_int(o["threshold"], "threshold", 1, 255),
                trustees=tuple(TrusteeInfo.from_dict(t) for t in o["trustees"]),
                organiser_key=_key32(o["organiser_key"], "organiser_key"),
                registrar_key=_key32(o["registrar_key"], "registrar_key"),
                board_key=_key32(o["board_key"], "board_key"),
                issuer_key=_key32(o["issuer_key"], "issuer_key"),
                min_category_size=_int(o["min_category_size"], "min_category_size", 1, 10**9),
                max_additions=_int(o["max_additions"], "max_additions", 0, 10**9),
                version=o["version"] if isinstance(o["version"], str) else "",
            )
        except ParameterError as exc:
            raise DecodeError(f"manifest: {exc}") from None
