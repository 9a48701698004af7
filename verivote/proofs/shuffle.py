"""A verifiable re-encryption mix of rows of ElGamal ciphertexts (Terelius–Wikström).

A mix takes ``N`` rows of ``w`` ciphertexts each (a ranked ballot is a row: one ciphertext
per rank), re-encrypts every ciphertext with a fresh nonce and permutes the rows::

    output[i][k] = reencrypt(input[ψ(i)][k], r'_{i,k})      i = 1..N, k = 1..w

:func:`shuffle` does it and proves it; :func:`check_shuffle` checks the proof. The proof is
Terelius and Wikström's proof of a shuffle in the form of the CHVote pseudo-code (Haenni,
Locher, Koenig, Dubuis, FC 2017) that Belenios also follows, generalised to rows: one
permutation commitment and one commitment chain serve the whole row, and the
re-encryption equation is proved once per column with the same responses ``s'_i``, so
every column is provably permuted by the same ``ψ``. The exact equations, transcript and
encoding are in ``docs/crypto.md`` ("Shuffle").

The commitment generators ``h, h_1..h_N`` are derived by hashing into the group from a
versioned label and the caller's context (:func:`shuffle_generators`); nobody knows a
discrete logarithm between them. The checker derives them itself and never takes them
from the prover: a prover who knew ``log_g h_i`` could open the permutation commitment to
another permutation and change votes behind a valid proof (the Swiss Post flaw of 2019).

Cost, per row of ``w`` ciphertexts (``N`` rows). "Fixed" means an exponentiation of the
generator ``g`` (a table in modp4096, libsodium's base-point multiplication in ed25519);
"variable" means any other base, most of them terms of one multi-exponentiation:

* mixing: ``w`` fixed (``g^r``) and ``w`` by the public key (``pk^r``);
* proving: 3 fixed, 2 of ``h`` and ``1 + 2w`` variable: 8 per row for ``w = 1``, 10 for
  ``w = 2`` (the commitment chain and ``t̂`` are computed from powers of ``g`` and ``h``
  alone, so on modp4096 five of the eight use fixed-base tables);
* checking: ``4 + 4w`` variable: 8 per row for ``w = 1``, 12 for ``w = 2`` (the ``N``
  links of the commitment chain are checked as one random linear combination, in which
  every ``ĉ_i`` is one term and ``g`` one term for them all).

On ed25519 a variable term costs a full scalar multiplication (PyNaCl exposes no
multi-scalar multiplication); on modp4096 the products of powers are bucket
multi-exponentiations (:meth:`~verivote.groups.base.Group.product_of_powers`), several
times cheaper per term than an exponentiation.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from verivote.elgamal import Ciphertext, reencrypt_row_with_nonces
from verivote.errors import InvalidProof, ParameterError
from verivote.groups.base import Element, Scalar
from verivote.proofs.shuffle_codec import ShuffleProof, decode_rows
from verivote.proofs.shuffle_statement import (
    GENERATOR_DOMAIN,
    PROTOCOL,
    final_challenge,
    shuffle_generators,
    statement_transcript,
)

__all__ = [
    "GENERATOR_DOMAIN",
    "PROTOCOL",
    "InvalidShuffle",
    "Row",
    "ShuffleProof",
    "ShuffleSecret",
    "check_shuffle",
    "decode_rows",
    "prove_shuffle",
    "shuffle",
    "shuffle_generators",
]


Row = tuple[Ciphertext, ...]


class InvalidShuffle(InvalidProof):
    """A shuffle proof that fails; ``check`` names the failed check (``shuffle.shape``,
    ``shuffle.challenge``, ``shuffle.t1`` … ``shuffle.t4``, ``shuffle.t_hat``) and
    ``reason`` says what was wrong."""

    def __init__(self, check: str, reason: str) -> None:
        super().__init__(f"{check}: {reason}")
        self.check = check
        self.reason = reason


@dataclass(frozen=True, slots=True)
class ShuffleSecret:
    """The mixer's witness: ``permutation[i]`` is the input row that output row ``i``
    re-encrypts and ``nonces[i][k]`` the nonce of its ``k``-th ciphertext. Anyone holding
    it can link inputs to outputs: it has no serialised form and its repr shows nothing."""

    permutation: tuple[int, ...]
    nonces: tuple[tuple[Scalar, ...], ...]

    def __repr__(self) -> str:
        return f"<ShuffleSecret of {len(self.permutation)} rows>"


def _width(rows: Sequence[Sequence[Ciphertext]], what: str) -> int:
    if not rows:
        raise ParameterError(f"{what}: a shuffle needs at least one row")
    width = len(rows[0])
    if width == 0 or any(len(row) != width for row in rows):
        raise ParameterError(f"{what}: every row must have the same, non-zero, width")
    return width


# --- mixing and proving ---------------------------------------------------------------


def _random_permutation(n: int) -> tuple[int, ...]:
    items = list(range(n))
    for i in range(n - 1, 0, -1):  # Fisher–Yates with the OS CSPRNG
        j = secrets.randbelow(i + 1)
        items[i], items[j] = items[j], items[i]
    return tuple(items)


def shuffle(
    public_key: Element, rows: Sequence[Sequence[Ciphertext]], context: bytes
) -> tuple[list[Row], ShuffleProof, ShuffleSecret]:
    """Mix ``rows`` under ``public_key``: a uniformly random permutation and a fresh nonce
    per ciphertext, from the OS CSPRNG. Returns the output rows, the proof (for the record)
    and the secret witness (never publish it). Rejects (ParameterError) an empty list or
    rows of unequal or zero width."""
    group = public_key.group
    width = _width(rows, "shuffle")
    permutation = _random_permutation(len(rows))
    nonces = tuple(tuple(group.random_scalar() for _ in range(width)) for _ in rows)
    secret = ShuffleSecret(permutation, nonces)
    outputs = _mix(public_key, rows, secret)
    return outputs, prove_shuffle(public_key, rows, outputs, secret, context), secret


def _mix(
    public_key: Element, rows: Sequence[Sequence[Ciphertext]], secret: ShuffleSecret
) -> list[Row]:
    """Deterministic twin of :func:`shuffle`'s mixing: output row ``i`` is input row
    ``permutation[i]`` re-encrypted with ``nonces[i]``."""
    if sorted(secret.permutation) != list(range(len(rows))) or len(secret.nonces) != len(rows):
        raise ParameterError("shuffle: the permutation and nonces must match the rows")
    return [
        reencrypt_row_with_nonces(public_key, rows[j], secret.nonces[i])
        for i, j in enumerate(secret.permutation)
    ]


def prove_shuffle(
    public_key: Element,
    inputs: Sequence[Sequence[Ciphertext]],
    outputs: Sequence[Sequence[Ciphertext]],
    secret: ShuffleSecret,
    context: bytes,
) -> ShuffleProof:
    """Prove that ``outputs`` is ``inputs`` permuted by ``secret.permutation`` and
    re-encrypted with ``secret.nonces`` under ``public_key``, bound to ``context``. The
    proof's randomness comes from the OS CSPRNG."""
    group = public_key.group
    if sorted(secret.permutation) != list(range(len(inputs))):
        raise ParameterError("prove_shuffle: the witness is not a permutation of the rows")

    def draws() -> Iterator[Scalar]:
        while True:
            yield group.random_scalar()

    return _prove_shuffle(public_key, inputs, outputs, secret, context, draws())


