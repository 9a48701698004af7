"""verivote.proofs.shuffle and shuffle_decryption: the re-encryption mix, its proof, and the
decryption proofs of mixed ciphertexts.

Known answers from tests/vectors/shuffle.json (generate_shuffle.py, through the private
twins); Hypothesis properties (any permutation and nonces give a proof that checks, and
the output decrypts to the input's plaintexts permuted); one negative test per attack, each
pinned to the check that must catch it.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
from collections.abc import Iterator

import pytest
from helpers import load_vectors_from_file, prop
from hypothesis import strategies as st

from verivote import elgamal, encoding
from verivote.elgamal import Ciphertext
from verivote.errors import DecodeError, InvalidElement, InvalidProof, ParameterError
from verivote.groups import get_group, modp4096
from verivote.proofs import chaum_pedersen as cp
from verivote.proofs import shuffle as sh
from verivote.proofs import shuffle_decryption as sd
from verivote.proofs.shuffle import InvalidShuffle, ShuffleProof, ShuffleSecret

VECTORS = load_vectors_from_file("shuffle.json")
GROUP_VECTORS = load_vectors_from_file("groups.json")["groups"]
CONTEXT = b"verivote/tests/shuffle"


def _not_an_element(group) -> str:
    """Hex of an encoding of the right length that no element has: all zeros (the identity
    is refused) except in ristretto255, whose identity that is; there s = 1 (negative)."""
    return "01" + "00" * 31 if group.name == "ristretto255" else "00" * group.element_size


def _stream(group, label: str) -> Iterator:
    for i in itertools.count():
        yield group.hash_to_scalar(
            b"verivote/tests/shuffle-stream", label.encode(), bytes([i % 256]), i.to_bytes(8, "big")
        )


def _rows(keypair, n: int, width: int) -> tuple[list[tuple[Ciphertext, ...]], list[list[int]]]:
    group = keypair.public.group
    messages = [[(i * width + k) % 7 for k in range(width)] for i in range(n)]
    rows = [
        tuple(
            elgamal.encrypt_with_nonce(
                keypair.public, m, group.hash_to_scalar(b"verivote/tests/rows", bytes([i, k]))
            )
            for k, m in enumerate(row)
        )
        for i, row in enumerate(messages)
    ]
    return rows, messages


def _decrypt_rows(keypair, rows) -> list[list[bytes]]:
    return [
        [elgamal.decrypt_to_element(keypair.secret, ct).to_bytes() for ct in row] for row in rows
    ]


def _size(group) -> tuple[int, int]:
    """(N, w) for attack tests: three rows of two ciphertexts; modp4096 two rows."""
    return (3, 2) if group.name == "ed25519" else (2, 2)


def _check_fails(check: str, fn) -> InvalidShuffle:
    with pytest.raises(InvalidShuffle) as info:
        fn()
    assert info.value.check == check, f"expected {check}, got {info.value}"
    return info.value


@pytest.fixture(scope="module")
def mixed(group, keypair):
    """An honest mix of small rows in CONTEXT: (inputs, outputs, proof, secret)."""
    n, width = _size(group)
    rows, _ = _rows(keypair, n, width)
    outputs, proof, secret = sh.shuffle(keypair.public, rows, CONTEXT)
    return rows, outputs, proof, secret


# --- elgamal re-encryption ------------------------------------------------------------


def test_reencrypt_row(group, keypair):
    rows, _ = _rows(keypair, 1, 3)
    nonces = tuple(group.hash_to_scalar(b"verivote/tests/re", bytes([k])) for k in range(3))
    again = elgamal.reencrypt_row_with_nonces(keypair.public, rows[0], nonces)
    assert again == tuple(
        elgamal.reencrypt(keypair.public, ct, r) for ct, r in zip(rows[0], nonces, strict=True)
    )
    fresh, fresh_nonces = elgamal.reencrypt_row(keypair.public, rows[0])
    assert len(fresh_nonces) == 3 and fresh != rows[0]
    assert fresh == elgamal.reencrypt_row_with_nonces(keypair.public, rows[0], fresh_nonces)
    assert _decrypt_rows(keypair, [fresh]) == _decrypt_rows(keypair, rows)
    one, nonce = elgamal.reencrypt_fresh(keypair.public, rows[0][0])
    assert one == elgamal.reencrypt(keypair.public, rows[0][0], nonce) and one != rows[0][0]
    with pytest.raises(ParameterError):
        elgamal.reencrypt_row_with_nonces(keypair.public, rows[0], nonces[:2])


# --- product of powers ----------------------------------------------------------------


def test_product_of_powers(group):
    g = group.generator
    bases = [group.hash_to_element(b"verivote/tests/multi", bytes([i])) for i in range(3)]
    bases += [g**i for i in range(1, 6)] + [group.identity]

    @prop(group, st.lists(st.integers(0, group.order - 1), min_size=0, max_size=9), fast=25, slow=4)
    def check(exponents):
        chosen = bases[: len(exponents)]
        expected = group.identity
        for base, k in zip(chosen, exponents, strict=False):
            expected = expected * base**k
        assert group.product_of_powers(chosen, exponents) == expected

    assert group.product_of_powers(bases[:7], [0] * 7) == group.identity
    assert group.product_of_powers(bases[:7], [-1] * 7) == group.product_of_powers(
        bases[:7], [group.order - 1] * 7
    )
    with pytest.raises(ParameterError):
        group.product_of_powers(bases[:2], [1])


# --- generators -----------------------------------------------------------------------


def test_generators(group):
    gens = sh.shuffle_generators(group, b"verivote/tests/generators", 5)
    assert len(gens) == 6 and len({h.to_bytes() for h in gens}) == 6
    assert all(not h.is_identity() and h != group.generator for h in gens)
    assert gens[0] == group.hash_to_element(
        sh.GENERATOR_DOMAIN, b"verivote/tests/generators", bytes(8)
    )
    assert sh.shuffle_generators(group, b"verivote/tests/generators", 2) == gens[:3]
    assert sh.shuffle_generators(group, b"verivote/tests/generators-2", 2) != gens[:3]


def test_generators_survive_the_cache(group):
    from verivote.proofs import shuffle_statement

    first = sh.shuffle_generators(group, b"verivote/tests/evicted", 2)
    for i in range(shuffle_statement._CACHE_LIMIT + 1):  # push it out of the cache
        sh.shuffle_generators(group, b"verivote/tests/filler-%d" % i, 0)
    assert (group.name, b"verivote/tests/evicted") not in shuffle_statement._GENERATOR_CACHE
    assert sh.shuffle_generators(group, b"verivote/tests/evicted", 3)[:3] == first


def test_generator_vectors():
    for name, case in VECTORS["groups"].items():
        group = get_group(name)
        n = len(case["inputs"])
        gens = sh.shuffle_generators(group, bytes.fromhex(case["context"]), n)
        assert [h.hex() for h in gens] == case["generators"]


# --- known answers --------------------------------------------------------------------


def _stream_labels(group) -> Iterator:
    for i in itertools.count():
        yield group.hash_to_scalar(b"verivote/test-vectors", f"shuffle-w-{i}".encode())


@pytest.mark.parametrize("name", sorted(VECTORS["groups"]))
def test_known_answers(name):
    case = VECTORS["groups"][name]
    group = get_group(name)
    context = bytes.fromhex(case["context"])
    public = group.decode_element(bytes.fromhex(case["public_key"]))
    inputs = [tuple(Ciphertext.from_dict(group, ct) for ct in row) for row in case["inputs"]]
    outputs = [tuple(Ciphertext.from_dict(group, ct) for ct in row) for row in case["outputs"]]
    n, width = len(inputs), len(inputs[0])
    nonces = tuple(
        tuple(group.decode_scalar(bytes.fromhex(r)) for r in row)
        for row in case["reencryption_nonces"]
    )
    secret = ShuffleSecret(tuple(case["permutation"]), nonces)
    assert sh._mix(public, inputs, secret) == outputs
    proof = sh._prove_shuffle(public, inputs, outputs, secret, context, _stream_labels(group))
    assert proof.to_dict() == case["proof"]
    decoded = ShuffleProof.from_dict(group, case["proof"], n, width)
    assert decoded == proof and (decoded.rows, decoded.width) == (n, width)
    sh.check_shuffle(public, inputs, outputs, decoded, context)
    # Decrypting the outputs gives the messages in the permuted order.
    x = group.decode_scalar(bytes.fromhex(case["secret_key"]))
    expected = [case["messages"][j] for j in case["permutation"]]
    got = [
        [
            elgamal.DiscreteLog.for_group(group, 100).solve(elgamal.decrypt_to_element(x, ct))
            for ct in row
        ]
        for row in outputs
    ]
    assert got == expected

    d = case["decryption"]
    share_secret = group.decode_scalar(bytes.fromhex(d["share_secret"]))
    alpha = group.decode_element(bytes.fromhex(d["alpha"]))
    share, dproof = sd._prove_decryption(
        share_secret, alpha, context, group.decode_scalar(bytes.fromhex(d["nonce"]))
    )
    assert share.hex() == d["share"] and dproof.to_dict() == d["proof"]
    key = group.decode_element(bytes.fromhex(d["share_key"]))
    sd.check_decryption(key, alpha, share, sd.DecryptionProof.from_dict(group, d["proof"]), context)


# --- properties -----------------------------------------------------------------------


def test_any_permutation_and_nonces_verify(group, keypair):
    max_n, max_w = (5, 3) if group.name == "ed25519" else (3, 2)

    @prop(
        group,
        st.integers(1, max_n).flatmap(
            lambda n: st.tuples(st.permutations(range(n)), st.integers(1, max_w))
        ),
        st.randoms(use_true_random=False),
        fast=15,
        slow=3,
    )
    def check(shape, rnd):
        permutation, width = shape
        n = len(permutation)
        rows, _ = _rows(keypair, n, width)
        nonces = tuple(
            tuple(group.scalar(rnd.randrange(group.order)) for _ in range(width)) for _ in range(n)
        )
        secret = ShuffleSecret(tuple(permutation), nonces)
        outputs = sh._mix(keypair.public, rows, secret)
        proof = sh.prove_shuffle(keypair.public, rows, outputs, secret, CONTEXT)
        sh.check_shuffle(keypair.public, rows, outputs, proof, CONTEXT)
        plain_in = _decrypt_rows(keypair, rows)
        plain_out = _decrypt_rows(keypair, outputs)
        assert plain_out == [plain_in[j] for j in permutation]
        assert sorted(plain_out) == sorted(plain_in)


def test_shuffle_honest(group, keypair, mixed):
    rows, outputs, proof, _ = mixed
    sh.check_shuffle(keypair.public, rows, outputs, proof, CONTEXT)
    assert sorted(_decrypt_rows(keypair, outputs)) == sorted(_decrypt_rows(keypair, rows))
    assert not set(itertools.chain(*rows)) & set(itertools.chain(*outputs))  # all re-encrypted
    round_trip = ShuffleProof.from_dict(group, proof.to_dict(), len(rows), len(rows[0]))
    sh.check_shuffle(keypair.public, rows, outputs, round_trip, CONTEXT)


def test_secret_is_not_shown(mixed):
    secret = mixed[3]
    assert "permutation" not in repr(secret) and str(secret.permutation) not in repr(secret)
    assert not hasattr(secret, "to_dict")


def test_rejects_bad_arguments(group, keypair):
    rows, _ = _rows(keypair, 2, 2)
    with pytest.raises(ParameterError):
        sh.shuffle(keypair.public, [], CONTEXT)
    with pytest.raises(ParameterError):
        sh.shuffle(keypair.public, [rows[0], rows[1][:1]], CONTEXT)
    secret = ShuffleSecret((0, 0), ((group.scalar(1),) * 2,) * 2)
    with pytest.raises(ParameterError):
        sh.prove_shuffle(keypair.public, rows, rows, secret, CONTEXT)


# --- attacks, each pinned to the check that catches it --------------------------------


def test_dropped_row(keypair, mixed):
    rows, outputs, proof, _ = mixed
    _check_fails(
        "shuffle.shape",
        lambda: sh.check_shuffle(keypair.public, rows, outputs[:-1], proof, CONTEXT),
    )
    # A mixer that drops a row and proves over one row fewer is caught the same way.
    _check_fails(
        "shuffle.shape",
        lambda: sh.check_shuffle(keypair.public, rows[:-1], outputs[:-1], proof, CONTEXT),
    )


def test_duplicated_row(group, keypair, mixed):
    rows, outputs, _, secret = mixed
    n = len(rows)
    # Honest-looking witness, one output replaced by a copy of another: the re-encryption
    # equation fails.
    forged = list(outputs)
    forged[1] = elgamal.reencrypt_row(keypair.public, forged[0])[0]
    proof = sh._prove_shuffle(keypair.public, rows, forged, secret, CONTEXT, _stream(group, "dup"))
    _check_fails(
        "shuffle.t4", lambda: sh.check_shuffle(keypair.public, rows, forged, proof, CONTEXT)
    )
    # A witness that maps two outputs to one input (not a permutation) makes every
    # re-encryption equation hold: the commitment chain's product catches it.
    psi = (0, 0, *range(2, n))
    cheat = ShuffleSecret(psi, secret.nonces)
    dup = [
        elgamal.reencrypt_row_with_nonces(keypair.public, rows[j], cheat.nonces[i])
        for i, j in enumerate(psi)
    ]
    proof = sh._prove_shuffle(keypair.public, rows, dup, cheat, CONTEXT, _stream(group, "dup2"))
    _check_fails("shuffle.t2", lambda: sh.check_shuffle(keypair.public, rows, dup, proof, CONTEXT))


def test_replaced_row(group, keypair, mixed):
    rows, outputs, _, secret = mixed
    forged = list(outputs)
    forged[0] = tuple(elgamal.encrypt(keypair.public, 6)[0] for _ in forged[0])
    proof = sh._prove_shuffle(keypair.public, rows, forged, secret, CONTEXT, _stream(group, "rep"))
    _check_fails(
        "shuffle.t4", lambda: sh.check_shuffle(keypair.public, rows, forged, proof, CONTEXT)
    )


def test_reordered_without_proof(group, keypair, mixed):
    rows, outputs, proof, secret = mixed
    swapped = [outputs[1], outputs[0], *outputs[2:]]
    # The published proof no longer matches the statement.
    _check_fails(
        "shuffle.challenge", lambda: sh.check_shuffle(keypair.public, rows, swapped, proof, CONTEXT)
    )
    # Re-proved with the witness of the original order: the re-encryption equation fails.
    again = sh._prove_shuffle(
        keypair.public, rows, swapped, secret, CONTEXT, _stream(group, "swap")
    )
    _check_fails(
        "shuffle.t4", lambda: sh.check_shuffle(keypair.public, rows, swapped, again, CONTEXT)
    )
    # Inputs reordered under the same proof.
    _check_fails(
        "shuffle.challenge",
        lambda: sh.check_shuffle(keypair.public, rows[::-1], outputs, proof, CONTEXT),
    )


def test_replayed_under_other_context_or_key(group, keypair, mixed):
    rows, outputs, proof, _ = mixed
    _check_fails(
        "shuffle.challenge",
        lambda: sh.check_shuffle(keypair.public, rows, outputs, proof, CONTEXT + b"/other"),
    )
    other = group.generator ** group.hash_to_scalar(b"verivote/tests", b"other key")
    _check_fails(
        "shuffle.challenge", lambda: sh.check_shuffle(other, rows, outputs, proof, CONTEXT)
    )


def test_prover_chosen_generators(group, keypair, mixed):
    rows, outputs, _, secret = mixed
    n = len(rows)
    # Generators of another context, and generators with known logarithms (a trapdoor):
    # the checker uses its own, so the permutation commitment does not open.
    for gens in (
        sh.shuffle_generators(group, CONTEXT + b"/elsewhere", n),
        tuple(group.generator ** (i + 2) for i in range(n + 1)),
    ):
        proof = sh._prove_shuffle(
            keypair.public, rows, outputs, secret, CONTEXT, _stream(group, "gen"), gens
        )
        _check_fails(
            "shuffle.t1",
            lambda proof=proof: sh.check_shuffle(keypair.public, rows, outputs, proof, CONTEXT),
        )
    # The order of the checker's own generators matters as much.
    mine = sh.shuffle_generators(group, CONTEXT, n)
    swapped = (mine[0], mine[2], mine[1], *mine[3:])
    proof = sh._prove_shuffle(
        keypair.public, rows, outputs, secret, CONTEXT, _stream(group, "gen2"), swapped
    )
    _check_fails(
        "shuffle.t3", lambda: sh.check_shuffle(keypair.public, rows, outputs, proof, CONTEXT)
    )


def _altered(proof: ShuffleProof, field: str) -> ShuffleProof:
    """``proof`` with the first element of ``field`` multiplied by g, or its first scalar
    plus one."""
    group = proof.s1.group
    value = getattr(proof, field)
    if field == "t4":
        changed = ((value[0][0] * group.generator, value[0][1]), *value[1:])
    elif field in ("commitments", "chain", "t_hat"):
        changed = (value[0] * group.generator, *value[1:])
    elif field in ("s4", "s_hat", "s_prime"):
        changed = (value[0] + 1, *value[1:])
    elif field in ("t1", "t2", "t3"):
        changed = value * group.generator
    else:
        changed = value + 1
    return dataclasses.replace(proof, **{field: changed})


@pytest.mark.parametrize(
    ("field", "check"),
    [
        ("commitments", "shuffle.challenge"),
        ("chain", "shuffle.challenge"),
        ("t1", "shuffle.challenge"),
        ("t4", "shuffle.challenge"),
        ("t_hat", "shuffle.challenge"),
        ("challenge", "shuffle.challenge"),
        ("s1", "shuffle.t1"),
        ("s2", "shuffle.t2"),
        ("s3", "shuffle.t3"),
        ("s_prime", "shuffle.t3"),
        ("s4", "shuffle.t4"),
        ("s_hat", "shuffle.t_hat"),
    ],
)
def test_altered_proof_field(keypair, mixed, field, check):
    rows, outputs, proof, _ = mixed
    bad = _altered(proof, field)
    _check_fails(check, lambda: sh.check_shuffle(keypair.public, rows, outputs, bad, CONTEXT))


def test_shape_mismatch(group, keypair, mixed):
    rows, outputs, proof, _ = mixed
    narrow_in = [row[:1] for row in rows]
    narrow_out = [row[:1] for row in outputs]
    _check_fails(
        "shuffle.shape",
        lambda: sh.check_shuffle(keypair.public, narrow_in, narrow_out, proof, CONTEXT),
    )
    _check_fails("shuffle.shape", lambda: sh.check_shuffle(keypair.public, [], [], proof, CONTEXT))
    ragged = [rows[0][:1], *rows[1:]]
    _check_fails(
        "shuffle.shape", lambda: sh.check_shuffle(keypair.public, ragged, outputs, proof, CONTEXT)
    )


def test_decoding_is_strict(group, mixed):
    rows, _, proof, _ = mixed
    n, width = len(rows), len(rows[0])
    obj = proof.to_dict()
    with pytest.raises(DecodeError):
        ShuffleProof.from_dict(group, obj, n + 1, width)
    with pytest.raises(DecodeError):
        ShuffleProof.from_dict(group, obj, n, width + 1)
    with pytest.raises(DecodeError):
        ShuffleProof.from_dict(group, {**obj, "x": 1}, n, width)
    bad = {**obj, "t": {**obj["t"], "t1": _not_an_element(group)}}
    with pytest.raises(InvalidElement):
        ShuffleProof.from_dict(group, bad, n, width)
    bad = {**obj, "e": "ff" * group.scalar_size}
    with pytest.raises(DecodeError):
        ShuffleProof.from_dict(group, bad, n, width)


# --- decryption proofs of mixed ciphertexts ------------------------------------------


@pytest.fixture(scope="module")
def shares(group):
    """Two trustees' shares of four ciphertexts (two on modp4096)."""
    count = 4 if group.name == "ed25519" else 2
    keys = [group.hash_to_scalar(b"verivote/tests/share", bytes([t])) for t in range(2)]
    alphas = [group.hash_to_element(b"verivote/tests/alpha", bytes([i])) for i in range(count)]
    items = []
    for x in keys:
        for i, alpha in enumerate(alphas):
            context = CONTEXT + bytes([i])
            share, proof = sd.prove_decryption(x, alpha, context)
            items.append((group.generator**x, alpha, share, proof, context))
    return items


