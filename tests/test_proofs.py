"""verivote.proofs: transcripts, Schnorr, Chaum–Pedersen and range proofs.

Known answers from tests/vectors/proofs.json and transcript.json; then properties: every
honest proof verifies, and changing any single field — a challenge, a response, an element
of the statement, the context, the limit — makes verification raise InvalidProof.
"""

from __future__ import annotations

import pytest
from helpers import error_class, load_vectors_from_file, prop, scalars
from hypothesis import strategies as st

from verivote import elgamal, encoding
from verivote.errors import DecodeError, InvalidElement, InvalidProof, InvalidScalar, ParameterError
from verivote.proofs import chaum_pedersen as cp
from verivote.proofs import range as rp
from verivote.proofs import schnorr
from verivote.proofs.transcript import Transcript, group_digest

PROOFS = load_vectors_from_file("proofs.json")["groups"]
TRANSCRIPTS = load_vectors_from_file("transcript.json")["groups"]
CONTEXT = b"verivote/tests/proofs"


def _scalar(group, text):
    return group.decode_scalar(bytes.fromhex(text))


def _element(group, text):
    return group.decode_element(bytes.fromhex(text))


def _raises_exactly(error, fn):
    with pytest.raises(error) as info:
        fn()
    assert type(info.value) is error, f"expected {error.__name__}, got {info.value!r}"


# --- transcript -------------------------------------------------------------------------
def test_transcript_vectors(group):
    v = TRANSCRIPTS[group.name]
    assert group_digest(group).hex() == v["group_digest"]
    assert len(v["transcripts"]) >= 4
    for case in v["transcripts"]:
        t = Transcript(bytes.fromhex(case["protocol"]), group, bytes.fromhex(case["context"]))
        for kind, label, arg in case["ops"]:
            label = bytes.fromhex(label)
            if kind == "bytes":
                t = t.bytes(label, bytes.fromhex(arg))
            elif kind == "integer":
                t = t.integer(label, arg)
            elif kind == "element":
                t = t.element(label, _element(group, arg))
            elif kind == "elements":
                t = t.elements(label, [_element(group, x) for x in arg])
            else:
                assert kind == "scalar"
                t = t.scalar(label, _scalar(group, arg))
        assert t.challenge().hex() == case["challenge"]


def test_transcript_challenge_does_not_consume(group):
    t = Transcript(b"test", group, b"ctx").integer(b"n", 1)
    assert t.challenge() == t.challenge()
    assert t.bytes(b"x", b"").challenge() != Transcript(b"test", group, b"ctx").challenge()


def test_transcript_separates_everything(group, other_group):
    def ch(protocol=b"p", context=b"c", label=b"l", data=b"d", g=group):
        return Transcript(protocol, g, context).bytes(label, data).challenge().to_bytes()

    base = ch()
    for changed in (
        ch(protocol=b"q"),
        ch(context=b"c2"),
        ch(label=b"l2"),
        ch(data=b"d2"),
        ch(label=b"ld", data=b""),
        ch(g=other_group),
    ):
        assert changed != base


# --- known answers: Schnorr -------------------------------------------------------------
def _schnorr_check(group, case):
    public = _element(group, case["public"])
    proof = schnorr.SchnorrProof.from_dict(group, case["proof"])
    schnorr.verify_schnorr(public, proof, bytes.fromhex(case["context"]))


def test_schnorr_vectors(group):
    cases = PROOFS[group.name]["schnorr"]
    assert {c["result"] for c in cases} == {"valid", "invalid"}
    for case in cases:
        if case["result"] == "valid":
            secret, nonce = _scalar(group, case["secret"]), _scalar(group, case["nonce"])
            public = _element(group, case["public"])
            assert group.generator**secret == public
            proof = schnorr._prove_schnorr(secret, public, bytes.fromhex(case["context"]), nonce)
            assert proof.to_dict() == case["proof"]
            _schnorr_check(group, case)
        else:
            _raises_exactly(
                error_class(case["error"]), lambda case=case: _schnorr_check(group, case)
            )


