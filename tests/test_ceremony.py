"""The threshold key ceremony: honest runs, complaints and justifications, and every
malformed or dishonest input the checkers must refuse (class and message)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl.public import Box, PrivateKey, PublicKey

from verivote import elgamal
from verivote.election import ceremony as cer
from verivote.election.manifest import Candidate, Contest, Manifest
from verivote.encoding import dumps, frame, loads
from verivote.errors import (
    DecodeError,
    InvalidElement,
    InvalidProof,
    InvalidScalar,
    ParameterError,
    ProtocolError,
)
from verivote.groups import GROUP_NAMES, Group, Scalar, get_group
from verivote.signatures import Signer

MESSAGE = 5


@pytest.fixture(scope="module", params=GROUP_NAMES)
def group(request: pytest.FixtureRequest) -> Group:
    return get_group(request.param)


def flip_byte(data: bytes, index: int, mask: int = 0x01) -> bytes:
    out = bytearray(data)
    out[index] ^= mask
    return bytes(out)


def make_election(
    group: Group, n: int, k: int, election_id: str = "ceremony-test", secrets: Any = None
) -> tuple[Manifest, list[cer.TrusteeSecrets]]:
    if secrets is None:
        secrets = [cer.TrusteeSecrets.generate(group, i, k) for i in range(1, n + 1)]
    referendum = Contest(
        "q1", "Adopt?", "referendum", (Candidate("yes", "Yes"), Candidate("no", "No")), 1
    )
    manifest = Manifest(
        election_id=election_id,
        title="Ceremony test",
        group_name=group.name,
        contests=(referendum,),
        categories=("members",),
        opens="2026-01-01T00:00:00Z",
        closes="2026-01-02T00:00:00Z",
        threshold=k,
        trustees=tuple(s.info(f"trustee {s.index}") for s in secrets),
        organiser_key=bytes([1]) * 32,
        registrar_key=bytes([2]) * 32,
        board_key=bytes([3]) * 32,
        issuer_key=bytes([4]) * 32,
    )
    return manifest, secrets


def posted(body: dict[str, Any]) -> Any:
    """What a reader gets back from the record: the canonical JSON round trip."""
    return loads(dumps(body))


@dataclass
class Outcome:
    manifest: Manifest
    secrets: list[cer.TrusteeSecrets]
    announcements: dict[int, cer.Announcement]
    complaints: list[tuple[int, int]]
    qualified: tuple[int, ...]
    shares: dict[int, Scalar]
    joint_key: Any
    rejected: dict[tuple[int, int], str] = field(default_factory=dict)


def run_ceremony(
    manifest: Manifest,
    secrets: list[cer.TrusteeSecrets],
    bad_shares: dict[tuple[int, int], Scalar] | None = None,
    justifications: dict[tuple[int, int], Any] | None = None,
) -> Outcome:
    """The whole ceremony through the record. ``bad_shares[(i, j)]``: i sends j that value;
    ``justifications[(i, j)]``: i's answer to j's complaint (None: no answer; default: the
    honest one)."""
    bad_shares = bad_shares or {}
    justifications = justifications or {}
    by_index = {s.index: s for s in secrets}
    n, k = len(manifest.trustees), manifest.threshold
    announcements = {
        s.index: cer.check_announcement(posted(cer.make_announcement(s, manifest)), manifest)
        for s in secrets
    }
    received = {j: {j: cer.own_share(by_index[j], j)} for j in by_index}
    complaints: list[tuple[int, int]] = []
    for i, j in itertools.permutations(by_index, 2):
        if (i, j) in bad_shares:
            body = cer._encrypt_share(by_index[i], manifest, j, bad_shares[(i, j)], None)
        else:
            body = cer.make_share(by_index[i], manifest, j)
        value = cer.open_share(by_index[j], manifest, posted(body))
        try:
            cer.check_share_value(value, announcements[i], j)
            received[j][i] = value
        except ProtocolError:
            complaint = cer.make_complaint(by_index[j], manifest, i, "share does not match")
            complaints.append(cer.check_complaint(posted(complaint), manifest))
    justified: set[tuple[int, int]] = set()
    rejected: dict[tuple[int, int], str] = {}
    for j, i in complaints:
        default = cer.make_justification(by_index[i], manifest, j)
        body = justifications.get((i, j), default)
        if body is None:
            continue
        try:
            received[j][i] = cer.check_justification(posted(body), announcements[i])
            justified.add((i, j))
        except ProtocolError as exc:
            rejected[(i, j)] = str(exc)
    qualified = cer.qualified_trustees(
        n, complaints, justified, threshold=k, announced=announcements
    )
    shares = {
        j: cer.combined_secret_share(
            {i: v for i, v in received[j].items() if i in qualified}, qualified=qualified
        )
        for j in qualified
    }
    body = posted(cer.make_joint_key_body(announcements, qualified))
    joint_key = cer.check_joint_key_body(body, announcements, qualified)
    return Outcome(
        manifest, secrets, announcements, complaints, qualified, shares, joint_key, rejected
    )


def check_outcome(out: Outcome, max_subsets: int = 10) -> None:
    """Every share matches its public key; any k shares decrypt; k - 1 do not."""
    group = out.manifest.group
    g, k = group.generator, out.manifest.threshold
    # The joint secret is the sum of the qualified trustees' constant terms (test-only view).
    x = sum((s.coefficients[0] for s in out.secrets if s.index in out.qualified), group.scalar(0))
    assert g**x == out.joint_key
    assert out.joint_key == cer.joint_public_key(out.announcements, out.qualified)
    for j, x_j in out.shares.items():
        assert g**x_j == cer.public_share_key(out.announcements, out.qualified, j)
    ct, _ = elgamal.encrypt(out.joint_key, MESSAGE)
    partial = {j: ct.alpha**x_j for j, x_j in out.shares.items()}
    for subset in itertools.islice(itertools.combinations(out.qualified, k), max_subsets):
        combined = elgamal.combine_shares({j: partial[j] for j in subset}, group)
        assert ct.beta / combined == g**MESSAGE
        if k > 1:
            fewer = elgamal.combine_shares({j: partial[j] for j in subset[:-1]}, group)
            assert ct.beta / fewer != g**MESSAGE


# --- honest runs ---------------------------------------------------------------------------


@pytest.mark.parametrize(("n", "k"), [(1, 1), (3, 2), (5, 3)])
def test_honest_ceremony(group: Group, n: int, k: int) -> None:
    manifest, secrets = make_election(group, n, k)
    out = run_ceremony(manifest, secrets)
    assert out.qualified == tuple(range(1, n + 1))
    assert out.complaints == []
    check_outcome(out)


@settings(max_examples=15, deadline=None)
@given(st.integers(1, 6).flatmap(lambda n: st.tuples(st.just(n), st.integers(1, n))))
def test_honest_ceremony_property(nk: tuple[int, int]) -> None:
    n, k = nk
    manifest, secrets = make_election(get_group("ed25519"), n, k)
    check_outcome(run_ceremony(manifest, secrets), max_subsets=3)


def test_secrets_repr_shows_no_secret(group: Group) -> None:
    (secrets,) = make_election(group, 1, 1)[1]
    text = repr(secrets)
    assert "trustee 1" in text
    assert secrets.signer.seed.hex() not in text
    assert bytes(secrets.box_key).hex() not in text
    assert format(secrets.coefficients[0].value, "x") not in text


def test_announcement_known_answer(group: Group) -> None:
    coefficients = [group.hash_to_scalar(b"test", bytes([t])) for t in range(2)]
    secrets = [
        cer.TrusteeSecrets(group, i, Signer(bytes([i]) * 32), PrivateKey(bytes([i]) * 32), tuple(c))
        for i, c in ((1, coefficients), (2, coefficients[::-1]))
    ]
    manifest, _ = make_election(group, 2, 2, secrets=secrets)
    nonces = [group.hash_to_scalar(b"nonce", bytes([t])) for t in range(2)]
    body = cer._make_announcement(secrets[0], manifest, nonces)
    assert body == cer._make_announcement(secrets[0], manifest, nonces)
    assert body["commitments"][1] == (group.generator ** coefficients[1]).hex()
    assert cer.check_announcement(body, manifest).index == 1


# --- announcements --------------------------------------------------------------------------


@pytest.fixture(scope="module")
def trio(group: Group) -> tuple[Manifest, list[cer.TrusteeSecrets], dict[str, Any]]:
    """Three trustees, threshold 3, and trustee 2's valid announcement."""
    manifest, secrets = make_election(group, 3, 3)
    return manifest, secrets, cer.make_announcement(secrets[1], manifest)


