"""Secret files (verivote.roles.keyfile) and state directories (verivote.roles.statedir):
encrypted at rest, refused with a clear error when the passphrase is wrong, the file was
changed or its version is unknown; created 0700 / 0600 and never overwritten."""

from __future__ import annotations

import hashlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from verivote.encoding import dumps
from verivote.roles import keyfile, statedir
from verivote.roles.keyfile import SecretFileError, _seal, seal, unseal
from verivote.roles.statedir import StateDir, StateError

FAST = 10  # scrypt N = 2^10 keeps the tests quick; the files record their own cost

SALT, NONCE = bytes(range(16)), bytes(range(12))


def test_round_trip_and_nothing_in_clear():
    secret = b"\x01" * 32
    data = seal("trustee", secret, "pass phrase", log2_n=FAST)
    assert secret.hex().encode() not in data and secret not in data
    assert b"pass phrase" not in data
    assert unseal(data, "trustee", "pass phrase") == secret
    obj = json.loads(data)
    assert obj["version"] == 1 and obj["kdf"]["name"] == "scrypt"
    assert obj["aead"] == "chacha20poly1305"


def test_fresh_salt_and_nonce_each_time():
    a = json.loads(seal("board", b"x", "p", log2_n=FAST))
    b = json.loads(seal("board", b"x", "p", log2_n=FAST))
    assert a["kdf"]["salt"] != b["kdf"]["salt"] and a["nonce"] != b["nonce"]


KNOWN = (
    b'{"aead":"chacha20poly1305","ciphertext":"ef2a017e1ae39c688d6ef301dcad41540379c389de1bd966",'
    b'"format":"verivote-secret","kdf":{"log2_n":10,"name":"scrypt","p":1,"r":8,'
    b'"salt":"000102030405060708090a0b0c0d0e0f"},"kind":"board","nonce":"000102030405060708090a0b",'
    b'"version":1}\n'
)


def test_known_answer():
    assert _seal("board", b"verivote", "correct horse", SALT, NONCE, FAST) == KNOWN
    assert unseal(KNOWN, "board", "correct horse") == b"verivote"


def test_format_as_documented_with_independent_primitives():
    # docs/state-directories.md, followed with the standard library's scrypt: the key is
    # scrypt(passphrase, salt, N, r, p, 32); the associated data is the canonical JSON of
    # the object without its ciphertext.
    from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

    obj = json.loads(KNOWN)
    key = hashlib.scrypt(
        b"correct horse", salt=SALT, n=2**10, r=8, p=1, maxmem=64 * 1024 * 1024, dklen=32
    )
    header = {k: v for k, v in obj.items() if k != "ciphertext"}
    aad = json.dumps(header, sort_keys=True, separators=(",", ":")).encode()
    plain = ChaCha20Poly1305(key).decrypt(NONCE, bytes.fromhex(obj["ciphertext"]), aad)
    assert plain == b"verivote"


def test_wrong_passphrase():
    data = seal("organiser", b"secret", "right", log2_n=FAST)
    with pytest.raises(SecretFileError, match="wrong passphrase, or the secret file was changed"):
        unseal(data, "organiser", "wrong")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ciphertext", None),  # one flipped byte
        ("nonce", "00" * 12),
        ("kind", "board"),
    ],
)
def test_tampered_file(field, value):
    data = seal("organiser", b"secret", "right", log2_n=FAST)
    obj = json.loads(data)
    if value is None:
        raw = bytearray.fromhex(obj["ciphertext"])
        raw[0] ^= 1
        obj["ciphertext"] = raw.hex()
    else:
        obj[field] = value
    with pytest.raises(SecretFileError) as err:
        unseal(dumps(obj), "board" if field == "kind" else "organiser", "right")
    assert "does not decrypt" in str(err.value)