# --- known answers: Chaum–Pedersen ------------------------------------------------------
def _cp_check(group, case):
    bases = tuple(_element(group, x) for x in case["bases"])
    values = tuple(_element(group, x) for x in case["values"])
    proof = cp.ChaumPedersenProof.from_dict(group, case["proof"])
    cp.verify_equal_logs(bases, values, proof, bytes.fromhex(case["context"]))


def test_chaum_pedersen_vectors(group):
    cases = PROOFS[group.name]["chaum_pedersen"]
    assert {c["result"] for c in cases} == {"valid", "invalid"}
    for case in cases:
        if case["result"] == "valid":
            secret, nonce = _scalar(group, case["secret"]), _scalar(group, case["nonce"])
            bases = tuple(_element(group, x) for x in case["bases"])
            values = tuple(_element(group, x) for x in case["values"])
            assert values == (bases[0] ** secret, bases[1] ** secret)
            context = bytes.fromhex(case["context"])
            proof = cp._prove_equal_logs(secret, bases, values, context, nonce)
            assert proof.to_dict() == case["proof"]
            _cp_check(group, case)
        else:
            _raises_exactly(error_class(case["error"]), lambda case=case: _cp_check(group, case))


# --- known answers: range ---------------------------------------------------------------
def _range_check(group, case):
    h = _element(group, case["public_key"])
    ct = elgamal.Ciphertext.from_dict(group, case["ciphertext"])
    proof = rp.RangeProof.from_dict(group, case["proof"], case["limit"])
    rp.verify_range(h, ct, proof, case["limit"], bytes.fromhex(case["context"]))


def test_range_vectors(group):
    cases = PROOFS[group.name]["range"]
    assert {c["limit"] for c in cases if c["result"] == "valid"} == {1, 3}
    for case in cases:
        if case["result"] == "valid":
            h = _element(group, case["public_key"])
            nonce = _scalar(group, case["nonce"])
            ct = elgamal.encrypt_with_nonce(h, case["value"], nonce)
            assert ct.to_dict() == case["ciphertext"]
            sims = [(_scalar(group, c), _scalar(group, s)) for c, s in case["sims"]]
            proof = rp._prove_range(
                h,
                ct,
                case["value"],
                nonce,
                case["limit"],
                bytes.fromhex(case["context"]),
                _scalar(group, case["w"]),
                sims,
            )
            assert proof.to_dict() == case["proof"]
            _range_check(group, case)
        else:
            _raises_exactly(error_class(case["error"]), lambda case=case: _range_check(group, case))


# --- every honest proof verifies --------------------------------------------------------
contexts = st.binary(max_size=40)


def test_schnorr_completeness(group):
    @prop(group, scalars(group, nonzero=True), contexts, slow=6)
    def _(x, context):
        public = group.generator**x
        schnorr.verify_schnorr(public, schnorr.prove_schnorr(x, public, context), context)


def test_chaum_pedersen_completeness(group):
    @prop(group, scalars(group), scalars(group, nonzero=True), contexts, slow=5)
    def _(x, a, context):
        bases = (group.generator, group.generator**a)
        values = (bases[0] ** x, bases[1] ** x)
        cp.verify_equal_logs(bases, values, cp.prove_equal_logs(x, bases, values, context), context)


def test_range_completeness(group, keypair):
    h = keypair.public

    @prop(group, st.data(), scalars(group), contexts, fast=20, slow=5)
    def _(data, r, context):
        limit = data.draw(st.sampled_from([1, 2, 3, 5]))
        value = data.draw(st.integers(0, limit))
        ct = elgamal.encrypt_with_nonce(h, value, r)
        proof = rp.prove_range(h, ct, value, r, limit, context)
        assert proof.limit == limit
        rp.verify_range(h, ct, proof, limit, context)


def test_range_max_limit(group, keypair):
    h = keypair.public
    r = group.scalar(12345)
    ct = elgamal.encrypt_with_nonce(h, rp.MAX_RANGE, r)
    proof = rp.prove_range(h, ct, rp.MAX_RANGE, r, rp.MAX_RANGE, CONTEXT)
    rp.verify_range(h, ct, proof, rp.MAX_RANGE, CONTEXT)