def tampered(body: dict[str, Any], **changes: Any) -> dict[str, Any]:
    out = posted(body)
    out.update(changes)
    return out


def test_bad_proof_for_each_coefficient(trio: Any) -> None:
    manifest, _, body = trio
    group = manifest.group
    for t in range(3):
        proofs = posted(body)["proofs"]
        s = group.decode_scalar(bytes.fromhex(proofs[t]["s"]))
        proofs[t]["s"] = (s + 1).hex()
        with pytest.raises(InvalidProof, match=f"trustee 2 coefficient {t}: schnorr"):
            cer.check_announcement(tampered(body, proofs=proofs), manifest)


def test_proofs_swapped_between_coefficients(trio: Any) -> None:
    manifest, _, body = trio
    proofs = posted(body)["proofs"]
    proofs[0], proofs[1] = proofs[1], proofs[0]
    with pytest.raises(InvalidProof, match="trustee 2 coefficient 0"):
        cer.check_announcement(tampered(body, proofs=proofs), manifest)


def test_announcement_replayed_by_another_trustee(trio: Any) -> None:
    manifest, _, body = trio
    with pytest.raises(InvalidProof, match="trustee 3 coefficient 0"):
        cer.check_announcement(tampered(body, trustee=3), manifest)


def test_announcement_from_another_election(trio: Any) -> None:
    manifest, secrets, body = trio
    other, _ = make_election(manifest.group, 3, 3, "another-election", secrets=secrets)
    assert cer.check_announcement(body, manifest).index == 2
    with pytest.raises(InvalidProof, match="trustee 2 coefficient 0"):
        cer.check_announcement(body, other)


