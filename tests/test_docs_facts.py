"""Facts the documentation states for an independent verifier, checked against the code:
the 4096-bit group's parameters, the list of entry bodies, the merge example, and the
report's conventions for an incomplete record."""

from __future__ import annotations

import re
from pathlib import Path

from verivote.election.entries import ENTRY_TYPES
from verivote.election.tally import breakdown_groups
from verivote.groups.modp4096 import G, P, Q
from verivote.verify.record import verify_record

DOCS = Path(__file__).resolve().parent.parent / "docs"


def test_crypto_md_gives_p_q_and_g_in_full():
    text = (DOCS / "crypto.md").read_text(encoding="utf-8")
    for name, value in (("p", P), ("q", Q), ("g", G)):
        found = re.search(rf"`{name} =`\n\n((?:    [0-9a-f]+\n)+)", text)
        assert found is not None, name
        assert int("".join(found.group(1).split()), 16) == value


def test_protocol_md_has_a_schema_for_every_entry_type():
    text = (DOCS / "protocol.md").read_text(encoding="utf-8")
    table = text[text.index("## Entry bodies, field by field") : text.index("## Byte layouts")]
    rows = re.findall(r"^\| `([a-z_]+)` \|", table, flags=re.MULTILINE)
    assert sorted(rows) == sorted(ENTRY_TYPES) and len(rows) == len(set(rows))


def test_the_merge_example_of_protocol_md():
    counts = {"a": 12, "b": 3, "c": 20, "d": 4}
    assert breakdown_groups(counts, list(counts), 10) == (("a", "b", "d"), ("c",))


def test_record_complete_is_reported_past_the_last_entry(tmp_path):
    from live_board import voting_election

    voting_election(voters=2, seed=5).board.export(tmp_path)
    report = verify_record(tmp_path)
    last = report.failures[-1]
    assert (last.check, last.index, last.type) == ("record.complete", report.entries, "-")