def test_changed_kdf_cost_is_caught_by_the_tag():
    obj = json.loads(seal("organiser", b"secret", "right", log2_n=FAST))
    obj["kdf"]["log2_n"] = FAST + 1
    with pytest.raises(SecretFileError, match="does not decrypt"):
        unseal(dumps(obj), "organiser", "right")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "version 2 is not supported"),
        ({"version": "1"}, "version '1' is not supported"),
        ({"format": "other"}, "not a verivote secret file"),
        ({"aead": "aes-gcm"}, "unknown cipher"),
        ({"extra": 1}, "expected exactly the fields"),
    ],
)
def test_unknown_version_or_algorithm(change, message):
    obj = {**json.loads(seal("trustee", b"s", "p", log2_n=FAST)), **change}
    with pytest.raises(SecretFileError, match=message):
        unseal(dumps(obj), "trustee", "p")


@pytest.mark.parametrize(
    ("kdf", "message"),
    [
        ({"name": "pbkdf2"}, "unknown key derivation"),
        ({"log2_n": 30}, "log2_n must be an integer in 10..20"),
        ({"r": 0}, "r must be an integer"),
        ({"salt": "00"}, "salt must be 16 bytes"),
    ],
)
def test_hostile_kdf_parameters_refused_before_deriving(kdf, message):
    obj = json.loads(seal("trustee", b"s", "p", log2_n=FAST))
    obj["kdf"] = {**obj["kdf"], **kdf}
    with pytest.raises(SecretFileError, match=message):
        unseal(dumps(obj), "trustee", "p")


def test_wrong_kind_and_not_a_file():
    data = seal("registrar", b"s", "p", log2_n=FAST)
    with pytest.raises(SecretFileError, match="holds a 'registrar' secret, not a 'trustee' one"):
        unseal(data, "trustee", "p")
    for junk in (b"", b"abc", b"[]", b"0123abcd" * 8):
        with pytest.raises(SecretFileError, match="not a verivote secret file"):
            unseal(junk, "trustee", "p")
    assert not keyfile.is_secret_file(b"0123abcd" * 8)
    assert keyfile.is_secret_file(data)


def test_empty_passphrase_refused():
    with pytest.raises(SecretFileError, match="empty"):
        seal("board", b"s", "")


@settings(max_examples=10, deadline=None)
@given(st.binary(max_size=200), st.text(min_size=1, max_size=30))
def test_round_trip_property(secret, phrase):
    assert unseal(seal("trustee", secret, phrase, log2_n=FAST), "trustee", phrase) == secret


# --- state directories ---------------------------------------------------------------------
def test_state_directory_permissions_and_no_overwrite(tmp_path):
    sd = statedir.create(tmp_path / "t", "trustee", {"name": "A"})
    assert sd.path.stat().st_mode & 0o777 == 0o700
    path = sd.write_secret("trustee.key", "trustee", b"seed", "p")
    assert path.stat().st_mode & 0o777 == 0o600
    assert (sd.path / "role.json").stat().st_mode & 0o777 == 0o600
    with pytest.raises(StateError, match="refusing to overwrite"):
        sd.write_secret("trustee.key", "trustee", b"other", "p")
    assert sd.read_secret("trustee.key", "trustee", "p") == b"seed"
    with pytest.raises(StateError, match="refusing to overwrite"):
        statedir.create(tmp_path / "t", "trustee", {})
    with pytest.raises(StateError, match="state directory of a trustee, not of a registrar"):
        StateDir(tmp_path / "t", "registrar")
    with pytest.raises(StateError, match="not a verivote state directory"):
        StateDir(tmp_path, "trustee")
    with pytest.raises(SecretFileError, match=r"trustee.key: wrong passphrase"):
        sd.read_secret("trustee.key", "trustee", "q")


def test_passphrase_from_the_environment(monkeypatch):
    monkeypatch.setenv("VV_TEST_PASS", "from env")
    assert statedir.passphrase("VV_TEST_PASS") == "from env"
    monkeypatch.setenv("VV_TEST_PASS", "")
    with pytest.raises(StateError, match="VV_TEST_PASS holds no passphrase"):
        statedir.passphrase("VV_TEST_PASS")
