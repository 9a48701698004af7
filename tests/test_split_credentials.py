"""Split credentials: no single party can vote for an abstainer.

The attack on the protocol as it was: the registrar made every credential's secret, so
it could sign a ballot for any elector who had not voted and the board accepted it. Now a
credential is ``A_R + A_I``, halves from the registrar and from an independent issuer, each
with a proof of possession; the registrar alone holds only ``a_R``."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from nacl import bindings

from verivote.demo import SimulatedElection
from verivote.election.entries import sign_entry
from verivote.election.roll import (
    combine,
    credential_from_halves,
    half_message,
    half_secret_text,
    issue_credentials,
    issuer_bodies,
    make_halves,
    registrar_items,
    roll_bodies,
)
from verivote.errors import DecodeError, EntryRejected, InvalidElement, InvalidSignature
from verivote.signatures import (
    ScalarSigner,
    Signer,
    check_public_key,
    combine_public_keys,
    verify_signature,
)
from verivote.verify.record import verify_record

LEADER = {"leader": ["begum"], "rule-change": ["yes"]}
L = 2**252 + 27742317777372353535851937790883648493


# ---------------------------------------------------------------- the signature maths
def test_scalar_signer_matches_ed25519_keys():
    """Known answer: the clamped SHA-512 of an Ed25519 seed, reduced mod L, is the same
    key pair, and its raw-scalar signatures verify under libsodium."""
    seed = bytes(range(32))
    h = bytearray(hashlib.sha512(seed).digest()[:32])
    h[0] &= 248
    h[31] &= 127
    h[31] |= 64
    scalar = (int.from_bytes(h, "little") % L).to_bytes(32, "little")
    signer = ScalarSigner(scalar)
    assert signer.public_key == Signer(seed).public_key
    assert signer.public_key.hex() == (
        "03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8"
    )
    verify_signature(signer.public_key, b"m", signer.sign(b"m"), "kat")
    with pytest.raises(TypeError):
        _ = signer.seed
    assert scalar.hex() not in repr(signer)


@settings(max_examples=25, deadline=None)
@given(st.binary(max_size=64))
def test_combined_halves_sign_for_the_combined_key(message):
    a, b = ScalarSigner.generate(), ScalarSigner.generate()
    both = combine(a, b)
    assert combine_public_keys(a.public_key, b.public_key, "t") == both.public_key
    verify_signature(both.public_key, message, both.sign(message), "t")
    with pytest.raises(InvalidSignature):
        verify_signature(both.public_key, message, a.sign(message), "t")


def test_bad_scalars_and_points_are_refused():
    with pytest.raises(DecodeError):
        ScalarSigner(bytes(32))
    with pytest.raises(DecodeError):
        ScalarSigner(L.to_bytes(32, "little"))  # not reduced
    a = ScalarSigner.generate()
    minus = bindings.crypto_core_ed25519_scalar_negate(a.scalar)
    with pytest.raises(InvalidElement):  # A + (-A): the identity
        combine_public_keys(a.public_key, ScalarSigner(minus).public_key, "t")
    small = bytes.fromhex("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05")
    with pytest.raises(InvalidElement):  # of order 8
        check_public_key(small, "t")
    with pytest.raises(InvalidElement):
        check_public_key(bytes([1]) + bytes(31), "t")  # the identity


def test_half_texts_round_trip():
    (r,), _ = make_halves(b"fp", "registrar", 0, 1)
    (i,), _ = make_halves(b"fp", "issuer", 0, 1)
    both = credential_from_halves(half_secret_text(r), half_secret_text(i))
    assert both.public_key == combine(r, i).public_key
    with pytest.raises(DecodeError):
        credential_from_halves("vv1-" + "00" * 32, half_secret_text(i))


# ---------------------------------------------------------------- on the board
def opened(voters: int = 6) -> SimulatedElection:
    sim = SimulatedElection(voters, seed=3)
    sim.run_ceremony()
    sim.publish_roll()
    return sim


def test_registrar_alone_cannot_vote_for_an_abstainer():
    """The registrar knows its half ``a_R`` of every credential, and nothing more: a
    ballot it signs for an abstainer's credential fails the signature check."""
    sim = opened()
    abstainer = 4
    registrar_half = ScalarSigner.generate()  # all the registrar could sign with
    body = sim.prepare(abstainer, LEADER).body
    entry = sign_entry(registrar_half, sim.manifest.fingerprint, "ballot", body, sim.clock())
    with pytest.raises(EntryRejected) as info:
        sim.board.append(entry)
    assert info.value.check == "ballot.signature"


def test_rogue_half_is_refused():
    """The registrar, posting after the issuer, picks ``A_R = A* − A_I`` for a key ``A*``
    it controls: it cannot prove possession of that half (``roll.part``)."""
    sim = SimulatedElection(4, seed=4)
    sim.run_ceremony()
    issued = issue_credentials(sim.manifest.fingerprint, [("members", 1)] * 2)
    for body in issuer_bodies(issued.issuer):
        sim.board.post(sim.issuer, "issuer", body)
    mine = ScalarSigner.generate()
    rogue = bindings.crypto_core_ed25519_sub(mine.public_key, issued.issuer[0].key)
    item = dict(issued.registrar[0])
    item["half"] = rogue.hex()
    item["pop"] = mine.sign(half_message(sim.manifest.fingerprint, "registrar", 0)).hex()
    bodies = list(roll_bodies([item, issued.registrar[1]]))
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.registrar, "roll", bodies[0])
    assert info.value.check == "roll.part" and "proof" in info.value.reason