@pytest.mark.parametrize("field", ["commitments", "proofs"])
def test_wrong_number_of_commitments_or_proofs(trio: Any, field: str) -> None:
    manifest, _, body = trio
    items = posted(body)[field]
    for wrong in (items[:2], [*items, items[0]], [], "x"):
        with pytest.raises(DecodeError, match=f"trustee 2: expected 3 {field}"):
            cer.check_announcement(tampered(body, **{field: wrong}), manifest)


def test_identity_commitment(trio: Any) -> None:
    manifest, _, body = trio
    commitments = posted(body)["commitments"]
    commitments[1] = manifest.group.identity.hex()
    with pytest.raises(InvalidElement, match="trustee 2 commitment 1 is the identity"):
        cer.check_announcement(tampered(body, commitments=commitments), manifest)


def test_commitment_not_in_group(trio: Any) -> None:
    manifest, _, body = trio
    commitments = posted(body)["commitments"]
    commitments[2] = "ff" * manifest.group.element_size
    with pytest.raises(InvalidElement, match="trustee 2 coefficient 2"):
        cer.check_announcement(tampered(body, commitments=commitments), manifest)


@pytest.mark.parametrize("index", [0, 4, -1, 256, True, "2", None])
def test_announcement_index_out_of_range(trio: Any, index: Any) -> None:
    manifest, _, body = trio
    with pytest.raises(DecodeError, match=r"trustee index in 1\.\.3"):
        cer.check_announcement(tampered(body, trustee=index), manifest)


@pytest.mark.parametrize(
    "spoil", [str.upper, lambda h: h[:-1], lambda h: h[:-2], lambda h: "zz" + h[2:], len]
)
def test_malformed_commitment_hex(trio: Any, spoil: Any) -> None:
    manifest, _, body = trio
    commitments = posted(body)["commitments"]
    commitments[0] = spoil(commitments[0])
    with pytest.raises(DecodeError, match="trustee 2 commitment 0"):
        cer.check_announcement(tampered(body, commitments=commitments), manifest)


