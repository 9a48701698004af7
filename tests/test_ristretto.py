"""ristretto255: RFC 9496's vectors, differential tests against libsodium, the MSM.

Every check runs on both backends (compiled and pure Python); the oracle is libsodium's
own ristretto255 code (tests/ristretto_oracle.py).
"""

from __future__ import annotations

import secrets

import pytest
import ristretto_oracle as oracle
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from verivote._native import get_backend, native_available
from verivote.errors import InvalidElement, ParameterError
from verivote.groups import get_group
from verivote.groups.ristretto255 import BASE, IDENTITY, L, Ristretto255Group

P = 2**255 - 19
BACKENDS = ["native", "python"]


def backend_or_skip(name):
    """The backend; the compiled one skips where it is not built (CI requires it: see
    tests/test_native.py)."""
    if name == "native" and not native_available():
        pytest.skip("the compiled backend is not built")
    return get_backend(name)


SETTINGS = settings(deadline=None, suppress_health_check=[HealthCheck.too_slow], max_examples=60)

# RFC 9496, Appendix A.1: encodings of B·0 … B·15.
MULTIPLES = [
    "0000000000000000000000000000000000000000000000000000000000000000",
    "e2f2ae0a6abc4e71a884a961c500515f58e30b6aa582dd8db6a65945e08d2d76",
    "6a493210f7499cd17fecb510ae0cea23a110e8d5b901f8acadd3095c73a3b919",
    "94741f5d5d52755ece4f23f044ee27d5d1ea1e2bd196b462166b16152a9d0259",
    "da80862773358b466ffadfe0b3293ab3d9fd53c5ea6c955358f568322daf6a57",
    "e882b131016b52c1d3337080187cf768423efccbb517bb495ab812c4160ff44e",
    "f64746d3c92b13050ed8d80236a7f0007c3b3f962f5ba793d19a601ebb1df403",
    "44f53520926ec81fbd5a387845beb7df85a96a24ece18738bdcfa6a7822a176d",
    "903293d8f2287ebe10e2374dc1a53e0bc887e592699f02d077d5263cdd55601c",
    "02622ace8f7303a31cafc63f8fc48fdc16e1c8c8d234b2f0d6685282a9076031",
    "20706fd788b2720a1ed2a5dad4952b01f413bcf0e7564de8cdc816689e2db95f",
    "bce83f8ba5dd2fa572864c24ba1810f9522bc6004afe95877ac73241cafdab42",
    "e4549ee16b9aa03099ca208c67adafcafa4c3f3e4e5303de6026e3ca8ff84460",
    "aa52e000df2e16f55fb1032fc33bc42742dad6bd5a8fc0be0167436c5948501f",
    "46376b80f409b29dc2b5f6f0c52591990896e5716f41477cd30085ab7f10301e",
    "e0c418f7c8d9c4cdd7395b93ea124f3ad99021bb681dfc3302a9d99a2e53e64e",
]

