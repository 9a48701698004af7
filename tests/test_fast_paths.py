"""The verifier's fast paths give exactly the answers of the definitions they replace.

* ``loads`` skips re-encoding a line when it can prove the line canonical
  (``encoding._canonical_fast``); ``encoding._loads_exact`` is the definition (decode,
  re-encode, compare). Both must accept the same inputs with the same value and refuse
  the same inputs with the same message.
* ``check_time`` reads ASCII times with ``datetime.fromisoformat``;
  ``manifest._check_time_exact`` is the definition (a pattern, then ``strptime``).
* ``scalar_list`` decodes the usual lowercase, reduced hex inline instead of through
  ``from_hex`` and ``decode_scalar``, which still give every error.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from helpers import load_vectors_from_file
from hypothesis import example, given, settings
from hypothesis import strategies as st

from verivote import encoding
from verivote.election.manifest import _check_time_exact, check_time
from verivote.errors import DecodeError
from verivote.groups import get_group
from verivote.groups.base import Scalar
from verivote.proofs.codec import scalar_list

VECTORS = load_vectors_from_file("encoding.json")["vectors"]


def outcome(fn: Any, *args: Any) -> tuple[Any, ...]:
    """``("ok", value)`` or ``("error", type, message)``."""
    try:
        return ("ok", fn(*args))
    except Exception as exc:
        return ("error", type(exc), str(exc))


def same_as_definition(data: bytes) -> None:
    fast = encoding._canonical_fast(data)
    exact = outcome(encoding._loads_exact, data, True)
    if fast is not encoding._UNSURE:
        # what the fast path accepts, the definition accepts, with the same value
        assert exact == ("ok", fast)
    assert outcome(encoding.loads, data) == exact


# --- loads --------------------------------------------------------------------------
NON_CANONICAL = [
    b'{"a": 1}',  # space after the colon
    b'{"a":1} ',  # trailing space
    b' {"a":1}',  # leading space
    b'{"a":1}\n',  # trailing newline
    b'{"a":1,\t"b":2}',  # tab
    b'{"a":1,\r"b":2}',  # carriage return
    b'{"b":1,"a":2}',  # unsorted keys
    b'{"a":{"d":1,"c":2}}',  # unsorted keys, nested
    b'[{"b":1,"a":2}]',  # unsorted keys in an array
    b'{"a":1,"a":1}',  # duplicate key, same value
    b'{"a":1,"b":2,"a":1}',  # duplicate key after another (C dicts keep the first slot)
    b'{"a":{"x":1},"a":{"x":1}}',  # duplicate key, object values
    b"-0",  # negative zero
    b"[-0]",
    b'{"a":-0}',
    b"[1,-0]",
    b"1.0",  # floats
    b"[1e5]",
    b"[-1E-5]",
    b"NaN",
    b"[Infinity]",
    b"-Infinity",
    b'"\\/"',  # escaped slash
    b'"\\u0041"',  # escaped letter
    b'"\\u00e9"',  # escaped non-ASCII
    b'"\\u000a"',  # \u escape for a character with a short escape
    b'"\\u001F"',  # upper-case hex
    b'"\\ud800"',  # lone surrogate
    b'"\\ud83d\\ude00"',  # surrogate pair for a character written raw
    b"\xef\xbb\xbf{}",  # byte-order mark
    b'"\xff"',  # invalid UTF-8
    b'"\xc0\xaf"',  # overlong UTF-8
    b'"\xed\xa0\x80"',  # UTF-8 of a surrogate
    b'"a\x01"',  # raw control character
    b"01",  # leading zero
    b"+1",
    b"[1,]",
    b"{",
    b"",
    b"9" * 5000,  # beyond the integer digit limit
    b"[" * 5000 + b"]" * 5000,  # deep nesting
    b"true false",
]

CANONICAL = [
    b"{}",
    b"[]",
    b"0",
    b"-1",
    b'"a b"',  # a space inside a string: the exact path, still accepted
    b'"\\n\\t\\"\\\\"',  # short escapes: the exact path, still accepted
    b'"\\u0000\\u001f"',
    '{"é":"\u2028","é\u00e9":[1,-2,null,true,false]}'.encode(),
    b'{"a":"x:-0","b":[":-0"]}',  # -0 inside strings: a false alarm
    b'{"a":":b"}',  # a string value starting with ':'
    b'{"":0,"a":{"":[]}}',
    b'{"a":1,"b":{"c":[{"d":2,"e":3}]}}',
]


@pytest.mark.parametrize("data", NON_CANONICAL, ids=lambda d: repr(d[:30]))
def test_every_non_canonical_form_is_refused_as_before(data):
    with pytest.raises(DecodeError):
        encoding.loads(data)
    assert encoding._canonical_fast(data) is encoding._UNSURE
    same_as_definition(data)


@pytest.mark.parametrize("data", CANONICAL, ids=lambda d: repr(d[:30]))
def test_canonical_forms_are_accepted_as_before(data):
    assert encoding.dumps(encoding.loads(data)) == data
    same_as_definition(data)


def test_record_vectors_agree():
    for case in VECTORS["json"]:
        same_as_definition(bytes.fromhex(case["input"]))


def test_a_ballot_line_takes_the_fast_path():
    line = (
        b'{"body":{"contests":[{"id":"leader","limit_proof":{"b":["00"],"c":["01"],'
        b'"s":["02"]}}],"credential":"ab"},"sig":"cd","time":"2026-01-31T12:00:00Z",'
        b'"type":"ballot"}'
    )
    assert encoding._canonical_fast(line) == json.loads(line)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
    | st.sampled_from(["", ":", ":-0", "-0", " ", "\\", '"', "\n", "\x00", "\u2028"]),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.text(st.sampled_from("ab:-0 é"), max_size=3), children, max_size=4)
    ),
    max_leaves=25,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_canonical_encodings_agree(value):
    data = encoding.dumps(value)
    same_as_definition(data)
    assert encoding.loads(data) == value


MUTATIONS = [b" ", b"\n", b"\t", b"-0", b"-", b"0", b",", b":", b'"', b"\\", b"{", b"}", b"[", b"]"]


@settings(max_examples=250, deadline=None)
@given(json_values, st.integers(0, 10_000), st.sampled_from(MUTATIONS), st.booleans())
def test_mutated_encodings_agree(value, at, piece, replace):
    data = encoding.dumps(value)
    at %= len(data) + 1
    mutated = data[:at] + piece + data[at + (1 if replace else 0) :]
    same_as_definition(mutated)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "é"]), json_values, min_size=2, max_size=4))
def test_reordered_and_repeated_keys_agree(value):
    items = [
        (json.dumps(k, ensure_ascii=False), encoding.dumps(v).decode()) for k, v in value.items()
    ]
    for order in (items[::-1], items + items[:1], items[:1] + items):
        data = ("{" + ",".join(f"{k}:{v}" for k, v in order) + "}").encode()
        same_as_definition(data)


@settings(max_examples=150, deadline=None)
@given(st.text(st.sampled_from('{}[]":,-0123456789.eEtrufalsn \\/u'), max_size=30))
def test_arbitrary_text_agrees(text):
    same_as_definition(text.encode())


# --- check_time ---------------------------------------------------------------------
TIMES = [
    "2026-01-31T12:00:00Z",
    "2024-02-29T23:59:59Z",  # a leap day
    "0001-01-01T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "2026-02-29T12:00:00Z",  # not a leap year
    "2026-02-30T12:00:00Z",
    "2026-04-31T12:00:00Z",
    "2026-00-10T12:00:00Z",
    "2026-13-10T12:00:00Z",
    "2026-01-00T12:00:00Z",
    "2026-01-32T12:00:00Z",
    "2026-01-31T24:00:00Z",  # hour 24 (ISO 8601's end of day)
    "2026-01-31T25:00:00Z",
    "2026-01-31T23:60:00Z",
    "2026-01-31T23:59:60Z",  # a leap second
    "2026-01-31T23:59:61Z",
    "0000-01-01T00:00:00Z",
    "2026-01-31T12:00:00Z\n",  # the pattern's $ matches before a final newline
    "2026-01-31T12:00:00",
    "2026-01-31 12:00:00Z",
    "2026-01-31t12:00:00Z",
    "2026-01-31T12:00:00z",
    "2026-01-31T12:00:00+00:00",
    "2026-01-31T12:00:00.5Z",
    "2026-1-31T12:00:00Z",
    "\u0662\u0660\u0662\u0666-01-31T12:00:00Z",  # Arabic-Indic digits match \d
    "\uff12\uff10\uff12\uff16-01-31T12:00:00Z",  # full-width digits
    "",
    20260131,
    None,
    b"2026-01-31T12:00:00Z",
]


@pytest.mark.parametrize("value", TIMES, ids=repr)
def test_check_time_agrees_with_its_definition(value):
    assert outcome(check_time, value, "t") == outcome(_check_time_exact, value, "t")


def test_check_time_refuses_what_does_not_exist():
    for value in ("2026-02-29T12:00:00Z", "2026-01-31T24:00:00Z", "2026-01-31T23:59:60Z"):
        with pytest.raises(DecodeError, match="is not a real date and time"):
            check_time(value, "entry time")
    with pytest.raises(DecodeError, match="is not a time of the form"):
        check_time("2026-01-31 12:00:00Z", "entry time")


digits = st.text(st.sampled_from("0123456789"), min_size=2, max_size=2)


@settings(max_examples=150, deadline=None)
@given(
    st.text(st.sampled_from("0123456789"), min_size=4, max_size=4),
    digits,
    digits,
    digits,
    digits,
    digits,
)
@example("2024", "02", "29", "23", "59", "59")
@example("2026", "02", "29", "24", "00", "00")
def test_check_time_agrees_on_every_field(year, month, day, hour, minute, second):
    value = f"{year}-{month}-{day}T{hour}:{minute}:{second}Z"
    assert outcome(check_time, value, "t") == outcome(_check_time_exact, value, "t")


@settings(max_examples=150, deadline=None)
@given(st.text(st.sampled_from("0123456789-T:Z \n\u0663"), max_size=22))
def test_check_time_agrees_on_arbitrary_text(value):
    assert outcome(check_time, value, "t") == outcome(_check_time_exact, value, "t")


# --- scalar_list ------------------------------------------------------------------------
def scalar_list_by_definition(group, obj, what, length=None):
    if not isinstance(obj, list):
        raise DecodeError(f"{what}: expected a list")
    if length is not None and len(obj) != length:
        raise DecodeError(f"{what}: expected {length} scalars, got {len(obj)}")
    return [group.decode_scalar(encoding.from_hex(x, group.scalar_size, what)) for x in obj]


def scalar_outcome(fn, group, obj):
    result = outcome(fn, group, obj, "proof c")
    if result[0] == "ok":
        assert all(type(s) is Scalar and s.group is group for s in result[1])
        return ("ok", [s.value for s in result[1]])
    return result


@pytest.mark.parametrize("name", ["ristretto255", "modp4096"])
def test_scalar_list_edge_cases_agree(name):
    group = get_group(name)
    size = group.scalar_size
    q = group.order
    edge = [
        [],
        [format(0, f"0{2 * size}x"), format(q - 1, f"0{2 * size}x")],
        [format(q, f"0{2 * size}x")],  # not reduced
        ["ff" * size],
        ["AB" * size],  # upper case
        ["0" * (2 * size - 2) + " 1"],  # white space
        ["00" * (size - 1)],  # short
        ["00" * (size + 1)],  # long
        ["zz" * size],
        [None],
        [1],
        [["00" * size]],
        "00" * size,
        None,
    ]
    for obj in edge:
        assert scalar_outcome(scalar_list, group, obj) == scalar_outcome(
            scalar_list_by_definition, group, obj
        )


hex_items = st.one_of(
    st.binary(min_size=32, max_size=32).map(bytes.hex),
    st.binary(min_size=31, max_size=33).map(bytes.hex),
    st.binary(min_size=32, max_size=32).map(lambda b: b.hex().upper()),
    st.text(st.sampled_from("0123456789abcdefABCDEF \n"), min_size=62, max_size=66),
    st.integers(),
)


@settings(max_examples=150, deadline=None)
@given(st.lists(hex_items, max_size=4))
def test_scalar_list_agrees_on_random_input(obj):
    group = get_group("ristretto255")
    assert scalar_outcome(scalar_list, group, obj) == scalar_outcome(
        scalar_list_by_definition, group, obj
    )