def test_malformed_proof(trio: Any) -> None:
    manifest, _, body = trio
    for spoil in ({"c": "00"}, {"s": 5}, {"x": "00"}):
        proofs = posted(body)["proofs"]
        proofs[1] = {**proofs[1], **spoil}
        with pytest.raises(DecodeError, match="trustee 2 coefficient 1: schnorr proof"):
            cer.check_announcement(tampered(body, proofs=proofs), manifest)
    proofs = posted(body)["proofs"]
    proofs[1]["c"] = "ff" * manifest.group.scalar_size
    with pytest.raises(InvalidScalar, match="trustee 2 coefficient 1"):
        cer.check_announcement(tampered(body, proofs=proofs), manifest)


def test_announcement_keys(trio: Any) -> None:
    manifest, _, body = trio
    with pytest.raises(DecodeError, match="unexpected \\['extra'\\]"):
        cer.check_announcement(tampered(body, extra=1), manifest)
    with pytest.raises(DecodeError, match="announcement: expected an object"):
        cer.check_announcement([body], manifest)


# --- complaints and justifications ----------------------------------------------------------


@pytest.fixture()
def three(group: Group) -> tuple[Manifest, list[cer.TrusteeSecrets]]:
    return make_election(group, 3, 2)


def wrong_value(secrets: cer.TrusteeSecrets, to: int) -> Scalar:
    return secrets.evaluate(to) + 1


def test_bad_share_is_caught_by_check_share_value(three: Any) -> None:
    manifest, secrets = three
    announcement = cer.check_announcement(cer.make_announcement(secrets[0], manifest), manifest)
    body = cer._encrypt_share(secrets[0], manifest, 2, wrong_value(secrets[0], 2), None)
    value = cer.open_share(secrets[1], manifest, body)
    with pytest.raises(ProtocolError, match="share from trustee 1 to trustee 2 does not match"):
        cer.check_share_value(value, announcement, 2)


def test_bad_share_with_valid_justification_keeps_sender(three: Any) -> None:
    manifest, secrets = three
    out = run_ceremony(manifest, secrets, bad_shares={(1, 2): wrong_value(secrets[0], 2)})
    assert out.complaints == [(2, 1)]
    assert out.qualified == (1, 2, 3)
    check_outcome(out)


@pytest.mark.parametrize("answer", ["invalid", "missing"])
def test_bad_share_without_valid_justification_disqualifies(three: Any, answer: str) -> None:
    manifest, secrets = three
    bad = wrong_value(secrets[0], 2)
    reply = {"from": 1, "to": 2, "share": bad.hex()} if answer == "invalid" else None
    out = run_ceremony(manifest, secrets, bad_shares={(1, 2): bad}, justifications={(1, 2): reply})
    assert out.qualified == (2, 3)
    if answer == "invalid":
        assert "revealed share does not match trustee 1's commitments" in out.rejected[(1, 2)]
    ann = out.announcements
    assert out.joint_key == ann[2].commitments[0] * ann[3].commitments[0]
    assert out.joint_key != cer.joint_public_key(ann, (1, 2, 3))
    check_outcome(out)


def test_fewer_than_k_qualified_fails(three: Any) -> None:
    manifest, secrets = three
    bad = {(1, 2): wrong_value(secrets[0], 2), (2, 3): wrong_value(secrets[1], 3)}
    with pytest.raises(ProtocolError, match="only 1 of 3 trustees qualified, fewer than"):
        run_ceremony(manifest, secrets, bad, justifications={(1, 2): None, (2, 3): None})