# RFC 9496, Appendix A.2: encodings every implementation must reject.
BAD = {
    "non-canonical field encoding": [
        "00ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "f3ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ],
    "negative field element": [
        "0100000000000000000000000000000000000000000000000000000000000000",
        "01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "ed57ffd8c914fb201471d1c3d245ce3c746fcbe63a3679d51b6a516ebebe0e20",
        "c34c4e1826e5d403b78e246e88aa051c36ccf0aafebffe137d148a2bf9104562",
        "c940e5a4404157cfb1628b108db051a8d439e1a421394ec4ebccb9ec92a8ac78",
        "47cfc5497c53dc8e61c91d17fd626ffb1c49e2bca94eed052281b510b1117a24",
        "f1c6165d33367351b0da8f6e4511010c68174a03b6581212c71c0e1d026c3c72",
        "87260f7a2f12495118360f02c26a470f450dadf34a413d21042b43b9d93e1309",
    ],
    "non-square x^2": [
        "26948d35ca62e643e26a83177332e6b6afeb9d08e4268b650f1f5bbd8d81d371",
        "4eac077a713c57b4f4397629a4145982c661f48044dd3f96427d40b147d9742f",
        "de6a7b00deadc788eb6b6c8d20c0ae96c2f2019078fa604fee5b87d6e989ad7b",
        "bcab477be20861e01e4a0e295284146a510150d9817763caf1a6f4b422d67042",
        "2a292df7e32cababbd9de088d1d1abec9fc0440f637ed2fba145094dc14bea08",
        "f4a9e534fc0d216c44b218fa0c42d99635a0127ee2e53c712f70609649fdff22",
        "8268436f8c4126196cf64b3c7ddbda90746a378625f9813dd9b8457077256731",
        "2810e5cbc2cc4d4eece54f61c6f69758e289aa7ab440b3cbeaa21995c2f4232b",
    ],
    "negative x·y": [
        "3eb858e78f5a7254d8c9731174a94f76755fd3941c0ac93735c07ba14579630e",
        "a45fdc55c76448c049a1ab33f17023edfb2be3581e9c7aade8a6125215e04220",
        "d483fe813c6ba647ebbfd3ec41adca1c6130c2beeee9d9bf065c8d151c5f396e",
        "8a2e1d30050198c65a54483123960ccc38aef6848e1ec8f5f780e8523769ba32",
        "32888462f8b486c68ad7dd9610be5192bbeaf3b443951ac1a8118419d9fa097b",
        "227142501b9d4355ccba290404bde41575b037693cef1f438c47f8fbf35d1165",
        "5c37cc491da847cfeb9281d407efc41e15144c876e0170b499a96a22ed31e01e",
        "445425117cb8c90edcbc7c1cc0e74f747f2c1efa5630a967c64f287792a48a4b",
    ],
    "s = -1, which gives y = 0": [
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    ],
}
BAD_CASES = [
    pytest.param(bytes.fromhex(h), id=f"{why}-{i}")
    for why, hexes in BAD.items()
    for i, h in enumerate(hexes)
]

# RFC 9496, Appendix A.3: element derivation from 64 uniform bytes.
FROM_UNIFORM = [
    (
        "5d1be09e3d0c82fc538112490e35701979d99e06ca3e2b5b54bffe8b4dc772c1"
        "4d98b696a1bbfb5ca32c436cc61c16563790306c79eaca7705668b47dffe5bb6",
        "3066f82a1a747d45120d1740f14358531a8f04bbffe6a819f86dfe50f44a0a46",
    ),
    (
        "f116b34b8f17ceb56e8732a60d913dd10cce47a6d53bee9204be8b44f6678b27"
        "0102a56902e2488c46120e9276cfe54638286b9e4b3cdb470b542d46c2068d38",
        "f26e5b6f7d362d2d2a94c5d0e7602cb4773c95a2e5c31a64f133189fa76ed61b",
    ),
    (
        "8422e1bbdaab52938b81fd602effb6f89110e1e57208ad12d9ad767e2e25510c"
        "27140775f9337088b982d83d7fcf0b2fa1edffe51952cbe7365e95c86eaf325c",
        "006ccd2a9e6867e6a2c5cea83d3302cc9de128dd2a9a57dd8ee7b9d7ffe02826",
    ),
    (
        "ac22415129b61427bf464e17baee8db65940c233b98afce8d17c57beeb7876c2"
        "150d15af1cb1fb824bbd14955f2b57d08d388aab431a391cfc33d5bafb5dbbaf",
        "f8f0c87cf237953c5890aec3998169005dae3eca1fbb04548c635953c817f92a",
    ),
    (
        "165d697a1ef3d5cf3c38565beefcf88c0f282b8e7dbd28544c483432f1cec767"
        "5debea8ebb4e5fe7d6f6e5db15f15587ac4d4d4a1de7191e0c1ca6664abcc413",
        "ae81e7dedf20a497e10c304a765c1767a42d6e06029758d2d7e8ef7cc4c41179",
    ),
    (
        "a836e6c9a9ca9f1e8d486273ad56a78c70cf18f0ce10abb1c7172ddd605d7fd2"
        "979854f47ae1ccf204a33102095b4200e5befc0465accc263175485f0e17ea5c",
        "e2705652ff9f5e44d3e841bf1c251cf7dddb77d140870d1ab2ed64f1a9ce8628",
    ),
    (
        "2cdc11eaeb95daf01189417cdddbf95952993aa9cb9c640eb5058d09702c7462"
        "2c9965a697a3b345ec24ee56335b556e677b30e6f90ac77d781064f866a3c982",
        "80bd07262511cdde4863f8a7434cef696750681cb9510eea557088f76d9e5065",
    ),
]
# RFC 9496, Appendix A.3: non-canonical field encodings in the input give the same output.
FROM_UNIFORM_SAME = [
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
    "1200000000000000000000000000000000000000000000000000000000000000",
    "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
    "0000000000000000000000000000000000000000000000000000000000000080"
    "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "0000000000000000000000000000000000000000000000000000000000000000"
    "1200000000000000000000000000000000000000000000000000000000000080",
]
FROM_UNIFORM_SAME_OUT = "304282791023b73128d277bdcb5c7746ef2eac08dde9f2983379cb8e5ef0517f"