# --- any single-field change makes the proof fail ---------------------------------------
# Each proof is flattened into named fields (scalars, elements, the context, the limit);
# a mutation changes exactly one field and verification must raise InvalidProof.


def _schnorr_fields(group):
    x = group.hash_to_scalar(CONTEXT, b"schnorr")
    public = group.generator**x
    proof = schnorr.prove_schnorr(x, public, CONTEXT)
    return {"c": proof.challenge, "s": proof.response, "X": public, "context": CONTEXT}


def _schnorr_verify(f):
    schnorr.verify_schnorr(f["X"], schnorr.SchnorrProof(f["c"], f["s"]), f["context"])


def _cp_fields(group):
    x = group.hash_to_scalar(CONTEXT, b"cp")
    bases = (group.generator, group.hash_to_element(CONTEXT, b"alpha"))
    values = (bases[0] ** x, bases[1] ** x)
    proof = cp.prove_equal_logs(x, bases, values, CONTEXT)
    return {
        "c": proof.challenge,
        "s": proof.response,
        "G1": bases[0],
        "G2": bases[1],
        "Y1": values[0],
        "Y2": values[1],
        "context": CONTEXT,
    }


def _cp_verify(f):
    proof = cp.ChaumPedersenProof(f["c"], f["s"])
    cp.verify_equal_logs((f["G1"], f["G2"]), (f["Y1"], f["Y2"]), proof, f["context"])


RANGE_LIMIT = 3


def _range_fields(group):
    h = group.generator ** group.hash_to_scalar(CONTEXT, b"range")
    r = group.hash_to_scalar(CONTEXT, b"range-nonce")
    ct = elgamal.encrypt_with_nonce(h, 2, r)
    proof = rp.prove_range(h, ct, 2, r, RANGE_LIMIT, CONTEXT)
    fields = {"h": h, "alpha": ct.alpha, "beta": ct.beta, "context": CONTEXT, "limit": 3}
    for j in range(RANGE_LIMIT + 1):
        fields[f"c{j}"] = proof.challenges[j]
        fields[f"s{j}"] = proof.responses[j]
        fields[f"b{j}"] = proof.commitments[j]
        fields[f"a{j}"] = proof.a_commitments[j]
    return fields


def _range_verify(f):
    n = RANGE_LIMIT + 1
    proof = rp.RangeProof(
        tuple(f[f"c{j}"] for j in range(n)),
        tuple(f[f"s{j}"] for j in range(n)),
        tuple(f[f"b{j}"] for j in range(n)),
        tuple(f[f"a{j}"] for j in range(n)),
    )
    ct = elgamal.Ciphertext(f["alpha"], f["beta"])
    rp.verify_range(f["h"], ct, proof, f["limit"], f["context"])


KINDS = {
    "schnorr": (_schnorr_fields, _schnorr_verify, ["c", "s", "X", "context"]),
    "chaum_pedersen": (_cp_fields, _cp_verify, ["c", "s", "G1", "G2", "Y1", "Y2", "context"]),
    "range": (
        _range_fields,
        _range_verify,
        [f"{x}{j}" for x in "abcs" for j in range(RANGE_LIMIT + 1)]
        + ["h", "alpha", "beta", "context", "limit"],
    ),
}
_FIELDS_CACHE: dict = {}


def _honest(group, kind):
    key = (group.name, kind)
    if key not in _FIELDS_CACHE:
        _FIELDS_CACHE[key] = KINDS[kind][0](group)
    return dict(_FIELDS_CACHE[key])


@pytest.mark.parametrize(
    ("kind", "field"), [(kind, field) for kind, (_, _, fields) in KINDS.items() for field in fields]
)
def test_single_field_change_fails(group, kind, field):
    _, verify, _ = KINDS[kind]
    honest = _honest(group, kind)
    verify(honest)  # the unchanged proof is good
    original = honest[field]
    if field == "context":
        change = st.binary(max_size=40).filter(lambda b: b != original)
    elif field == "limit":
        change = st.sampled_from([1, 2, 4, 5, rp.MAX_RANGE])
    elif isinstance(original, type(group.generator)):
        change = scalars(group, nonzero=True).map(lambda d: original * group.generator**d)
    else:
        change = scalars(group, nonzero=True).map(lambda d: original + d)

    @prop(group, change, fast=20, slow=4)
    def _(new):
        assert new != original
        with pytest.raises(InvalidProof):
            verify({**honest, field: new})


