"""The public API: every name a ballot service needs comes from ``verivote`` itself, is
documented, and importing it stays light (nothing loads until used; no web or database
module, ever, for the verifier's names)."""

from __future__ import annotations

import ast
import inspect
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import verivote as vv

INIT = Path(vv.__file__)
HEAVY = ("starlette", "uvicorn", "psycopg", "sqlite3", "verivote.server", "verivote.cli")


def _type_checking_imports() -> dict[str, str]:
    tree = ast.parse(INIT.read_text(encoding="utf-8"))
    found: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING":
            for sub in node.body:
                assert isinstance(sub, ast.ImportFrom)
                for alias in sub.names:
                    found[alias.asname or alias.name] = sub.module or ""
    return found


def test_all_the_lazy_table_and_the_type_imports_agree():
    assert set(vv.__all__) == {"__version__", *vv._EXPORTS}
    assert len(vv.__all__) == len(set(vv.__all__))
    assert _type_checking_imports() == vv._EXPORTS


@pytest.mark.parametrize("name", sorted(set(vv.__all__) - {"__version__"}))
def test_each_name_resolves_to_its_module_and_is_documented(name):
    value = getattr(vv, name)
    module = vv._EXPORTS[name]
    assert value is getattr(sys.modules[module], name)
    doc = inspect.getdoc(value) or ""
    assert len(doc) >= 40, f"{name}: the docstring does not say what it guarantees"


def test_unknown_names_and_dir():
    with pytest.raises(AttributeError, match="no attribute 'nothing_here'"):
        vv.nothing_here  # noqa: B018
    assert set(vv.__all__) <= set(dir(vv))


def _loaded_after(code: str) -> list[str]:
    out = subprocess.run(
        [sys.executable, "-c", f"import sys\n{code}\nprint('\\n'.join(sys.modules))"],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return out.stdout.split()


def test_import_verivote_loads_nothing_else():
    loaded = _loaded_after("import verivote")
    assert [m for m in loaded if m.startswith("verivote")] == ["verivote"]


def test_the_verifier_names_load_no_web_or_database_module():
    loaded = _loaded_after(
        "import verivote\nverivote.verify_record\nverivote.Report\nverivote.check_receipt"
    )
    assert "verivote.verify.record" in loaded
    assert not [m for m in loaded if m.startswith(HEAVY)]


def test_a_whole_election_through_the_public_names(tmp_path):
    """Organiser, trustees, registrar, voters and the verifier, with nothing but ``vv.``:
    the board runs on a clock the test sets, at the real time of day."""
    now = datetime.now(UTC).replace(microsecond=0)
    moment = [now]

    def clock() -> str:
        return vv.format_time(moment[0])

    organiser, registrar, issuer, operator = (vv.Signer.generate() for _ in range(4))
    group = vv.get_group("ed25519")
    trustees = [vv.TrusteeSecrets.generate(group, i, 2) for i in (1, 2, 3)]
    chair = vv.Contest(
        "chair", "Chair", "plurality", (vv.Candidate("ada", "Ada"), vv.Candidate("bo", "Bo")), 1
    )
    opens = now + timedelta(minutes=4)
    manifest = vv.Manifest(
        election_id="committee",
        title="Committee election",
        group_name="ed25519",
        contests=(chair,),
        categories=("members",),
        opens=vv.format_time(opens),
        closes=vv.format_time(opens + timedelta(hours=1)),
        threshold=2,
        trustees=tuple(t.info(f"Trustee {t.index}") for t in trustees),
        organiser_key=organiser.public_key,
        registrar_key=registrar.public_key,
        board_key=operator.public_key,
        issuer_key=issuer.public_key,
        min_category_size=1,
    )
    fp = manifest.fingerprint
    board = vv.Board(clock, operator)
    board.post(organiser, "election", manifest.to_dict())
    schedule = vv.make_schedule(now, timedelta(minutes=1))  # deadlines a minute apart
    board.post(organiser, "ceremony", schedule.to_dict())
    for t in trustees:
        board.post(
            t.signer, "trustee", vv.with_run(vv.make_announcement(t, manifest), schedule.run)
        )
    for t in trustees:
        for other in trustees:
            if other is not t:
                body = vv.with_run(vv.make_share(t, manifest, other.index), schedule.run)
                board.post(t.signer, "share", body)
    received = {t.index: {t.index: vv.own_share(t, t.index)} for t in trustees}
    for entry in board:
        if entry.type == "share":
            to = entry.body["to"]
            body = {k: v for k, v in entry.body.items() if k != "run"}
            received[to][entry.body["from"]] = vv.open_share(trustees[to - 1], manifest, body)
    moment[0] = opens  # the justifications deadline (and the opening time) has come
    joint = vv.make_joint_key_body(board.state.announcements, [1, 2, 3])
    board.post(organiser, "joint_key", vv.with_run(joint, schedule.run))
    issued = vv.issue_credentials(fp, [("members", 1)] * 3)
    secrets = issued.credentials
    roll = list(vv.roll_bodies(issued.registrar))
    halves = list(vv.issuer_bodies(issued.issuer))
    for body in roll:
        board.post(registrar, "roll", body)
    for body in halves:
        board.post(issuer, "issuer", body)
    board.post(organiser, "open", {"roll_size": 3})
    key = board.state.joint_key
    for voter, choice in enumerate(["ada", "bo", "ada"]):
        ballot = vv.encrypt_ballot(manifest, key, secrets[voter], {"chair": [choice]})
        board.post(secrets[voter], "ballot", ballot.body)
    with pytest.raises(vv.EntryRejected) as info:  # the last ballot replayed
        board.post(secrets[2], "ballot", ballot.body)
    assert info.value.check == "ballot.duplicate"
    board.post(registrar, "seal", vv.seal_body(fp, "registrar", [("roll", b) for b in roll]))
    board.post(issuer, "seal", vv.seal_body(fp, "issuer", [("issuer", b) for b in halves]))
    moment[0] = opens + timedelta(hours=1)
    st = board.state
    board.post(
        organiser,
        "close",
        {
            "ballots": st.ballot_entries,
            "audits": st.audit_entries,
            "counted": len(st.latest),
            "added": 0,
        },
    )
    tally = st.expected_tally()
    board.post(organiser, "tally", tally.to_dict())
    for t in trustees[:2]:
        x = vv.combined_secret_share(received[t.index], qualified=st.qualified)
        board.post(t.signer, "decryption", vv.make_decryption(manifest, tally, t.index, x))
    counts = vv.combine(manifest, tally, st.decryptions, manifest.threshold)
    result = vv.make_result_body(manifest, tally, counts, [1, 2], [3])
    board.post(organiser, "result", result)
    board.export(tmp_path)
    report = vv.verify_record(tmp_path)
    assert report.valid, report.failures
    assert report.result is not None
    assert report.result["contests"][0]["overall"] == {"ada": 2, "bo": 1}
