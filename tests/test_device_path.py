"""The constant-time device path: secret exponents and secret partial products.

* Byte identity: ``secret_product`` and ``element ** SecretScalar`` give exactly what the
  public (variable-time) path gives, in every group and on both ristretto255 backends,
  edge scalars 0, 1, L−1 included.
* Instrumentation: every variable-time function of the ristretto255 backends (the compiled
  one, and the pure-Python encoder, decoder and adder) is wrapped to record its
  arguments; encrypting, proving, re-encrypting, decrypting and shuffling must never hand
  one of them a secret scalar or a secret point (the pad ``h^r``, ``g^m``, ``α^x``, ``g^s``
  of a re-encryption), and the conversion to ristretto255 encodings sees published values
  only. A control shows that the old way (multiplying secret powers as elements) is caught.
* A vote for 0 and a vote for 1 run the same sequence of constant-time calls.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from helpers import prop
from hypothesis import strategies as st

from verivote import elgamal
from verivote._native import get_backend, native_available
from verivote._native import native as native_module
from verivote._native import python as python_module
from verivote.groups import edwards_ct, get_group
from verivote.groups.base import Element
from verivote.groups.ristretto255 import L, Ristretto255Group
from verivote.proofs import chaum_pedersen, schnorr
from verivote.proofs import range as range_proof
from verivote.proofs import shuffle as sh
from verivote.proofs import shuffle_decryption as sd
from verivote.proofs.shuffle import ShuffleSecret

BACKENDS = ["native", "python"]
EDGES = [0, 1, 2, L - 1, L - 2]


def ristretto(backend_name: str) -> Ristretto255Group:
    if backend_name == "native" and not native_available():
        pytest.skip("the compiled backend is not built")
    return Ristretto255Group(get_backend(backend_name))


# ------------------------------------------------------------------------ byte identity
def test_secret_path_equals_public_path(group):
    g = group.generator
    h = g ** group.hash_to_scalar(b"device", b"h")
    q = group.order
    edges = st.sampled_from([0, 1, 2, q - 1, q - 2])
    scalars = st.one_of(edges, st.integers(0, q - 1))

    @prop(group, scalars, scalars, fast=40, slow=6)
    def _(a, b):
        public = g ** group.scalar(a) * h ** group.scalar(b)
        assert group.secret_product([g, h], [a, b]) == public
        assert group.secret_product([g, h], [group.secret_scalar(a), group.scalar(b)]) == public
        assert g ** group.secret_scalar(a) == g ** group.scalar(a)
        assert h ** group.secret_scalar(b) == h ** group.scalar(b)


def test_secret_product_edge_cases(group):
    g, one = group.generator, group.identity
    h = g ** group.hash_to_scalar(b"device", b"h")
    q = group.order
    assert group.secret_product([], []) == one
    for k in (0, 1, q - 1):
        assert group.secret_product([g], [k]) == g ** group.scalar(k)
        assert group.secret_product([one], [k]) == one
        assert group.secret_product([h, g], [k, q - k]) == (h / g) ** group.scalar(k)
    assert group.secret_product([g, g], [1, q - 1]) == one  # a sum that is the identity
    assert group.secret_product([g, h], [-1, -2]) == (g * h * h).inverse()  # reduced mod q
    with pytest.raises(Exception, match="as many exponents"):
        group.secret_product([g], [1, 2])


@pytest.mark.parametrize("name", BACKENDS)
def test_ristretto_device_path_on_each_backend(name):
    group = ristretto(name)
    reference = get_group("ristretto255")
    g = group.generator
    h = group.decode_element(bytes(reference.generator ** reference.scalar(5)))

    @prop(reference, st.sampled_from(EDGES) | st.integers(0, L - 1), fast=25, slow=25)
    def _(k):
        want = reference.generator ** reference.scalar(k) * (
            reference.generator ** reference.scalar(5 * (k + 3) % L)
        )
        got = group.secret_product([g, h], [k, k + 3])
        assert got.to_bytes() == want.to_bytes()
        assert (h ** group.secret_scalar(k)).to_bytes() == (
            reference.generator ** reference.scalar(5 * k % L)
        ).to_bytes()


def test_edwards_blinded_fallback_agrees(monkeypatch):
    """On a libsodium that did not write the identity for a zero product, products are
    blinded; they must give the same points."""
    point = edwards_ct.mul_base(12345)
    want = [(edwards_ct.mul_base(k), edwards_ct.mul(k, point)) for k in EDGES]
    sums = [edwards_ct.combination([edwards_ct.BASE, point], [k, 7]) for k in EDGES]
    monkeypatch.setattr(edwards_ct, "ZERO_WRITES_IDENTITY", False)
    assert [(edwards_ct.mul_base(k), edwards_ct.mul(k, point)) for k in EDGES] == want
    assert [edwards_ct.combination([edwards_ct.BASE, point], [k, 7]) for k in EDGES] == sums
    assert edwards_ct.mul(0, point) == edwards_ct.IDENTITY
    assert edwards_ct.mul(5, edwards_ct.IDENTITY) == edwards_ct.IDENTITY


def test_libsodium_writes_the_identity_for_a_zero_product():
    """The behaviour the no-branch path relies on, pinned."""
    assert edwards_ct.ZERO_WRITES_IDENTITY
    assert edwards_ct.mul_base(0) == edwards_ct.IDENTITY
    assert edwards_ct.mul(L, edwards_ct.BASE) == edwards_ct.IDENTITY


def test_edwards_conversions_on_both_backends():
    backends = [get_backend(n) for n in BACKENDS if n == "python" or native_available()]
    rist = get_group("ristretto255")
    for k in [*EDGES, 7, 2**200 + 1]:
        element = (rist.generator ** rist.scalar(k)).to_bytes()
        ed = edwards_ct.mul_base(k % L)
        for backend in backends:
            assert backend.to_edwards(element) == ed
            assert backend.from_edwards(ed) == element
    bad = bytes([0xFF] * 31 + [0x7F])  # y >= p
    for backend in backends:
        with pytest.raises(Exception, match="canonical"):
            backend.from_edwards(bad)


# ------------------------------------------------------------------------ instrumentation
class Spy:
    """Records every argument given to the variable-time code of the ristretto255
    backends."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def recorded(*args: Any) -> Any:
            self.calls.append((name, args))
            return fn(*args)

        return recorded

    def values(self, names: set[str] | None = None) -> Iterator[Any]:
        for name, args in self.calls:
            if names is not None and name not in names:
                continue
            for arg in args:
                if isinstance(arg, list | tuple):
                    yield from arg
                elif isinstance(arg, bytes) and len(arg) > 32 and len(arg) % 32 == 0:
                    # packed points or scalars (msm_packed, sum_runs, valid_flags)
                    yield from (arg[i : i + 32] for i in range(0, len(arg), 32))
                else:
                    yield arg