def _prove_shuffle(
    public_key: Element,
    inputs: Sequence[Sequence[Ciphertext]],
    outputs: Sequence[Sequence[Ciphertext]],
    secret: ShuffleSecret,
    context: bytes,
    randomness: Iterator[Scalar],
    generators: Sequence[Element] | None = None,
) -> ShuffleProof:
    """Deterministic twin of :func:`prove_shuffle`. ``randomness`` is drawn in this order:
    ``r_1..r_N`` (commitment nonces, by input row), ``r̂_1..r̂_N`` (chain nonces),
    ``ω_1, ω_2, ω_3``, ``ω_4`` per column, ``ω̂_1..ω̂_N``, ``ω'_1..ω'_N``. ``generators``
    exists only so that tests can play a prover who commits with generators of its own
    choosing while hashing the proper ones (which :func:`check_shuffle` must refuse)."""
    group = public_key.group
    g = group.generator
    n = len(inputs)
    width = _width(inputs, "prove_shuffle")
    if len(outputs) != n or _width(outputs, "prove_shuffle") != width:
        raise ParameterError("prove_shuffle: inputs and outputs differ in shape")
    psi = secret.permutation
    if len(psi) != n or len(secret.nonces) != n:
        raise ParameterError("prove_shuffle: the witness does not match the rows")
    gens = shuffle_generators(group, context, n)
    h, hs = (gens[0], gens[1:]) if generators is None else (generators[0], generators[1:])

    def draw(count: int) -> list[Scalar]:
        return [next(randomness) for _ in range(count)]

    # Every exponent below is a secret (nonces, and products of u'_i, which follow the
    # permutation), and so is every partial product (g^r_j alone would reveal which h_i
    # went into c_j): each published value is one Group.secret_product.
    # Permutation commitment: c_{ψ(i)} = g^{r_ψ(i)} · h_i.
    r = draw(n)
    committed: list[list[Element]] = [[] for _ in range(n)]
    for i, j in enumerate(psi):
        committed[j].append(hs[i])
    com = [
        group.secret_product([g, *committed[j]], [r[j], *(1 for _ in committed[j])])
        for j in range(n)
    ]

    transcript, u = statement_transcript(public_key, gens, inputs, outputs, com, width, context)
    u_perm = [u[j] for j in psi]  # u'_i = u_{ψ(i)}

    # Commitment chain: ĉ_0 = h, ĉ_i = g^{r̂_i} · ĉ_{i-1}^{u'_i}, computed in closed form
    # ĉ_i = g^{R_i} · h^{U_i} with R_i = r̂_i + u'_i·R_{i-1}, U_i = u'_i·U_{i-1} (R_0 = 0,
    # U_0 = 1): powers of the two fixed bases g and h instead of a chain of variable ones.
    # The exponents are secrets, so these powers never use a fixed-base table; h's table
    # (modp4096) serves the checker's public exponents when it runs in the same process.
    if n >= 20:
        group.precompute(h)
    r_hat = draw(n)
    big_r = [group.scalar(0)]
    big_u = [group.scalar(1)]
    chain: list[Element] = []
    for i in range(n):
        big_r.append(r_hat[i] + u_perm[i] * big_r[i])
        big_u.append(u_perm[i] * big_u[i])
        chain.append(group.secret_product([g, h], [big_r[i + 1], big_u[i + 1]]))

    w1, w2, w3 = draw(3)
    w4 = draw(width)
    w_hat = draw(n)
    w_prime = draw(n)
    t1 = group.secret_product([g], [w1])
    t2 = group.secret_product([g], [w2])
    t3 = group.secret_product([g, *hs], [w3, *w_prime])
    t4: list[tuple[Element, Element]] = []
    for k in range(width):
        alphas = [row[k].alpha for row in outputs]
        betas = [row[k].beta for row in outputs]
        t4.append(
            (
                group.secret_product([g, *alphas], [-w4[k], *w_prime]),
                group.secret_product([public_key, *betas], [-w4[k], *w_prime]),
            )
        )
    # t̂_i = g^{ω̂_i} · ĉ_{i-1}^{ω'_i} = g^{ω̂_i + ω'_i·R_{i-1}} · h^{ω'_i·U_{i-1}}
    t_hat = [
        group.secret_product([g, h], [w_hat[i] + w_prime[i] * big_r[i], w_prime[i] * big_u[i]])
        for i in range(n)
    ]
    c = final_challenge(transcript, chain, t1, t2, t3, t4, t_hat)

    # ĉ_N = g^{R_N} · h^{Π u'_i}, and R_N = Σ r̂_i·v_i with v_i = Π_{k>i} u'_k.
    r_bar = sum((x.value for x in r), 0)
    r_chain = big_r[n].value
    r_tilde = sum((r[j].value * u[j].value for j in range(n)), 0)
    s4 = []
    for k in range(width):
        r_prime = sum((secret.nonces[i][k].value * u_perm[i].value for i in range(n)), 0)
        s4.append(w4[k] + c * r_prime)
    return ShuffleProof(
        commitments=tuple(com),
        chain=tuple(chain),
        t1=t1,
        t2=t2,
        t3=t3,
        t4=tuple(t4),
        t_hat=tuple(t_hat),
        challenge=c,
        s1=w1 + c * r_bar,
        s2=w2 + c * r_chain,
        s3=w3 + c * r_tilde,
        s4=tuple(s4),
        s_hat=tuple(w_hat[i] + c * r_hat[i] for i in range(n)),
        s_prime=tuple(w_prime[i] + c * u_perm[i] for i in range(n)),
    )


