"""The ed25519 group gives the same bytes on PyNaCl's public bindings as on its compiled
``lib``, and falls back to the bindings when a PyNaCl release has no ``nacl._sodium``."""

from __future__ import annotations

import subprocess
import sys

import pytest

from verivote.errors import InvalidElement
from verivote.groups import get_group
from verivote.groups.ed25519 import (
    BASE,
    IDENTITY,
    Ed25519Group,
    bindings_backend,
    compiled_backend,
)

# RFC 8032 §7.1 test 1: the secret scalar of the first test key and its public key (the
# clamped scalar times B); noclamp multiplication by the same scalar reduced mod L gives it.
RFC8032_SCALAR = bytes.fromhex("307c83864f2833cb427a2ef1c00a013cfdff2768d980c0a3a520f006904de94f")
RFC8032_PUBLIC = bytes.fromhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")


@pytest.fixture(scope="module", params=["compiled", "bindings"])
def grp(request):
    backend = compiled_backend() if request.param == "compiled" else bindings_backend()
    return Ed25519Group(backend)


def test_known_answer(grp):
    k = int.from_bytes(RFC8032_SCALAR, "little") % grp.order
    assert (grp.generator**k).to_bytes() == RFC8032_PUBLIC
    assert grp.backend.mul_base(RFC8032_SCALAR) is not None


def test_backends_agree():
    compiled, public = Ed25519Group(compiled_backend()), Ed25519Group(bindings_backend())
    ref = get_group("ed25519")
    for i in range(1, 6):
        k = ref.hash_to_scalar(b"verivote/tests/backend", bytes([i])).value
        a, b = compiled.generator**k, public.generator**k
        assert a.to_bytes() == b.to_bytes()
        h = ref.hash_to_element(b"verivote/tests/backend", bytes([i])).to_bytes()
        ha, hb = compiled.decode_element(h), public.decode_element(h)
        assert (ha * a).to_bytes() == (hb * b).to_bytes()
        assert (ha**k).to_bytes() == (hb**k).to_bytes()
        assert (a / ha).to_bytes() == (b / hb).to_bytes()
    for grp in (compiled, public):
        assert grp.backend.from_uniform(bytes(32)) is not None


def test_refusals_on_both(grp):
    # A point of order 8 (small order, on the curve): libsodium refuses it as input.
    small = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
    with pytest.raises(InvalidElement):
        grp.decode_element(small)
    with pytest.raises(InvalidElement):
        grp.decode_element_deferred(small) ** 5
    assert grp.backend.mul(bytes(32), BASE) is None  # a zero scalar is refused
    assert grp.decode_element(IDENTITY).to_bytes() == IDENTITY


def test_falls_back_without_the_private_module():
    code = (
        "import sys\n"
        "import nacl.bindings\n"  # loaded first: the bindings keep their own reference
        "sys.modules['nacl._sodium'] = None\n"  # then `from nacl._sodium import …` fails
        "from verivote.groups import get_group\n"
        "from verivote.groups import ed25519\n"
        "g = get_group('ed25519')\n"
        "k = 12345\n"
        "print(ed25519.BACKEND.name, (g.generator ** k).to_bytes().hex())\n"
        "from verivote.groups import edwards_ct\n"  # secrets: blinded, through the bindings
        "h = g.generator ** 7\n"
        "print(edwards_ct.ZERO_WRITES_IDENTITY, g.secret_product([g.generator, h], [k, 0]).hex(),"
        " g.secret_product([h], [0]).hex())\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    ).stdout.split()
    group = get_group("ed25519")
    assert out[0] == "nacl.bindings"
    assert out[1] == (group.generator**12345).to_bytes().hex()
    assert out[2:] == ["False", out[1], group.identity.hex()]
