"""The shuffle proof object and its canonical JSON form (see :mod:`verivote.proofs.shuffle`).

JSON form, every element and scalar in lowercase hex of its canonical encoding::

    {"c":  [hex × N],            permutation commitments c_1..c_N
     "ch": [hex × N],            commitment chain ĉ_1..ĉ_N
     "t":  {"t1": hex, "t2": hex, "t3": hex,
            "t4": [[hex α, hex β] × w],
            "th": [hex × N]},    t̂_1..t̂_N
     "e":  hex,                  the challenge
     "s":  {"s1": hex, "s2": hex, "s3": hex,
            "s4": [hex × w], "sh": [hex × N], "sp": [hex × N]}}

Decoding checks the exact keys, the lengths ``N`` and ``w`` the caller expects, and fully
validates every element (canonical and in the prime-order subgroup), all of a proof's
elements in one go (:meth:`~verivote.groups.base.Group.decode_elements`).
:func:`decode_rows` does the same for the rows of ciphertexts a mix takes and gives.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from verivote.elgamal import Ciphertext
from verivote.encoding import from_hex
from verivote.errors import DecodeError
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.codec import expect_keys, scalar_list


@dataclass(frozen=True, slots=True)
class ShuffleProof:
    """A proof that a list of rows re-encrypts a permutation of another (the statement is
    not part of the proof: the checker is given it)."""

    commitments: tuple[Element, ...]
    """Permutation commitments ``c_j = g^{r_j} · h_{ψ⁻¹(j)}``, by input row."""
    chain: tuple[Element, ...]
    """Commitment chain ``ĉ_i = g^{r̂_i} · ĉ_{i-1}^{u'_i}`` with ``ĉ_0 = h``."""
    t1: Element
    t2: Element
    t3: Element
    t4: tuple[tuple[Element, Element], ...]
    """One ``(t4α, t4β)`` pair per column."""
    t_hat: tuple[Element, ...]
    challenge: Scalar
    s1: Scalar
    s2: Scalar
    s3: Scalar
    s4: tuple[Scalar, ...]
    s_hat: tuple[Scalar, ...]
    s_prime: tuple[Scalar, ...]

    @property
    def rows(self) -> int:
        """``N``, the number of rows this proof is for."""
        return len(self.commitments)

    @property
    def width(self) -> int:
        """``w``, the number of ciphertexts per row."""
        return len(self.t4)

    def to_dict(self) -> dict[str, Any]:
        """The canonical JSON form (module docstring)."""
        return {
            "c": [x.hex() for x in self.commitments],
            "ch": [x.hex() for x in self.chain],
            "t": {
                "t1": self.t1.hex(),
                "t2": self.t2.hex(),
                "t3": self.t3.hex(),
                "t4": [[a.hex(), b.hex()] for a, b in self.t4],
                "th": [x.hex() for x in self.t_hat],
            },
            "e": self.challenge.hex(),
            "s": {
                "s1": self.s1.hex(),
                "s2": self.s2.hex(),
                "s3": self.s3.hex(),
                "s4": [x.hex() for x in self.s4],
                "sh": [x.hex() for x in self.s_hat],
                "sp": [x.hex() for x in self.s_prime],
            },
        }

    @classmethod
    def from_dict(cls, group: Group, obj: Any, rows: int, width: int) -> ShuffleProof:
        """Strictly decode the JSON form of a proof for ``rows`` rows of ``width``
        ciphertexts; raises DecodeError (InvalidElement, InvalidScalar) on anything else."""
        expect_keys(obj, ("c", "ch", "t", "e", "s"), "shuffle proof")
        expect_keys(obj["t"], ("t1", "t2", "t3", "t4", "th"), "shuffle proof t")
        expect_keys(obj["s"], ("s1", "s2", "s3", "s4", "sh", "sp"), "shuffle proof s")
        if rows < 1 or width < 1:
            raise DecodeError("shuffle proof: rows and width must be positive")
        t, s = obj["t"], obj["s"]
        raw: list[bytes] = []

        def element(x: Any, what: str) -> int:
            raw.append(from_hex(x, group.element_size, what))
            return len(raw) - 1

        def elements(x: Any, what: str, length: int) -> list[int]:
            if not isinstance(x, list) or len(x) != length:
                raise DecodeError(f"{what}: expected a list of {length} elements")
            return [element(e, what) for e in x]

        def scalar(x: Any, what: str) -> Scalar:
            return group.decode_scalar(from_hex(x, group.scalar_size, what))

        t4 = t["t4"]
        if not isinstance(t4, list) or len(t4) != width:
            raise DecodeError(f"shuffle proof t4: expected {width} pairs")
        pairs = []
        for pair in t4:
            if not isinstance(pair, list) or len(pair) != 2:
                raise DecodeError("shuffle proof t4: expected [α, β] pairs")
            what = "shuffle proof t4"
            pairs.append((element(pair[0], what), element(pair[1], what)))
        commitments = elements(obj["c"], "shuffle proof c", rows)
        chain = elements(obj["ch"], "shuffle proof ch", rows)
        t1, t2, t3 = (element(t[k], f"shuffle proof {k}") for k in ("t1", "t2", "t3"))
        t_hat = elements(t["th"], "shuffle proof th", rows)
        # Every element validated in one go (one exponentiation in all on modp4096).
        decoded = group.decode_elements(raw)
        return cls(
            commitments=tuple(decoded[i] for i in commitments),
            chain=tuple(decoded[i] for i in chain),
            t1=decoded[t1],
            t2=decoded[t2],
            t3=decoded[t3],
            t4=tuple((decoded[a], decoded[b]) for a, b in pairs),
            t_hat=tuple(decoded[i] for i in t_hat),
            challenge=scalar(obj["e"], "shuffle proof e"),
            s1=scalar(s["s1"], "shuffle proof s1"),
            s2=scalar(s["s2"], "shuffle proof s2"),
            s3=scalar(s["s3"], "shuffle proof s3"),
            s4=tuple(scalar_list(group, s["s4"], "shuffle proof s4", width)),
            s_hat=tuple(scalar_list(group, s["sh"], "shuffle proof sh", rows)),
            s_prime=tuple(scalar_list(group, s["sp"], "shuffle proof sp", rows)),
        )


def decode_rows(group: Group, obj: Any, rows: int, width: int) -> list[tuple[Ciphertext, ...]]:
    """Strictly decode ``rows`` rows of ``width`` ciphertexts (JSON: a list of lists of
    ``{"a": hex, "b": hex}``), validating every element completely, all in one go
    (:meth:`~verivote.groups.base.Group.decode_elements`); raises DecodeError."""
    if not isinstance(obj, list) or len(obj) != rows:
        raise DecodeError(f"ciphertext rows: expected a list of {rows} rows")
    raw: list[bytes] = []
    for row in obj:
        if not isinstance(row, list) or len(row) != width:
            raise DecodeError(f"ciphertext rows: expected rows of {width} ciphertexts")
        for ct in row:
            expect_keys(ct, ("a", "b"), "ciphertext")
            raw.append(from_hex(ct["a"], group.element_size, "ciphertext a"))
            raw.append(from_hex(ct["b"], group.element_size, "ciphertext b"))
    decoded = group.decode_elements(raw)
    return [
        tuple(
            Ciphertext(decoded[2 * (i * width + k)], decoded[2 * (i * width + k) + 1])
            for k in range(width)
        )
        for i in range(rows)
    ]