EDGE_SCALARS = [0, 1, 2, L - 1, L, L + 1, 2 * L, 2**252, 2**253 - 1, 2**255 - 19, 2**255 - 1]


@pytest.fixture(scope="module", params=BACKENDS)
def backend(request):
    return backend_or_skip(request.param)


def points():
    """Elements: random ones from libsodium's from_hash, the identity, the generator."""
    return st.one_of(
        st.binary(min_size=64, max_size=64).map(oracle.from_hash),
        st.sampled_from([IDENTITY, BASE, bytes.fromhex(MULTIPLES[2])]),
    )


def scalars_255():
    return st.one_of(st.sampled_from(EDGE_SCALARS), st.integers(0, 2**255 - 1))


# --- RFC 9496 test vectors -------------------------------------------------------------------
def test_vector_lengths():
    assert all(len(bytes.fromhex(h)) == 32 for h in MULTIPLES)
    assert all(len(bytes.fromhex(h)) == 32 for hs in BAD.values() for h in hs)


def test_multiples_of_the_generator(backend):
    acc = IDENTITY
    for i, h in enumerate(MULTIPLES):
        expected = bytes.fromhex(h)
        assert backend.is_valid(expected)
        assert backend.scalarmult(i, BASE) == expected
        assert acc == expected
        acc = backend.add(acc, BASE)
        if i:
            assert backend.sub(expected, BASE) == bytes.fromhex(MULTIPLES[i - 1])
            # (L - i)·B = -(i·B)
            assert backend.scalarmult(L - i, BASE) == backend.neg(expected)


def test_group_multiples_and_order():
    g = get_group("ristretto255")
    for i, h in enumerate(MULTIPLES):
        assert (g.generator**i).hex() == h
        assert g.pow_public(g.generator, i).hex() == h
    assert (g.generator ** (L - 1)) * g.generator == g.identity
    assert g.generator.to_bytes() == BASE


@pytest.mark.parametrize("data", BAD_CASES)
def test_bad_encodings_rejected(backend, data):
    assert not backend.is_valid(data)
    with pytest.raises(InvalidElement):
        backend.add(data, BASE)
    with pytest.raises(InvalidElement):
        backend.scalarmult(5, data)
    with pytest.raises(InvalidElement):
        Ristretto255Group(backend).decode_element(data)
    assert not oracle.is_valid(data)


@pytest.mark.parametrize(("uniform", "expected"), FROM_UNIFORM)
def test_from_uniform_vectors(backend, uniform, expected):
    assert backend.from_uniform(bytes.fromhex(uniform)).hex() == expected


@pytest.mark.parametrize("uniform", FROM_UNIFORM_SAME)
def test_from_uniform_non_canonical_inputs(backend, uniform):
    assert backend.from_uniform(bytes.fromhex(uniform)).hex() == FROM_UNIFORM_SAME_OUT