# --- checking -------------------------------------------------------------------------


def check_shuffle(
    public_key: Element,
    inputs: Sequence[Sequence[Ciphertext]],
    outputs: Sequence[Sequence[Ciphertext]],
    proof: ShuffleProof,
    context: bytes,
) -> None:
    """Return if ``proof`` shows that ``outputs`` re-encrypts a permutation of ``inputs``
    under ``public_key`` in ``context``; otherwise raise :class:`InvalidShuffle` naming
    the first failed check, in this order: ``shuffle.shape`` (counts and widths),
    ``shuffle.challenge`` (the proof's challenge is not the hash of this statement and its
    commitments: another context, key, input or output), ``shuffle.t1`` (the commitments
    do not sum to the generators), ``shuffle.t2`` (the chain does not end in ``Π u_i``:
    not a permutation), ``shuffle.t3`` (the commitments do not open to the permuted
    ``u``), ``shuffle.t4`` (a column is not a re-encryption of the input under that
    permutation), ``shuffle.t_hat`` (a link of the chain).

    The elements of the ciphertexts and of the proof must be validated group elements
    (decoded with ``decode_element``, as :meth:`ShuffleProof.from_dict` does). The
    generators are derived here from ``context``; none come from the prover."""
    group = public_key.group
    g = group.generator
    n = len(inputs)
    if n == 0 or len(outputs) != n:
        raise InvalidShuffle("shuffle.shape", f"{n} input rows but {len(outputs)} output rows")
    width = len(inputs[0])
    if width == 0 or any(len(row) != width for row in (*inputs, *outputs)):
        raise InvalidShuffle("shuffle.shape", "rows differ in width")
    if (
        len(proof.commitments) != n
        or len(proof.chain) != n
        or len(proof.t_hat) != n
        or len(proof.s_hat) != n
        or len(proof.s_prime) != n
    ):
        raise InvalidShuffle("shuffle.shape", f"the proof is not for {n} rows")
    if len(proof.t4) != width or len(proof.s4) != width:
        raise InvalidShuffle("shuffle.shape", f"the proof is not for rows of width {width}")

    gens = shuffle_generators(group, context, n)
    h, hs = gens[0], gens[1:]
    transcript, u = statement_transcript(
        public_key, gens, inputs, outputs, proof.commitments, width, context
    )
    c = final_challenge(
        transcript, proof.chain, proof.t1, proof.t2, proof.t3, proof.t4, proof.t_hat
    )
    if c != proof.challenge:
        raise InvalidShuffle(
            "shuffle.challenge", "the challenge is not the hash of this statement and proof"
        )
    minus_c = -c

    # t1: g^s1 · (Π c_j / Π h_i)^-c = t1
    c_bar = group.identity
    for com, gen in zip(proof.commitments, hs, strict=True):
        c_bar = c_bar * com / gen
    if g**proof.s1 * c_bar**minus_c != proof.t1:
        raise InvalidShuffle("shuffle.t1", "g^s1 · (Πc_j / Πh_i)^-c differs from t1")

    # t2: g^s2 · (ĉ_N / h^{Π u_i})^-c = t2
    u_product = group.scalar(1)
    for x in u:
        u_product = u_product * x
    c_hat = proof.chain[-1] / h**u_product
    if g**proof.s2 * c_hat**minus_c != proof.t2:
        raise InvalidShuffle("shuffle.t2", "g^s2 · (ĉ_N / h^Πu)^-c differs from t2")

    # t3: g^s3 · Π h_i^{s'_i} · Π c_j^{-c·u_j} = t3
    cu = [minus_c * x for x in u]
    lhs = g**proof.s3 * group.product_of_powers([*hs, *proof.commitments], [*proof.s_prime, *cu])
    if lhs != proof.t3:
        raise InvalidShuffle("shuffle.t3", "g^s3 · Πh_i^s'_i · Πc_j^(-c·u_j) differs from t3")

    # t4, per column k: g^-s4 · Π α'_i^{s'_i} · Π α_j^{-c·u_j} = t4α (and β with pk)
    for k in range(width):
        for part, base, index in (("α", g, 0), ("β", public_key, 1)):
            outs = [row[k].alpha if index == 0 else row[k].beta for row in outputs]
            ins = [row[k].alpha if index == 0 else row[k].beta for row in inputs]
            value = base ** (-proof.s4[k]) * group.product_of_powers(
                [*outs, *ins], [*proof.s_prime, *cu]
            )
            if value != proof.t4[k][index]:
                raise InvalidShuffle(
                    "shuffle.t4",
                    f"column {k}: the {part} re-encryption equation does not hold",
                )

    # t̂_i: g^ŝ_i · ĉ_{i-1}^{s'_i} · ĉ_i^-c = t̂_i, all N links as one random linear
    # combination (weights ρ_i of 128 bits from the OS; a false link passes with probability
    # at most 2^-127), each ĉ_i one term; one by one only to name a false link.
    _check_chain_links(h, proof, minus_c)