def test_halves_from_the_wrong_party_or_slot_are_refused():
    sim = SimulatedElection(4, seed=5)
    sim.run_ceremony()
    fp = sim.manifest.fingerprint
    _, halves = make_halves(fp, "registrar", 0, 1)  # proven as the registrar's
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.issuer, "issuer", next(issuer_bodies(halves)))
    assert info.value.check == "issuer.part"
    _, shifted = make_halves(fp, "registrar", 1, 1)  # proven for slot 1, posted in slot 0
    items = registrar_items(shifted, [("members", 1)])
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.registrar, "roll", next(roll_bodies(items)))
    assert info.value.check == "roll.part"
    with pytest.raises(EntryRejected) as info:  # the registrar signing the issuer's part
        sim.board.post(sim.registrar, "issuer", next(issuer_bodies(halves)))
    assert info.value.check == "issuer.signature"


def test_open_needs_both_halves_of_every_slot():
    sim = SimulatedElection(4, seed=6)
    sim.run_ceremony()
    issued = issue_credentials(sim.manifest.fingerprint, [("members", 1)] * 3)
    for body in roll_bodies(issued.registrar):
        sim.board.post(sim.registrar, "roll", body)
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.organiser, "open", {"roll_size": 0})
    assert info.value.check == "open.roll_size" and "lack one party's half" in info.value.reason


def test_additions_after_opening_are_bounded_and_flagged(tmp_path):
    sim = opened(voters=100)
    assert sim.manifest.max_additions == 1
    late = sim.add_elector("members")
    sim.cast(late, LEADER)
    issued = issue_credentials(sim.manifest.fingerprint, [("members", 1)], len(sim.records))
    from verivote.election.roll import add_body

    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.registrar, "amend", add_body(issued.registrar[0], "late"))
    assert info.value.check == "amend.limit"
    # The issuer cannot complete a slot the registrar did not add.
    with pytest.raises(EntryRejected) as info:
        sim.board.post(sim.issuer, "issuer", next(issuer_bodies(issued.issuer, 2)))
    assert info.value.check == "issuer.part"
    sim.close()
    close = sim.board.entry(-1)
    assert close.body["added"] == 1
    assert sim.count(present=[1, 2])["added"] == 1
    sim.board.export(tmp_path)
    report = verify_record(tmp_path)
    assert report.valid
    assert any("1 elector(s) added after opening" in n and "1 of them" in n for n in report.notices)


def test_a_refused_part_changes_nothing():
    from verivote.election.roll import Roll

    sim = SimulatedElection(4, seed=8)
    m = sim.manifest
    issued = issue_credentials(m.fingerprint, [("members", 1)] * 3)
    roll = Roll(m)
    roll.apply_issuer_part(next(issuer_bodies(issued.issuer)), False)
    items = [dict(x) for x in issued.registrar]
    items[2]["pop"] = items[1]["pop"]  # a proof for another slot's half
    with pytest.raises(InvalidSignature):
        roll.apply_part(next(roll_bodies(items)))
    assert len(roll) == 0 and roll.parts == 0 and roll.pending == 3
    items[2] = issued.registrar[1]  # slot 1's half again: its proof is for slot 1
    with pytest.raises(InvalidSignature):
        roll.apply_part(next(roll_bodies(items)))
    assert len(roll) == 0 and roll.parts == 0
    roll.apply_part(next(roll_bodies(issued.registrar)))
    assert len(roll) == 3 and roll.pending == 0
    assert {r.key for r in roll.records.values()} == {r.key for r in issued.records}


def test_precheck_halves_vouches_only_for_what_holds():
    """The verifier's workers check halves ahead of the roll (``precheck_halves``): a
    proof for its own slot verifies, one moved to another slot or by the wrong party does
    not, and a sum is given only for a verified half with the other half known; the roll
    then takes exactly those facts (``Prechecked``), and still refuses what is not
    vouched for."""
    from verivote.election.roll import Prechecked, Roll, precheck_halves

    sim = SimulatedElection(4, seed=7)
    fp = sim.manifest.fingerprint
    issued = issue_credentials(fp, [("members", 1)] * 3)
    reg = [(bytes.fromhex(i["half"]), bytes.fromhex(i["pop"])) for i in issued.registrar]
    iss = [(h.key, h.pop) for h in issued.issuer]
    items = [
        ("registrar", 0, *reg[0], iss[0][0]),  # good, with its slot's other half
        ("registrar", 1, *reg[1], b""),  # good, other half unknown
        ("registrar", 1, *reg[2], iss[1][0]),  # proven for slot 2, not 1
        ("issuer", 2, *reg[2], b""),  # the registrar's half posted as the issuer's
        ("issuer", 2, *iss[2], reg[2][0]),  # good
    ]
    verified, sums = precheck_halves(fp, items)
    assert verified == bytes([1, 1, 0, 0, 1])
    expected = [combine_public_keys(reg[s][0], iss[s][0], "") for s in (0, 2)]
    assert sums == [expected[0], b"", b"", b"", expected[1]]
    facts = Prechecked()
    facts.add(items, (verified, sums))
    assert facts.halves == {items[n][:4] for n in (0, 1, 4)}
    assert facts.sums == {(reg[0][0], iss[0][0]): expected[0], (reg[2][0], iss[2][0]): expected[1]}
    roll = Roll(sim.manifest)
    roll.prechecked = facts
    roll.apply_issuer_part(next(issuer_bodies(issued.issuer)), False)
    bad = dict(issued.registrar[0], pop=issued.registrar[1]["pop"])  # slot 1's proof
    with pytest.raises(InvalidSignature, match="registrar half of slot 0"):
        roll.apply_part(next(roll_bodies([bad])))
    roll.apply_part(next(roll_bodies(issued.registrar)))
    keys = [combine_public_keys(r[0], i[0], "") for r, i in zip(reg, iss, strict=True)]
    assert list(roll.records) == keys