@pytest.mark.parametrize("kind", list(KINDS))
def test_statement_element_replaced_by_identity_fails(group, kind):
    _, verify, fields = KINDS[kind]
    honest = _honest(group, kind)
    for field in fields:
        if isinstance(honest[field], type(group.generator)):
            with pytest.raises(InvalidProof):
                verify({**honest, field: group.identity})


def test_range_challenges_swapped_fail(group):
    honest = _honest(group, "range")
    for i in range(RANGE_LIMIT + 1):
        for j in range(i + 1, RANGE_LIMIT + 1):
            swapped = {**honest, f"c{i}": honest[f"c{j}"], f"c{j}": honest[f"c{i}"]}
            with pytest.raises(InvalidProof):
                _range_verify(swapped)


def test_range_limit_is_bound_into_the_transcript(group, keypair):
    # A proof for [0, 3] with the last branch cut off is shaped like a proof for [0, 2]; it
    # must still fail, because L itself is hashed.
    h = keypair.public
    r = group.scalar(5)
    ct = elgamal.encrypt_with_nonce(h, 1, r)
    proof = rp.prove_range(h, ct, 1, r, 3, CONTEXT)
    cut = rp.RangeProof(
        proof.challenges[:3], proof.responses[:3], proof.commitments[:3], proof.a_commitments[:3]
    )
    with pytest.raises(InvalidProof):
        rp.verify_range(h, ct, cut, 2, CONTEXT)
    with pytest.raises(InvalidProof):
        rp.verify_range(h, ct, proof, 2, CONTEXT)
    with pytest.raises(InvalidProof):
        rp.verify_range(
            h,
            ct,
            rp.RangeProof(
                proof.challenges, proof.responses[:3], proof.commitments, proof.a_commitments
            ),
            3,
            CONTEXT,
        )


# --- other context, other key, other protocol, other group --------------------------------
def test_other_context_and_key(group, keypair):
    x = group.scalar(424242)
    public = group.generator**x
    proof = schnorr.prove_schnorr(x, public, CONTEXT)
    for context in (CONTEXT + b"!", b"", CONTEXT[:-1]):
        with pytest.raises(InvalidProof):
            schnorr.verify_schnorr(public, proof, context)
    with pytest.raises(InvalidProof):
        schnorr.verify_schnorr(keypair.public, proof, CONTEXT)

    h = keypair.public
    ct = elgamal.encrypt_with_nonce(h, 1, group.scalar(9))
    proof = rp.prove_range(h, ct, 1, group.scalar(9), 1, CONTEXT)
    with pytest.raises(InvalidProof):
        rp.verify_range(h, ct, proof, 1, CONTEXT + b"!")
    other_h = h * group.generator
    with pytest.raises(InvalidProof):
        rp.verify_range(other_h, ct, proof, 1, CONTEXT)


def test_protocols_are_domain_separated(group):
    # A Schnorr proof for X is not a Chaum–Pedersen proof for (g, g) / (X, X).
    g = group.generator
    x = group.scalar(31337)
    X = g**x
    proof = schnorr.prove_schnorr(x, X, CONTEXT)
    as_cp = cp.ChaumPedersenProof(proof.challenge, proof.response)
    cp.verify_equal_logs((g, g), (X, X), cp.prove_equal_logs(x, (g, g), (X, X), CONTEXT), CONTEXT)
    with pytest.raises(InvalidProof):
        cp.verify_equal_logs((g, g), (X, X), as_cp, CONTEXT)