def test_qualified_trustees_rules() -> None:
    assert cer.qualified_trustees(3, [(2, 1)], {(1, 2)}, threshold=2) == (1, 2, 3)
    # A justification answers only the complaint of the trustee it names.
    assert cer.qualified_trustees(3, [(2, 1)], {(1, 3)}, threshold=2) == (2, 3)
    assert cer.qualified_trustees(3, [], set(), threshold=2, announced={1, 3}) == (1, 3)
    # From 0: the record itself complains (a share never posted); nothing can answer it.
    assert cer.qualified_trustees(3, [(0, 2)], {(2, 0)}) == (1, 3)
    with pytest.raises(ProtocolError, match="only 0 of 2 trustees qualified"):
        cer.qualified_trustees(2, [(0, 1), (1, 2)], set())
    with pytest.raises(ProtocolError, match="the ceremony fails"):
        cer.qualified_trustees(3, [(3, 1), (3, 2)], set(), threshold=2)
    with pytest.raises(ParameterError, match="does not name two trustees"):
        cer.qualified_trustees(3, [(1, 4)], set(), threshold=2)
    with pytest.raises(ParameterError, match="does not name two trustees"):
        cer.qualified_trustees(3, [(2, 2)], set(), threshold=2)
    with pytest.raises(ParameterError, match="threshold"):
        cer.qualified_trustees(3, [], set(), threshold=4)


def test_justification_decoding(three: Any) -> None:
    manifest, secrets = three
    announcement = cer.check_announcement(cer.make_announcement(secrets[0], manifest), manifest)
    good = cer.make_justification(secrets[0], manifest, 2)
    assert cer.check_justification(good, announcement) == secrets[0].evaluate(2)
    with pytest.raises(ParameterError, match="justification from trustee 2"):
        cer.check_justification(cer.make_justification(secrets[1], manifest, 1), announcement)
    with pytest.raises(DecodeError, match="justification share"):
        cer.check_justification({**good, "share": good["share"][:-2]}, announcement)
    unreduced = "ff" * manifest.group.scalar_size
    with pytest.raises(InvalidScalar, match="not reduced"):
        cer.check_justification({**good, "share": unreduced}, announcement)
    with pytest.raises(DecodeError, match="to itself"):
        cer.check_justification({**good, "to": 1}, announcement)


def test_complaint_decoding(three: Any) -> None:
    manifest, secrets = three
    body = cer.make_complaint(secrets[1], manifest, 1, "no share")
    assert cer.check_complaint(body, manifest) == (2, 1)
    with pytest.raises(DecodeError, match="against itself"):
        cer.check_complaint({**body, "against": 2}, manifest)
    with pytest.raises(DecodeError, match="complaint reason"):
        cer.check_complaint({**body, "reason": ""}, manifest)
    with pytest.raises(DecodeError, match="against: expected a trustee index"):
        cer.check_complaint({**body, "against": 9}, manifest)
    with pytest.raises(ParameterError, match="not another trustee"):
        cer.make_complaint(secrets[1], manifest, 2, "myself")


# --- opening shares -------------------------------------------------------------------------


def test_open_share_tampered_box(three: Any) -> None:
    manifest, secrets = three
    body = cer.make_share(secrets[0], manifest, 2)
    box = bytes.fromhex(body["box"])
    for spoiled in (flip_byte(box, 0), flip_byte(box, 30), flip_byte(box, len(box) - 1), box[:20]):
        with pytest.raises(ProtocolError, match="share from trustee 1 to trustee 2: the box"):
            cer.open_share(secrets[1], manifest, {**body, "box": spoiled.hex()})
    # Rewriting the sender re-keys the box: it no longer opens.
    with pytest.raises(ProtocolError, match="share from trustee 3 to trustee 2: the box does"):
        cer.open_share(secrets[1], manifest, {**body, "from": 3})


def test_open_share_addressed_to_someone_else(three: Any) -> None:
    manifest, secrets = three
    body = cer.make_share(secrets[0], manifest, 3)
    with pytest.raises(ProtocolError, match="addressed to trustee 3, not to us"):
        cer.open_share(secrets[1], manifest, body)
    with pytest.raises(ProtocolError, match="to trustee 2: the box does not decrypt"):
        cer.open_share(secrets[1], manifest, {**body, "to": 2})


def test_open_share_from_another_election(three: Any) -> None:
    manifest, secrets = three
    other, _ = make_election(manifest.group, 3, 2, "another-election", secrets=secrets)
    body = cer.make_share(secrets[0], other, 2)
    assert cer.open_share(secrets[1], other, body) == secrets[0].evaluate(2)
    with pytest.raises(ProtocolError, match="the share is for another election"):
        cer.open_share(secrets[1], manifest, body)