def test_decryption_proofs(group, shares):
    for key, alpha, share, proof, context in shares:
        sd.check_decryption(key, alpha, share, proof, context)
        # The same proof in challenge form is an ordinary Chaum–Pedersen proof.
        c = sd._challenge(key, alpha, share, proof, context)
        cp.verify_equal_logs(
            (group.generator, alpha),
            (key, share),
            cp.ChaumPedersenProof(c, proof.response),
            context,
        )
        assert sd.DecryptionProof.from_dict(group, proof.to_dict()) == proof
    for batch in (True, False):
        sd.check_decryptions(shares, batch=batch)
    sd.check_decryptions(shares)
    sd.check_decryptions([])


@pytest.mark.parametrize("batch", [True, False])
def test_false_decryption_is_named(group, shares, batch):
    items = list(shares)
    key, alpha, share, proof, context = items[3]
    items[3] = (key, alpha, share * group.generator, proof, context)
    with pytest.raises(sd.InvalidDecryption) as info:
        sd.check_decryptions(items, batch=batch)
    assert info.value.index == 3
    # A proof replayed for another ciphertext's share.
    items = list(shares)
    key, alpha, share, _, context = items[1]
    items[1] = (key, alpha, share, shares[0][3], context)
    with pytest.raises(sd.InvalidDecryption) as info:
        sd.check_decryptions(items, batch=batch)
    assert info.value.index == 1