# --- differential tests against libsodium ------------------------------------------------------
@pytest.mark.parametrize("name", BACKENDS)
def test_scalarmult_matches_libsodium(name):
    b = backend_or_skip(name)

    @SETTINGS
    @given(scalars_255(), points())
    @example(0, BASE)
    @example(L, BASE)
    @example(2**255 - 1, BASE)
    @example(L - 1, IDENTITY)
    def check(k, p):
        assert b.scalarmult(k, p) == oracle.scalarmult(k, p)

    check()


@pytest.mark.parametrize("name", BACKENDS)
def test_add_sub_neg_match_libsodium(name):
    b = backend_or_skip(name)

    @SETTINGS
    @given(points(), points())
    @example(BASE, BASE)
    @example(BASE, IDENTITY)
    @example(IDENTITY, IDENTITY)
    def check(x, y):
        assert b.add(x, y) == oracle.add(x, y)
        assert b.sub(x, y) == oracle.sub(x, y)
        assert b.neg(y) == oracle.sub(IDENTITY, y)

    check()


@pytest.mark.parametrize("name", BACKENDS)
def test_from_uniform_matches_libsodium(name):
    b = backend_or_skip(name)

    @SETTINGS
    @given(st.binary(min_size=64, max_size=64))
    @example(bytes(64))
    @example(b"\xff" * 64)
    def check(h):
        assert b.from_uniform(h) == oracle.from_hash(h)

    check()