def _check_chain_links(h: Element, proof: ShuffleProof, minus_c: Scalar) -> None:
    group = h.group
    q = group.order
    n = len(proof.chain)
    rho = [secrets.randbits(128) | 1 for _ in range(n)]
    g_exponent = 0
    chain_exponents = [0] * n
    for i in range(n):
        g_exponent += rho[i] * proof.s_hat[i].value
        chain_exponents[i] += rho[i] * minus_c.value
        if i + 1 < n:
            chain_exponents[i] += rho[i + 1] * proof.s_prime[i + 1].value
    combined = group.product_of_powers(
        [group.generator, h, *proof.chain, *proof.t_hat],
        [g_exponent % q, rho[0] * proof.s_prime[0].value % q]
        + [e % q for e in chain_exponents]
        + [q - r for r in rho],
    )
    if combined.is_identity():
        return
    g = group.generator
    previous = h
    for i in range(n):
        value = g ** proof.s_hat[i] * group.product_of_powers(
            [previous, proof.chain[i]], [proof.s_prime[i], minus_c]
        )
        if value != proof.t_hat[i]:
            raise InvalidShuffle("shuffle.t_hat", f"link {i + 1} of the commitment chain")
        previous = proof.chain[i]
    # Every link holds alone but not together: only possible with a non-subgroup element.
    raise InvalidShuffle("shuffle.t_hat", "the links hold one by one but not together")