def test_decryption_equations_named(group, shares):
    key, alpha, share, proof, context = shares[0]
    wrong_s = sd.DecryptionProof(proof.a1, proof.a2, proof.response + 1)
    with pytest.raises(sd.InvalidDecryption, match="A1"):
        sd.check_decryption(key, alpha, share, wrong_s, context)
    with pytest.raises(sd.InvalidDecryption, match="identity"):
        sd.check_decryption(key, group.identity, share, proof, context)
    batch = sd.DecryptionBatch(group)
    batch.add(key, alpha, share, wrong_s, context)
    with pytest.raises(InvalidProof):
        batch.verify()
    with pytest.raises(DecodeError):
        sd.DecryptionProof.from_dict(group, {"a1": proof.a1.hex(), "s": proof.response.hex()})


def test_false_chain_link_is_named(group, keypair, mixed):
    rows, outputs, proof, _ = mixed
    s_hat = list(proof.s_hat)
    s_hat[-1] = s_hat[-1] + 1
    bad = dataclasses.replace(proof, s_hat=tuple(s_hat))
    error = _check_fails(
        "shuffle.t_hat", lambda: sh.check_shuffle(keypair.public, rows, outputs, bad, CONTEXT)
    )
    assert f"link {len(rows)} " in error.reason


# --- decoding many elements at once ---------------------------------------------------


