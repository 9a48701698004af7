"""verivote.encoding: length-prefixed framing and canonical JSON."""

from __future__ import annotations

import pytest
from helpers import load_vectors_from_file
from hypothesis import given, settings
from hypothesis import strategies as st

from verivote import encoding
from verivote.errors import DecodeError, VerivoteError

VECTORS = load_vectors_from_file("encoding.json")["vectors"]
JSON_VALID = [v for v in VECTORS["json"] if v["result"] == "valid"]
JSON_INVALID = [v for v in VECTORS["json"] if v["result"] == "invalid"]


def _ids(cases):
    return [c["comment"] for c in cases]


# --- known answers ----------------------------------------------------------------------
@pytest.mark.parametrize("case", VECTORS["frame"])
def test_frame_vectors(case):
    parts = [bytes.fromhex(p) for p in case["parts"]]
    assert encoding.frame(*parts).hex() == case["framed"]


@pytest.mark.parametrize("case", VECTORS["frame_all"])
def test_frame_all_vectors(case):
    parts = [bytes.fromhex(p) for p in case["parts"]]
    assert encoding.frame_all(parts).hex() == case["framed"]
    assert encoding.frame_all(iter(parts)).hex() == case["framed"]


def test_frame_layout():
    # Spelled out once by hand, so the vectors themselves are checked against the docs.
    assert encoding.frame(b"ab", b"") == b"\x00\x00\x00\x02ab\x00\x00\x00\x00"
    assert encoding.frame_all([b"x"]) == b"\x00\x00\x00\x01\x00\x00\x00\x01x"


@pytest.mark.parametrize("case", VECTORS["uint"])
def test_encode_uint_vectors(case):
    if case["result"] == "valid":
        assert encoding.encode_uint(case["value"], case["length"]).hex() == case["encoded"]
    else:
        with pytest.raises(DecodeError):
            encoding.encode_uint(case["value"], case["length"])


@pytest.mark.parametrize("case", JSON_VALID, ids=_ids(JSON_VALID))
def test_json_valid_vectors(case):
    data = bytes.fromhex(case["input"])
    assert encoding.loads(data) == case["value"]
    assert encoding.loads(data.decode("utf-8")) == case["value"]
    assert encoding.dumps(case["value"]) == data


@pytest.mark.parametrize("case", JSON_INVALID, ids=_ids(JSON_INVALID))
def test_json_invalid_vectors(case):
    data = bytes.fromhex(case["input"])
    with pytest.raises(DecodeError):
        encoding.loads(data)


def test_json_invalid_vectors_cover_the_rules():
    # The brief's list of rejections must stay in the vector file.
    comments = " ".join(_ids(JSON_INVALID))
    for word in ("space", "unsorted", "duplicate", "float", "NaN", "digit limit", "UTF-8"):
        assert word in comments


# --- loads: what is rejected, and how ---------------------------------------------------
@pytest.mark.parametrize(
    "text",
    ['{"a": 1}', '{"b":1,"a":2}', '{"a":1,"a":2}', "1.5", "NaN", "Infinity", "9" * 5000, "{"],
)
def test_loads_rejects_str_input_too(text):
    with pytest.raises(DecodeError):
        encoding.loads(text)


def test_loads_error_is_a_value_error_and_a_verivote_error():
    with pytest.raises(ValueError) as info:
        encoding.loads(b'{"a":1,"a":2}')
    assert isinstance(info.value, VerivoteError)
    assert "duplicate" in str(info.value)


def test_loads_floats_are_rejected_even_when_not_canonical():
    with pytest.raises(DecodeError, match="float"):
        encoding.loads(b"[1.0]", canonical=False)
    with pytest.raises(DecodeError):
        encoding.loads(b"NaN", canonical=False)
    with pytest.raises(DecodeError, match="duplicate"):
        encoding.loads(b'{"a": 1, "a": 2}', canonical=False)


def test_loads_non_canonical_allowed_when_asked():
    assert encoding.loads(b'{"b": 1, "a": [2, 3]}', canonical=False) == {"a": [2, 3], "b": 1}


def test_loads_rejects_deep_nesting_as_decode_error():
    with pytest.raises(DecodeError):
        encoding.loads(b"[" * 100_000 + b"]" * 100_000)


def test_loads_lone_surrogate_in_str_input():
    with pytest.raises(DecodeError):
        encoding.loads('"\ud800"')


def test_loads_accepts_bytearray():
    assert encoding.loads(bytearray(b'{"a":1}')) == {"a": 1}


# --- dumps ------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "obj",
    [1.0, float("nan"), {"a": [0.5]}, {1: "x"}, b"bytes", (1, 2), {"a": object()}, "\ud800"],
    ids=["float", "nan", "nested float", "int key", "bytes", "tuple", "object", "surrogate"],
)
def test_dumps_rejects(obj):
    with pytest.raises(DecodeError):
        encoding.dumps(obj)


def test_dumps_canonical_form():
    assert (
        encoding.dumps({"b": [1, True, None], "a": "é"}) == '{"a":"é","b":[1,true,null]}'.encode()
    )


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**300), 2**300) | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_dumps_loads_round_trip(obj):
    data = encoding.dumps(obj)
    assert encoding.loads(data) == obj
    assert encoding.dumps(encoding.loads(data)) == data


@settings(max_examples=100, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=5), st.integers(), min_size=2, max_size=5))
def test_loads_rejects_any_reordering_of_keys(obj):
    canonical = encoding.dumps(obj)
    reordered = (
        "{"
        + ",".join(
            f"{encoding.dumps(k).decode()}:{v}" for k, v in sorted(obj.items(), reverse=True)
        )
        + "}"
    )
    with pytest.raises(DecodeError):
        encoding.loads(reordered.encode())
    assert encoding.loads(canonical) == obj


# --- framing is injective -----------------------------------------------------------------
@settings(max_examples=200, deadline=None)
@given(st.lists(st.binary(max_size=6), max_size=4), st.lists(st.binary(max_size=6), max_size=4))
def test_frame_is_injective(a, b):
    if a != b:
        assert encoding.frame_all(a) != encoding.frame_all(b)
        if len(a) == len(b):
            assert encoding.frame(*a) != encoding.frame(*b)


# --- from_hex ---------------------------------------------------------------------------
def test_from_hex_accepts_lowercase():
    assert encoding.from_hex("00ff10") == b"\x00\xff\x10"
    assert encoding.from_hex("00ff", 2) == b"\x00\xff"
    assert encoding.from_hex("") == b""


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("00FF", None),
        ("0A", 1),
        ("abc", None),
        ("0", None),
        ("00ff", 3),
        ("00ff", 1),
        ("00 ff", None),
        (" 00ff", None),
        ("00ff\n", None),
        ("zz", 1),
        ("0x00", None),
        ("٠٠", 1),
        (b"00ff", None),
        (bytearray(b"00"), 1),
        (0, None),
        (None, None),
        (["00"], None),
    ],
)
def test_from_hex_rejects(text, length):
    with pytest.raises(DecodeError):
        encoding.from_hex(text, length)


def test_from_hex_names_what_failed():
    with pytest.raises(DecodeError, match="ballot nonce"):
        encoding.from_hex("XY", 1, "ballot nonce")


@given(st.binary(max_size=40))
def test_from_hex_round_trip(data):
    assert encoding.from_hex(data.hex(), len(data)) == data
    upper = data.hex().upper()
    if upper != data.hex():
        with pytest.raises(DecodeError):
            encoding.from_hex(upper, len(data))
