"""The BLT parser: what it reads, and every malformed file it rejects with line and reason."""

from __future__ import annotations

import pytest

from verivote.count import BltError, parse_blt, read_blt
from verivote.errors import DecodeError

GOOD = """4 2
-4
3 1 2 0
2 2 0

1 3 1 4 0
1 0
0
"Ann   Lee"  " Bob "
"Cy"
"Di"
"A  test election"
"""


def test_a_good_file():
    profile = parse_blt(GOOD)
    assert profile.candidates == ("Ann Lee", "Bob", "Cy", "Di")
    assert profile.seats == 2 and profile.title == "A test election"
    assert profile.withdrawn == frozenset({3})
    assert profile.ballots == (((0, 1), 3), ((1,), 2), ((2, 0, 3), 1))
    assert dict(profile.invalid) == {"empty": 1}


def test_title_is_optional_and_blank_lines_are_ignored():
    profile = parse_blt('\n2 1\n\n1 1 2 0\n0\n"A"\n\n"B"\n')
    assert profile.title == "" and profile.valid_ballots == 1


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 0, "empty"),
        ('2\n0\n"A"\n"B"\n', 1, "number of candidates, number of seats"),
        ("2 x\n0\n", 1, "'x' is not an integer"),
        ("0 0\n0\n", 1, "at least one"),
        ('2 3\n0\n"A"\n"B"\n', 1, "3 seats for 2 candidates"),
        ('2 1\n-3\n0\n"A"\n"B"\n', 2, "not a negated candidate"),
        ('2 1\n-1 -1\n0\n"A"\n"B"\n', 2, "withdrawn twice"),
        ('2 1\n1 1 2\n0\n"A"\n"B"\n', 2, "must end with 0"),
        ('2 1\n1 1 2 0\n0 1 0\n0\n"A"\n"B"\n', 3, "weight 0"),
        ('2 1\n1 1 2 0\n-2 1 0\n0\n"A"\n"B"\n', 3, "weight -2"),
        ('2 1\n1.5 1 0\n0\n"A"\n"B"\n', 2, "'1.5' is not an integer"),
        ('2 1\n1 1 3 0\n0\n"A"\n"B"\n', 2, "preference 3 is not a candidate"),
        ('2 1\n1 1 1 0\n0\n"A"\n"B"\n', 2, "candidate 1 is ranked twice"),
        ('2 1\n1 1 0 2 0\n0\n"A"\n"B"\n', 2, "0 in the middle"),
        ('2 1\n1 1=2 0\n0\n"A"\n"B"\n', 2, "equal preferences"),
        ('2 1\n(a) 1 1 0\n0\n"A"\n"B"\n', 2, "identifiers"),
        ('2 1\n1 1 0\n"A"\n"B"\n', 3, "before the 0 line"),
        ("2 1\n1 1 0\n2 2 0\n", 3, "ends before the 0 line"),
        ('3 1\n1 1 0\n0\n"A"\n"B"\n', 5, "3 candidate names expected, 2 found"),
        ('2 1\n1 1 0\n0\n"A"\n"B"\n"T"\n"extra"\n', 7, "text after the title"),
        ('2 1\n1 1 0\n0\n"A"\nB\n', 5, "expected a quoted name"),
        ('2 1\n1 1 0\n0\n"A" x\n"B"\n', 4, "expected a quoted name"),
        ('2 1\n1 1 0\n0\n"A"\n"  "\n', 5, "name is empty"),
        ('2 1\n1 1 0\n0\n"A  B"\n"A B "\n', 4, "two candidates are named 'A B'"),
    ],
)
def test_malformed_files_name_the_line_and_the_reason(text, line, reason):
    with pytest.raises(BltError) as info:
        parse_blt(text)
    assert info.value.line == line
    assert reason in info.value.reason
    assert isinstance(info.value, DecodeError)
    if line:
        assert str(info.value).startswith(f"line {line}: ")


def test_read_blt_rejects_bytes_that_are_not_utf8(tmp_path):
    path = tmp_path / "bad.blt"
    path.write_bytes(b'2 1\n1 1 0\n0\n"A\xff"\n"B"\n')
    with pytest.raises(BltError) as info:
        read_blt(path)
    assert info.value.line == 4 and "UTF-8" in info.value.reason