def test_decode_elements(group, mixed):
    _, outputs, _, _ = mixed
    good = [x.to_bytes() for row in outputs for ct in row for x in (ct.alpha, ct.beta)]
    assert group.decode_elements(good) == [group.decode_element(d) for d in good]
    assert group.decode_elements(good[:2]) == [group.decode_element(d) for d in good[:2]]
    size = group.element_size
    if group.name == "modp4096":
        p = modp4096.P
        # A quadratic residue outside the order-q subgroup (passes the Jacobi test, fails
        # the combined power), and a non-residue (fails the Jacobi test).
        residue = int.from_bytes(good[0], "big") * 4 % p
        bad = [residue.to_bytes(size, "big"), (p - 1).to_bytes(size, "big")]
    else:
        bad = [
            bytes.fromhex(case["encoded"])
            for case in GROUP_VECTORS[group.name]["elements"]
            if case["result"] == "invalid" and len(case["encoded"]) == 2 * size
        ]
        assert len(bad) >= 10
    for value in bad:
        for position in (0, len(good) - 1):
            data = list(good)
            data[position] = value
            with pytest.raises(InvalidElement):
                group.decode_elements(data)


def test_decode_rows(group, mixed):
    _, outputs, _, _ = mixed
    obj = [[ct.to_dict() for ct in row] for row in outputs]
    assert sh.decode_rows(group, obj, len(outputs), len(outputs[0])) == outputs
    with pytest.raises(DecodeError):
        sh.decode_rows(group, obj, len(outputs) + 1, len(outputs[0]))
    with pytest.raises(DecodeError):
        sh.decode_rows(group, obj, len(outputs), len(outputs[0]) + 1)
    broken = [list(row) for row in obj]
    broken[-1][-1] = {"a": broken[-1][-1]["a"], "b": _not_an_element(group)}
    with pytest.raises(InvalidElement):
        sh.decode_rows(group, broken, len(outputs), len(outputs[0]))