def test_adaptive_statement_forgery_fails(group):
    # The attack on weak Fiat–Shamir (Bernhard–Pereira–Warinschi, the one that broke Helios):
    # fix commitments with *different* exponents, hash only them, then solve for a false
    # statement Y1 = G1^a, Y2 = G2^b with a != b that satisfies the verification equations.
    # With the whole statement in the transcript the solved statement changes the challenge.
    g = group.generator
    bases = (g, group.hash_to_element(CONTEXT, b"G2"))
    w1, w2, s = group.scalar(11), group.scalar(22), group.scalar(33)
    commitments = (bases[0] ** w1, bases[1] ** w2)
    c = (
        Transcript(cp.PROTOCOL, group, CONTEXT)
        .element(b"A1", commitments[0])
        .element(b"A2", commitments[1])
        .challenge()
    )
    a, b = (s - w1) * c.inverse(), (s - w2) * c.inverse()
    assert a != b  # a false statement
    values = (bases[0] ** a, bases[1] ** b)
    # the forgery satisfies the algebra a weak verifier would check …
    assert bases[0] ** s * values[0] ** (-c) == commitments[0]
    assert bases[1] ** s * values[1] ** (-c) == commitments[1]
    # … but not ours
    with pytest.raises(InvalidProof):
        cp.verify_equal_logs(bases, values, cp.ChaumPedersenProof(c, s), CONTEXT)


def test_wrong_witness_fails(group, keypair):
    g, h = group.generator, keypair.public
    x = group.scalar(777)
    with pytest.raises(InvalidProof):
        schnorr.verify_schnorr(g**x, schnorr.prove_schnorr(x + 1, g**x, CONTEXT), CONTEXT)
    bases = (g, h)
    values = (g**x, h ** (x + 1))  # unequal logs
    with pytest.raises(InvalidProof):
        cp.verify_equal_logs(bases, values, cp.prove_equal_logs(x, bases, values, CONTEXT), CONTEXT)
    r = group.scalar(99)
    for encrypted, claimed, limit in [(2, 1, 3), (5, 3, 3), (2, 1, 1), (2, 0, 1)]:
        ct = elgamal.encrypt_with_nonce(h, encrypted, r)
        proof = rp.prove_range(h, ct, claimed, r, limit, CONTEXT)
        with pytest.raises(InvalidProof):
            rp.verify_range(h, ct, proof, limit, CONTEXT)


def test_other_groups_encoding_fails_to_decode(group, other_group):
    x = group.scalar(2024)
    public = group.generator**x
    proof = schnorr.prove_schnorr(x, public, CONTEXT)
    record = encoding.loads(encoding.dumps({"X": public.hex(), "proof": proof.to_dict()}))
    with pytest.raises(InvalidElement):
        other_group.decode_element(bytes.fromhex(record["X"]))
    # The scalars are 32 bytes in both groups; if they happen to decode, the proof still
    # fails against the other group's statement for "the same" secret.
    try:
        moved = schnorr.SchnorrProof.from_dict(other_group, record["proof"])
    except InvalidScalar:
        return
    other_public = other_group.generator ** other_group.scalar(int(x))
    with pytest.raises(InvalidProof):
        schnorr.verify_schnorr(other_public, moved, CONTEXT)


def test_other_groups_ciphertext_fails_to_decode(group, other_group, keypair):
    ct = elgamal.encrypt_with_nonce(keypair.public, 1, group.scalar(3))
    with pytest.raises(DecodeError):
        elgamal.Ciphertext.from_dict(other_group, ct.to_dict())
    for element in (ct.alpha, ct.beta):
        with pytest.raises(InvalidElement):
            other_group.decode_element(element.to_bytes())


# --- range proof parameters -------------------------------------------------------------
@pytest.mark.parametrize(
    ("value", "limit"), [(-1, 1), (2, 1), (4, 3), (65, 64), (0, 0), (0, -1), (0, 65), (1, 100)]
)
def test_range_prove_refuses_parameters(group, keypair, value, limit):
    h = keypair.public
    r = group.scalar(1)
    ct = elgamal.encrypt_with_nonce(h, max(value, 0), r)
    with pytest.raises(ParameterError):
        rp.prove_range(h, ct, value, r, limit, CONTEXT)


