"""What a shuffle proof is about: the commitment generators and the Fiat–Shamir transcript
of the statement, shared by the prover and the checker of :mod:`verivote.proofs.shuffle`
(byte for byte in ``docs/crypto.md`` §11.1–11.2)."""

from __future__ import annotations

from collections.abc import Sequence

from verivote.elgamal import Ciphertext
from verivote.errors import ParameterError
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.transcript import Transcript

PROTOCOL = b"shuffle"
CHALLENGE_PROTOCOL = b"shuffle/u"
GENERATOR_DOMAIN = b"verivote/v1/shuffle/generators"


# --- generators ------------------------------------------------------------------------


class _Derived:
    """The generators accepted so far for one (group, context), and the next candidate."""

    __slots__ = ("accepted", "next_candidate", "seen")

    def __init__(self) -> None:
        self.accepted: list[Element] = []
        self.seen: set[bytes] = set()
        self.next_candidate = 0


_GENERATOR_CACHE: dict[tuple[str, bytes], _Derived] = {}
_CACHE_LIMIT = 16


def shuffle_generators(group: Group, context: bytes, n: int) -> tuple[Element, ...]:
    """The ``n + 1`` commitment generators ``(h, h_1, …, h_n)`` for a shuffle of ``n`` rows
    in ``context``.

    Candidate ``j = 0, 1, 2, …`` is ``group.hash_to_element(GENERATOR_DOMAIN, context,
    u64(j))`` — never the identity nor ``g`` — and a candidate equal to an earlier accepted
    one is skipped; the first ``n + 1`` accepted are the generators. Their discrete
    logarithms are unknown to everyone, as for any output of ``hash_to_element``. The list
    for ``n`` is a prefix of the list for any larger ``n``, so it is computed once per
    context (cached for the last 16 contexts: on modp4096 each generator costs about
    21 ms)."""
    if n < 0:
        raise ParameterError("a shuffle has a non-negative number of rows")
    key = (group.name, bytes(context))
    derived = _GENERATOR_CACHE.get(key)
    if derived is None:
        if len(_GENERATOR_CACHE) >= _CACHE_LIMIT:
            _GENERATOR_CACHE.pop(next(iter(_GENERATOR_CACHE)))
        derived = _Derived()
        _GENERATOR_CACHE[key] = derived
    while len(derived.accepted) < n + 1:
        j = derived.next_candidate
        candidate = group.hash_to_element(GENERATOR_DOMAIN, context, j.to_bytes(8, "big"))
        derived.next_candidate = j + 1
        encoded = candidate.to_bytes()
        if encoded not in derived.seen:
            derived.seen.add(encoded)
            derived.accepted.append(candidate)
    return tuple(derived.accepted[: n + 1])


# --- the statement and its challenges ----------------------------------------------------


def _flatten(rows: Sequence[Sequence[Ciphertext]]) -> list[Element]:
    out: list[Element] = []
    for row in rows:
        for ct in row:
            out.append(ct.alpha)
            out.append(ct.beta)
    return out


def statement_transcript(
    public_key: Element,
    generators: Sequence[Element],
    inputs: Sequence[Sequence[Ciphertext]],
    outputs: Sequence[Sequence[Ciphertext]],
    commitments: Sequence[Element],
    width: int,
    context: bytes,
) -> tuple[Transcript, list[Scalar]]:
    """The transcript up to the permutation commitments, and the challenge vector ``u``."""
    group = public_key.group
    transcript = (
        Transcript(PROTOCOL, group, context)
        .integer(b"N", len(inputs))
        .integer(b"w", width)
        .element(b"pk", public_key)
        .elements(b"generators", list(generators))
        .elements(b"input", _flatten(inputs))
        .elements(b"output", _flatten(outputs))
        .elements(b"commitments", list(commitments))
    )
    seed = transcript.challenge()
    u = [
        Transcript(CHALLENGE_PROTOCOL, group, context)
        .scalar(b"seed", seed)
        .integer(b"i", i)
        .challenge()
        for i in range(1, len(inputs) + 1)
    ]
    return transcript, u


def final_challenge(
    transcript: Transcript,
    chain: Sequence[Element],
    t1: Element,
    t2: Element,
    t3: Element,
    t4: Sequence[tuple[Element, Element]],
    t_hat: Sequence[Element],
) -> Scalar:
    return (
        transcript.elements(b"chain", list(chain))
        .element(b"t1", t1)
        .element(b"t2", t2)
        .element(b"t3", t3)
        .elements(b"t4", [x for pair in t4 for x in pair])
        .elements(b"t_hat", list(t_hat))
        .challenge()
    )