# --- an independent checker written from docs/crypto.md §11 alone ---------------------
# Plain integers, hashlib and pow: no verivote code but the group's constants. It checks
# the modp4096 known-answer case, so the page and the library cannot drift apart.

MODP_DIGEST = bytes.fromhex(
    "2db6ec67f978c408d549ceb2d6122c7bd731dd4e6d431caf49983b19e8e90c04"
    "0d16f2a52866032d818a2df8f86da63c9502c51739f37247b81b5668f903ac30"
)


def _u32(n: int) -> bytes:
    return n.to_bytes(4, "big")


def _frame(*fields: bytes) -> bytes:
    return b"".join(_u32(len(f)) + f for f in fields)


class _SpecTranscript:
    def __init__(self, protocol: bytes, context: bytes) -> None:
        self.h = hashlib.sha512()
        for field in (b"verivote/v1", protocol, MODP_DIGEST, context):
            self.put(field)

    def put(self, data: bytes) -> None:
        self.h.update(_u32(len(data)) + data)

    def field(self, label: bytes, data: bytes) -> _SpecTranscript:
        self.put(label)
        self.put(data)
        return self

    def elements(self, label: bytes, values: list[int]) -> _SpecTranscript:
        self.put(label)
        self.put(_u32(len(values)))
        for v in values:
            self.put(v.to_bytes(512, "big"))
        return self

    def challenge(self, q: int) -> int:
        return int.from_bytes(self.h.copy().digest(), "big") % q