@pytest.fixture
def spy(monkeypatch):
    s = Spy()
    for cls in (native_module.NativeBackend, python_module.PythonBackend):
        for method in (
            "is_valid",
            "add",
            "sub",
            "neg",
            "scalarmult",
            "msm",
            "from_uniform",
            "msm_packed",
            "sum",
            "sum_runs",
            "valid_flags",
        ):
            name = f"{cls.__name__}.{method}"
            monkeypatch.setattr(cls, method, s.wrap(name, getattr(cls, method)))
        for method in ("to_edwards", "from_edwards"):
            name = f"{cls.__name__}.{method}"
            monkeypatch.setattr(cls, method, s.wrap(name, getattr(cls, method)))
    for fn in ("decode", "encode", "add_points", "sqrt_ratio_m1", "neg_point"):
        monkeypatch.setattr(python_module, fn, s.wrap(f"python.{fn}", getattr(python_module, fn)))
    return s


def _forms(element: Element) -> set[bytes]:
    """A point's encodings: ristretto255 and the prime-order edwards25519 point."""
    raw = element.to_bytes()
    return {raw, get_backend("python").to_edwards(raw)}


def _scalar_forms(k: int) -> set[Any]:
    k %= L
    return {k, k.to_bytes(32, "little"), k.to_bytes(32, "big"), k * pow(8, -1, L) % L}


def _assert_unseen(spy: Spy, secrets: set[Any]) -> None:
    seen = [v for v in spy.values() if isinstance(v, bytes | int) and v in secrets]
    assert not seen, f"a secret reached variable-time code: {seen[:3]}"


@pytest.mark.parametrize("name", BACKENDS)
def test_encryption_and_proof_never_show_a_secret_to_variable_time_code(spy, name):
    group = ristretto(name)
    g = group.generator
    x = group.hash_to_scalar(b"device", b"key")
    h = g**x
    m, r, w = 3, group.hash_to_scalar(b"device", b"r"), group.hash_to_scalar(b"device", b"w")
    sims = [(group.scalar(11 + j), group.scalar(13 + j)) for j in range(4)]
    pad, message = h**r, g ** group.scalar(m)  # computed before the spy is read
    secrets = _forms(pad) | _forms(message) | _scalar_forms(r.value) | _scalar_forms(w.value)
    secrets |= _scalar_forms(x.value) | _scalar_forms(m)
    spy.calls.clear()

    ct = elgamal.encrypt_with_nonce(h, m, r)
    proof = range_proof._prove_range(h, ct, m, r, 3, b"ctx", w, sims)
    _assert_unseen(spy, secrets)
    # the conversions to ristretto255 see exactly the published values: α, β, a_j, b_j
    names = {"NativeBackend.from_edwards", "PythonBackend.from_edwards"}
    given = [v for v in spy.values(names) if isinstance(v, bytes)]
    converted = {get_backend(name).from_edwards(e) for e in given}
    a = {
        (g**s * ct.alpha ** (-c)).to_bytes()
        for c, s in zip(proof.challenges, proof.responses, strict=True)
    }
    published = {ct.alpha.to_bytes(), ct.beta.to_bytes(), *a}
    published |= {b.to_bytes() for b in proof.commitments}
    assert converted == published
    range_proof.verify_range(h, ct, proof, 3, b"ctx")