def sealed(manifest: Manifest, sender: cer.TrusteeSecrets, to: int, *parts: bytes) -> str:
    """A box from ``sender`` to ``to`` with an arbitrary plaintext."""
    recipient = manifest.trustee(to).box_key
    return bytes(Box(sender.box_key, PublicKey(recipient)).encrypt(frame(*parts))).hex()


def test_open_share_bad_plaintext(three: Any) -> None:
    manifest, secrets = three
    fp, size = manifest.fingerprint, manifest.group.scalar_size
    i, j = (1).to_bytes(2, "big"), (2).to_bytes(2, "big")
    value = secrets[0].evaluate(2).to_bytes()
    cases = [
        ((cer.SHARE_LABEL, fp, j, i, value), "names other trustees"),
        ((b"verivote/other", fp, i, j, value), "not a share"),
        ((cer.SHARE_LABEL, fp, i, j), "not correctly framed"),
        ((cer.SHARE_LABEL, fp, i, j, b"\xff" * size), "not reduced"),
        ((cer.SHARE_LABEL, fp, i, j, value[1:]), "scalar must be"),
    ]
    for parts, fragment in cases:
        body = {"from": 1, "to": 2, "box": sealed(manifest, secrets[0], 2, *parts)}
        with pytest.raises(ProtocolError, match=fragment):
            cer.open_share(secrets[1], manifest, body)


def test_open_share_malformed_body(three: Any) -> None:
    manifest, secrets = three
    body = cer.make_share(secrets[0], manifest, 2)
    for spoiled, fragment in (
        ({**body, "box": body["box"].upper()}, "share box"),
        ({**body, "from": 2}, "share from trustee 2 to itself"),
        ({**body, "from": 0}, "share from: expected a trustee index"),
        ({"from": 1, "to": 2}, "missing \\['box'\\]"),
    ):
        with pytest.raises(DecodeError, match=fragment):
            cer.open_share(secrets[1], manifest, spoiled)


def test_share_producers_refuse_misuse(three: Any) -> None:
    manifest, secrets = three
    with pytest.raises(ParameterError, match="trustee 1 is not another trustee"):
        cer.make_share(secrets[0], manifest, 1)
    with pytest.raises(ParameterError, match="trustee 4 is not another trustee"):
        cer.make_share(secrets[0], manifest, 4)
    stranger = cer.TrusteeSecrets.generate(manifest.group, 1, 2)
    with pytest.raises(ParameterError, match="not those of trustee 1"):
        cer.make_share(stranger, manifest, 2)


# --- joint key ------------------------------------------------------------------------------


def test_joint_key_body_checks(three: Any) -> None:
    manifest, secrets = three
    out = run_ceremony(manifest, secrets)
    ann, qual = out.announcements, out.qualified
    body = cer.make_joint_key_body(ann, qual)
    assert body["qualified"] == [1, 2, 3]
    with pytest.raises(ProtocolError, match="qualified set \\[1, 2\\], expected \\[1, 2, 3\\]"):
        cer.check_joint_key_body({**body, "qualified": [1, 2]}, ann, qual)
    with pytest.raises(ProtocolError, match="qualified set \\[True, 2, 3\\]"):
        cer.check_joint_key_body({**body, "qualified": [True, 2, 3]}, ann, qual)
    wrong = cer.joint_public_key(ann, (1, 2)).hex()
    with pytest.raises(ProtocolError, match="not the product of qualified"):
        cer.check_joint_key_body({**body, "public_key": wrong}, ann, qual)
    with pytest.raises(DecodeError, match="joint public key"):
        cer.check_joint_key_body({**body, "public_key": wrong[:-2]}, ann, qual)
    with pytest.raises(ProtocolError, match="qualified trustees \\[3\\] have no announcement"):
        cer.joint_public_key({1: ann[1], 2: ann[2]}, qual)
    with pytest.raises(ParameterError, match="no share from qualified trustees \\[2, 3\\]"):
        cer.combined_secret_share({1: out.shares[1]}, qualified=qual)