def encodings():
    """Arbitrary 32 bytes, plus near-valid ones: valid elements with one bit flipped, small
    and large field values, bit 255 toggled on valid encodings."""

    def flip(data, bit):
        out = bytearray(data)
        out[bit // 8] ^= 1 << (bit % 8)
        return bytes(out)

    return st.one_of(
        st.binary(min_size=32, max_size=32),
        st.builds(flip, points(), st.integers(0, 255)),
        st.integers(0, 2**16).map(lambda v: (2 * v).to_bytes(32, "little")),
        st.integers(0, 2**16).map(lambda v: (P - 2 * v - 1).to_bytes(32, "little")),
        st.integers(0, 2**16).map(lambda v: (P + 2 * v).to_bytes(32, "little")),
    )


def test_decoder_fuzz():
    """Never crashes; accepts exactly what libsodium accepts (with RFC 9496's bit-255 rule);
    both backends agree; decode_element raises InvalidElement on everything else."""
    native_group = Ristretto255Group(get_backend("native")) if native_available() else None
    python = get_backend("python")

    @settings(deadline=None, max_examples=400, suppress_health_check=[HealthCheck.too_slow])
    @given(encodings())
    @example(bytes(31) + b"\x80")  # the identity with bit 255 set
    @example(BASE[:31] + bytes([BASE[31] | 0x80]))
    def check(data):
        expected = oracle.is_valid(data)
        assert python.is_valid(data) == expected
        if native_group is not None:
            assert native_group.backend.is_valid(data) == expected
            if expected:
                assert native_group.decode_element(data).to_bytes() == data
            else:
                with pytest.raises(InvalidElement):
                    native_group.decode_element(data)
        if data[31] >= 0x80:
            assert not expected

    check()


def test_bit_255_is_rejected_although_libsodium_1_0_18_accepts_it():
    # A difference from the oracle's libsodium version, on RFC 9496's side: DECODE refuses
    # s >= p, and every s with bit 255 set is.
    high = BASE[:31] + bytes([BASE[31] | 0x80])
    if oracle.VERSION == "1.0.18":
        assert oracle.is_valid_libsodium(high)
    for name in BACKENDS:
        if name == "python" or native_available():
            assert not get_backend(name).is_valid(high)


def test_lengths_and_scalar_range(backend):
    for bad in (b"", BASE[:31], BASE + b"\x00"):
        assert not backend.is_valid(bad)
        with pytest.raises(InvalidElement):
            backend.add(bad, BASE)
        with pytest.raises(InvalidElement):
            backend.scalarmult(3, bad)
    with pytest.raises(ParameterError):
        backend.scalarmult(2**255, BASE)
    with pytest.raises(ParameterError):
        backend.scalarmult(-1, BASE)
    with pytest.raises(ParameterError):
        backend.from_uniform(bytes(32))


# --- multi-scalar multiplication ----------------------------------------------------------------
def naive_sum(ks, ps):
    acc = IDENTITY
    for k, p in zip(ks, ps, strict=True):
        acc = oracle.add(acc, oracle.scalarmult(k, p))
    return acc


@pytest.mark.parametrize("n", [0, 1, 2, 3, 7, 31, 64, 100, 129, 257, 300])
def test_msm_matches_naive_sum(n):
    b = get_backend("native") if native_available() else get_backend("python")
    ps = [oracle.from_hash(secrets.token_bytes(64)) for _ in range(n)]
    ks = [secrets.randbelow(L) for _ in range(n)]
    # edge cases mixed in: zero and L - 1 scalars, the identity, repeated and opposite points
    if n >= 7:
        ks[0], ks[1], ks[2] = 0, L - 1, 2**255 - 1
        ps[3] = IDENTITY
        ps[4] = ps[5]
        ps[6] = oracle.sub(IDENTITY, ps[5])
    assert b.msm(ks, ps) == naive_sum(ks, ps)


@pytest.mark.parametrize("n", [0, 1, 5, 40])
def test_msm_backends_agree(n):
    ps = [oracle.from_hash(secrets.token_bytes(64)) for _ in range(n)]
    ks = [secrets.randbelow(2**255) for _ in range(n)]
    results = {name: backend_or_skip(name).msm(ks, ps) for name in BACKENDS}
    assert results["native"] == results["python"] == naive_sum(ks, ps)


def test_msm_random_sizes():
    b = backend_or_skip("native")

    @settings(deadline=None, max_examples=12, suppress_health_check=[HealthCheck.too_slow])
    @given(st.integers(0, 300), st.integers(0, 2**32))
    def check(n, seed):
        ps = [
            oracle.from_hash(seed.to_bytes(8, "little") + i.to_bytes(56, "little"))
            for i in range(n)
        ]
        ks = [secrets.randbelow(L) for _ in range(n)]
        assert b.msm(ks, ps) == naive_sum(ks, ps)

    check()


def test_msm_names_the_bad_point(backend):
    ps = [BASE, bytes.fromhex(MULTIPLES[2]), bytes.fromhex(BAD["non-square x^2"][0]), BASE]
    with pytest.raises(InvalidElement, match=r"\(point 2\)"):
        backend.msm([1, 2, 3, 4], ps)
    with pytest.raises(ParameterError):
        backend.msm([1], ps)


def test_group_multi_exp():
    g = get_group("ristretto255")
    elements = [g.hash_to_element(b"msm", bytes([i])) for i in range(20)] + [g.identity]
    exps = [g.random_scalar() for _ in range(20)] + [g.scalar(5)]
    expected = g.identity
    for e, k in zip(elements, exps, strict=True):
        expected = expected * e**k
    assert g.multi_exp(elements, exps) == expected
    assert g.multi_exp(elements, [int(k) + L for k in exps]) == expected  # ints reduced
    assert g.multi_exp([], []) == g.identity
    with pytest.raises(ParameterError):
        g.multi_exp(elements, exps[:-1])
    with pytest.raises(ParameterError):
        g.multi_exp([get_group("ed25519").generator], [1])


def test_groups_on_both_backends_agree():
    native = Ristretto255Group(backend_or_skip("native"))
    python = Ristretto255Group(get_backend("python"))
    for label in (b"a", b"b", b"c"):
        x, y = native.hash_to_element(b"t", label), python.hash_to_element(b"t", label)
        assert x.to_bytes() == y.to_bytes()
        k = native.hash_to_scalar(b"k", label)
        assert native.pow_public(x, k).to_bytes() == python.pow_public(y, k.value).to_bytes()
        assert (x**k).to_bytes() == native.pow_public(x, k).to_bytes()
        assert x.inverse().to_bytes() == y.inverse().to_bytes()