@pytest.mark.parametrize("name", BACKENDS)
def test_decryption_and_reencryption_hide_their_pads(spy, name):
    group = ristretto(name)
    g = group.generator
    x = group.hash_to_scalar(b"device", b"key")
    h = g**x
    ct = elgamal.encrypt_with_nonce(h, 2, group.scalar(77))
    s = group.hash_to_scalar(b"device", b"s")
    secrets = _forms(ct.alpha**x) | _forms(g**s) | _forms(h**s)
    secrets |= _scalar_forms(x.value) | _scalar_forms(s.value)
    spy.calls.clear()
    plain = elgamal.decrypt_to_element(x, ct)
    again = elgamal.reencrypt(h, ct, s)
    _assert_unseen(spy, secrets)
    assert plain == g**2 and elgamal.decrypt_to_element(x, again) == g**2


@pytest.mark.parametrize("name", BACKENDS)
def test_proofs_hide_keys_and_nonces(spy, name):
    group = ristretto(name)
    g = group.generator
    x = group.hash_to_scalar(b"device", b"key")
    h = g**x
    alpha = g ** group.scalar(77)
    d = alpha**x
    nonce = group.hash_to_scalar(b"device", b"n")
    secrets = _scalar_forms(x.value) | _scalar_forms(nonce.value)
    spy.calls.clear()
    proofs = (
        schnorr._prove_schnorr(x, h, b"ctx", nonce),
        chaum_pedersen._prove_equal_logs(x, (g, alpha), (h, d), b"ctx", nonce),
        sd._prove_decryption(x, alpha, b"ctx", nonce),
    )
    _assert_unseen(spy, secrets)
    schnorr.verify_schnorr(h, proofs[0], b"ctx")
    chaum_pedersen.verify_equal_logs((g, alpha), (h, d), proofs[1], b"ctx")


def test_a_shuffle_hides_its_secrets(spy):
    group = get_group("ristretto255")
    g = group.generator
    h = g ** group.scalar(9)
    rows = [[elgamal.encrypt_with_nonce(h, m, group.scalar(50 + m))] for m in range(3)]
    nonces = tuple((group.hash_to_scalar(b"device", bytes([i])),) for i in range(3))
    witness = ShuffleSecret((2, 0, 1), nonces)
    secrets: set[Any] = set()
    for (n,) in nonces:
        secrets |= _forms(g**n) | _forms(h**n) | _scalar_forms(n.value)
    spy.calls.clear()
    outputs = sh._mix(h, rows, witness)
    draws = (group.hash_to_scalar(b"device-draw", i.to_bytes(2, "big")) for i in range(100))
    proof = sh._prove_shuffle(h, rows, outputs, witness, b"ctx", iter(draws))
    _assert_unseen(spy, secrets)
    sh.check_shuffle(h, rows, outputs, proof, b"ctx")


def test_the_instrumentation_catches_a_product_of_secret_elements(spy):
    """Control: multiplying secret powers as elements (what encryption did before the
    device path) hands the pad to the backend's addition, and the spy sees it."""
    group = get_group("ristretto255")
    g = group.generator
    h = g ** group.scalar(5)
    r = group.secret_scalar(1234)
    pad = h**r
    spy.calls.clear()
    _ = g ** group.secret_scalar(3) * h**r
    with pytest.raises(AssertionError, match="a secret reached"):
        _assert_unseen(spy, _forms(pad))


# ------------------------------------------------------------------------ vote 0 vs vote 1
@pytest.fixture
def ct_calls(monkeypatch):
    """The sequence of constant-time calls (libsodium and GMP), by name."""
    import verivote.groups.modp4096 as modp

    calls: list[str] = []

    def record(module: Any, name: str) -> None:
        fn = getattr(module, name)

        def recorded(*args: Any) -> Any:
            calls.append(name)
            return fn(*args)

        monkeypatch.setattr(module, name, recorded)

    for fn in ("_raw_mul_base", "_raw_mul", "add"):
        record(edwards_ct, fn)
    record(modp, "powmod_sec")
    return calls


def test_a_vote_for_0_and_for_1_run_the_same_calls(group, ct_calls):
    h = group.generator ** group.scalar(7)
    r, w = group.scalar(41), group.scalar(43)
    sims = [(group.scalar(3), group.scalar(5)), (group.scalar(7), group.scalar(11))]
    traces = []
    for vote in (0, 1):
        ct_calls.clear()
        ct = elgamal.encrypt_with_nonce(h, vote, r)
        range_proof._prove_range(h, ct, vote, r, 1, b"ctx", w, sims)
        traces.append(list(ct_calls))
    assert traces[0] == traces[1] and len(traces[0]) >= 6