# --- proof JSON forms -------------------------------------------------------------------
def test_proof_dicts_round_trip(group, keypair):
    x = group.scalar(55)
    X = group.generator**x
    s = schnorr.prove_schnorr(x, X, CONTEXT)
    assert schnorr.SchnorrProof.from_dict(group, encoding.loads(encoding.dumps(s.to_dict()))) == s
    bases = (group.generator, keypair.public)
    c = cp.prove_equal_logs(x, bases, (bases[0] ** x, bases[1] ** x), CONTEXT)
    assert cp.ChaumPedersenProof.from_dict(group, encoding.loads(encoding.dumps(c.to_dict()))) == c
    ct = elgamal.encrypt_with_nonce(keypair.public, 1, x)
    r = rp.prove_range(keypair.public, ct, 1, x, 2, CONTEXT)
    assert rp.RangeProof.from_dict(group, encoding.loads(encoding.dumps(r.to_dict())), 2) == r


def _bad_proof_dicts(group, good):
    q = group.order.to_bytes(group.scalar_size, "big").hex()
    return [
        (None, DecodeError),
        ([good["c"], good["s"]], DecodeError),
        ({"c": good["c"]}, DecodeError),
        ({**good, "x": good["c"]}, DecodeError),
        ({"c": good["c"].upper(), "s": good["s"]}, DecodeError),
        ({"c": good["c"][:-2], "s": good["s"]}, DecodeError),
        ({"c": good["c"] + "00", "s": good["s"]}, DecodeError),
        ({"c": int(good["c"], 16), "s": good["s"]}, DecodeError),
        ({"c": q, "s": good["s"]}, InvalidScalar),
        ({"c": good["c"], "s": "ff" * group.scalar_size}, InvalidScalar),
    ]


def test_schnorr_and_cp_from_dict_reject(group):
    x = group.scalar(55)
    X = group.generator**x
    good = schnorr.prove_schnorr(x, X, CONTEXT).to_dict()
    for cls in (schnorr.SchnorrProof, cp.ChaumPedersenProof):
        for obj, error in _bad_proof_dicts(group, good):
            _raises_exactly(error, lambda cls=cls, obj=obj: cls.from_dict(group, obj))


def test_range_from_dict_rejects(group, keypair):
    r = group.scalar(8)
    ct = elgamal.encrypt_with_nonce(keypair.public, 1, r)
    good = rp.prove_range(keypair.public, ct, 1, r, 2, CONTEXT).to_dict()
    a, b, c, s = good["a"], good["b"], good["c"], good["s"]
    q = group.order.to_bytes(group.scalar_size, "big").hex()
    not_canonical = "ff" * group.element_size
    cases = [
        (good, 1, DecodeError),
        (good, 3, DecodeError),
        (good, 0, DecodeError),
        (good, rp.MAX_RANGE + 1, DecodeError),
        ({"a": a, "b": b, "c": c, "s": s[:2]}, 2, DecodeError),
        ({"a": a, "b": b, "c": [*c, c[0]], "s": s}, 2, DecodeError),
        ({"a": a, "b": b, "c": c[0], "s": s}, 2, DecodeError),
        ({"a": a, "b": b, "c": c}, 2, DecodeError),
        ({"a": a, "c": c, "s": s}, 2, DecodeError),
        ({"a": a, "b": b[:2], "c": c, "s": s}, 2, DecodeError),
        ({"a": a, "b": [*b[:2], not_canonical], "c": c, "s": s}, 2, InvalidElement),
        ({"a": a, "b": b, "c": [*c[:2], q], "s": s}, 2, InvalidScalar),
        ({"a": a, "b": b, "c": c, "s": [s[0].upper(), *s[1:]]}, 2, DecodeError),
        ({"b": b, "c": c, "s": s}, 2, DecodeError),
        ({"a": a[:2], "b": b, "c": c, "s": s}, 2, DecodeError),
        ({"a": a[0], "b": b, "c": c, "s": s}, 2, DecodeError),
        ({"a": [*a[:2], not_canonical], "b": b, "c": c, "s": s}, 2, InvalidElement),
        ({"a": a, "b": b, "c": c, "s": s, "d": a}, 2, DecodeError),
        ([c, s], 2, DecodeError),
    ]
    for obj, limit, error in cases:
        _raises_exactly(
            error, lambda obj=obj, limit=limit: rp.RangeProof.from_dict(group, obj, limit)
        )
    assert rp.RangeProof.from_dict(group, good, 2).limit == 2
