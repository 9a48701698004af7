"""The record's canonical JSON is RFC 8785 (JSON Canonicalization Scheme): checked against
the independent ``rfc8785`` package on whole records, on non-ASCII text, and on
hypothesis-generated JSON values, with the two differences of the general encoder (outside
any record's domain) pinned down."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
import rfc8785
from hypothesis import given, settings
from hypothesis import strategies as st
from tamper.forge import build_base

from verivote.election.entries import entry_from_line
from verivote.encoding import dumps, loads

SAFE = 2**53 - 1
"""RFC 8785 numbers are IEEE 754 doubles: integers beyond ±(2^53 − 1) are outside it."""


def utf16_order_agrees(keys):
    """Whether sorting by code points (ours) and by UTF-16 code units (RFC 8785 §3.2.3)
    give the same order: they differ only between a key with a character above U+FFFF and
    one with a character in U+E000..U+FFFF at the first difference."""
    by_units = sorted(keys, key=lambda k: k.encode("utf-16-be"))
    return by_units == sorted(keys)


def in_domain(value):
    if isinstance(value, dict):
        return utf16_order_agrees(list(value)) and all(in_domain(v) for v in value.values())
    if isinstance(value, list):
        return all(in_domain(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool):
        return -SAFE <= value <= SAFE
    return True


@pytest.fixture(scope="module")
def record(tmp_path_factory):
    """Every entry type but the ceremony's disputes is in the base record; it has a
    complaint and a justification too."""
    directory = tmp_path_factory.mktemp("record")
    build_base("ed25519", directory)
    lines = (directory / "board.jsonl").read_bytes().splitlines()
    heads = (directory / "heads.jsonl").read_bytes().splitlines()
    return lines, heads


def test_every_record_line_is_rfc8785(record):
    lines, heads = record
    types = set()
    for line in [*lines, *heads]:
        assert rfc8785.dumps(json.loads(line)) == line
    for line in lines:
        types.add(entry_from_line(line).type)
    assert types >= {"election", "trustee", "share", "complaint", "justification"}
    assert types >= {"joint_key", "roll", "open", "ballot", "audit", "amend", "close"}
    assert types >= {"tally", "decryption", "result"}


def test_non_ascii_text_is_raw_utf8_as_in_rfc8785(record):
    lines, _ = record
    election = entry_from_line(lines[0])
    body = dict(election.body, title="Élection du comité — 選挙 \U0001f5f3\ufe0f «2026»")
    body["contests"] = [dict(body["contests"][0], title="Leader\u2028\u00a0(tab\there)")]
    line = replace(election, body=body, line=None).to_line()
    assert rfc8785.dumps(json.loads(line)) == line
    assert "Élection".encode() in line and b"\\u00c9" not in line  # raw UTF-8, no escape
    assert b"\\t" in line and "\u2028".encode() in line  # short escape; U+2028 raw
    assert loads(line) == json.loads(line)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**60), 2**60)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=12),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_generated_values_agree_with_rfc8785_in_its_domain(value):
    ours = dumps(value)
    if in_domain(value):
        assert ours == rfc8785.dumps(value)
        assert loads(ours) == value
    else:
        # Outside the domain: rfc8785 refuses the integer, or orders keys by UTF-16.
        try:
            theirs = rfc8785.dumps(value)
        except rfc8785.IntegerDomainError:
            return
        assert json.loads(theirs) == json.loads(ours)


def test_the_two_differences_outside_any_record():
    keys = {"\ue000": 1, "\U0001f600": 2}
    assert dumps(keys) == '{"\ue000":1,"\U0001f600":2}'.encode()
    assert rfc8785.dumps(keys) == '{"\U0001f600":2,"\ue000":1}'.encode()
    assert dumps(2**53) == b"9007199254740992"
    with pytest.raises(rfc8785.IntegerDomainError):
        rfc8785.dumps(2**53)