def test_independent_checker_from_the_spec():
    p, q = modp4096.P, modp4096.Q
    r = (p - 1) // q
    g = pow(2, r, p)
    case = VECTORS["groups"]["modp4096"]
    ctx = bytes.fromhex(case["context"])
    ints = lambda hexes: [int(x, 16) for x in hexes]  # noqa: E731
    pk = int(case["public_key"], 16)
    inputs = [[(int(ct["a"], 16), int(ct["b"], 16)) for ct in row] for row in case["inputs"]]
    outputs = [[(int(ct["a"], 16), int(ct["b"], 16)) for ct in row] for row in case["outputs"]]
    n, w = len(inputs), len(inputs[0])
    proof = case["proof"]
    com, chain, t_hat = ints(proof["c"]), ints(proof["ch"]), ints(proof["t"]["th"])
    t1, t2, t3 = (int(proof["t"][k], 16) for k in ("t1", "t2", "t3"))
    t4 = [(int(a, 16), int(b, 16)) for a, b in proof["t"]["t4"]]
    e = int(proof["e"], 16)
    s1, s2, s3 = (int(proof["s"][k], 16) for k in ("s1", "s2", "s3"))
    s4, s_hat, s_prime = (ints(proof["s"][k]) for k in ("s4", "sh", "sp"))

    # §11.1 and §3: the generators.
    def hash_to_element(domain: bytes, *parts: bytes) -> int:
        counter = 0
        while True:
            d = hashlib.sha512(
                _frame(b"verivote/hash-to-element", b"modp4096", domain, _u32(counter), *parts)
            ).digest()
            wide = b"".join(hashlib.sha512(d + i.to_bytes(2, "big")).digest() for i in range(9))
            x = int.from_bytes(wide[:520], "big") % p
            if x:
                y = pow(x, r, p)
                if y not in (1, g):
                    return y
            counter += 1

    gens: list[int] = []
    j = 0
    while len(gens) < n + 1:
        candidate = hash_to_element(b"verivote/v1/shuffle/generators", ctx, j.to_bytes(8, "big"))
        j += 1
        if candidate not in gens:
            gens.append(candidate)
    assert gens == ints(case["generators"])
    h, hs = gens[0], gens[1:]

    # §11.2: the challenges.
    flat = lambda rows: [x for row in rows for ct in row for x in ct]  # noqa: E731
    tr = (
        _SpecTranscript(b"shuffle", ctx)
        .field(b"N", n.to_bytes(8, "big"))
        .field(b"w", w.to_bytes(8, "big"))
        .field(b"pk", pk.to_bytes(512, "big"))
        .elements(b"generators", gens)
        .elements(b"input", flat(inputs))
        .elements(b"output", flat(outputs))
        .elements(b"commitments", com)
    )
    seed = tr.challenge(q)
    u = [
        _SpecTranscript(b"shuffle/u", ctx)
        .field(b"seed", seed.to_bytes(32, "big"))
        .field(b"i", i.to_bytes(8, "big"))
        .challenge(q)
        for i in range(1, n + 1)
    ]
    tr = (
        tr.elements(b"chain", chain)
        .field(b"t1", t1.to_bytes(512, "big"))
        .field(b"t2", t2.to_bytes(512, "big"))
        .field(b"t3", t3.to_bytes(512, "big"))
        .elements(b"t4", [x for pair in t4 for x in pair])
        .elements(b"t_hat", t_hat)
    )
    assert tr.challenge(q) == e

    # §11.4: the equations, each on its own.
    inv = lambda x: pow(x, -1, p)  # noqa: E731
    prod = 1
    for c_j, h_i in zip(com, hs, strict=True):
        prod = prod * c_j * inv(h_i) % p
    assert pow(g, s1, p) * pow(prod, q - e, p) % p == t1
    u_all = 1
    for x in u:
        u_all = u_all * x % q
    c_hat = chain[-1] * inv(pow(h, u_all, p)) % p
    assert pow(g, s2, p) * pow(c_hat, q - e, p) % p == t2
    acc = pow(g, s3, p)
    for i in range(n):
        acc = acc * pow(hs[i], s_prime[i], p) * pow(com[i], (q - e) * u[i] % q, p) % p
    assert acc == t3
    for k in range(w):
        for part, base in ((0, g), (1, pk)):
            acc = pow(base, (q - s4[k]) % q, p)
            for i in range(n):
                acc = acc * pow(outputs[i][k][part], s_prime[i], p) % p
                acc = acc * pow(inputs[i][k][part], (q - e) * u[i] % q, p) % p
            assert acc == t4[k][part]
    previous = h
    for i in range(n):
        value = pow(g, s_hat[i], p) * pow(previous, s_prime[i], p) * pow(chain[i], q - e, p) % p
        assert value == t_hat[i]
        previous = chain[i]


def test_check_values_in_the_docs():
    """docs/crypto.md §11.6 quotes these."""
    gens = sh.shuffle_generators(get_group("ed25519"), b"verivote check values", 2)
    assert [h.hex() for h in gens] == [
        "96cb9962920f7fc1dcc24c7426bde620871614f9229e258d6d6ae82dc5e9bcf4",
        "35d25e360ce97c3284543c1e6f42eff7b2d98e3232f1a2ee4756cea2e052a175",
        "736b2d40a2954ec297bdb661d430a1e059c548a4fedc8f642cb12c9204c7f695",
    ]
    for name, digest in (
        ("ed25519", "6898d4f919cd4dd59b38c6cd7e767d7c6f00441d43eed5335432b739cdb75ca2"),
        ("modp4096", "75bf3997c775cffc8ba5b09c4cd881cf257eee76f30f75128b3b1b2d51dddaaa"),
    ):
        proof = VECTORS["groups"][name]["proof"]
        assert hashlib.sha256(encoding.dumps(proof)).hexdigest() == digest


def test_chained_mixes(group, keypair):
    """k mixers in turn, each input the previous output, each in its own context: every
    proof checks and the last output decrypts to the first input, permuted."""
    n, width = _size(group)
    rows, _ = _rows(keypair, n, width)
    current = rows
    for mixer in range(3 if group.name == "ed25519" else 2):
        context = CONTEXT + b"/mix/" + bytes([mixer])
        outputs, proof, _ = sh.shuffle(keypair.public, current, context)
        sh.check_shuffle(keypair.public, current, outputs, proof, context)
        if mixer:
            # A mix's proof does not check against any other mix's input.
            _check_fails(
                "shuffle.challenge",
                lambda o=outputs, p=proof, c=context: sh.check_shuffle(
                    keypair.public, rows, o, p, c
                ),
            )
        current = outputs
    assert sorted(_decrypt_rows(keypair, current)) == sorted(_decrypt_rows(keypair, rows))


def test_first_false_decryption_named(group, shares):
    @prop(group, st.sets(st.integers(0, len(shares) - 1), min_size=1), fast=10, slow=2)
    def check(false):
        items = list(shares)
        for index in false:
            key, alpha, share, proof, context = items[index]
            items[index] = (key, alpha, share, proof, context + b"/replayed")
        with pytest.raises(sd.InvalidDecryption) as info:
            sd.check_decryptions(items, batch=True)
        assert info.value.index == min(false)
