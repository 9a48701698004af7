"""The threshold key ceremony: n trustees make a joint ElGamal key that any k can use.

Pedersen's joint-Feldman DKG with GJKR's public complaints. No party, trustee or
operator, ever holds the joint secret key. Trustees are numbered 1..n as in
``manifest.trustees``; ``k = manifest.threshold``; ``g`` is the group's generator.

1. **Secrets** (:class:`TrusteeSecrets`, never written to the record): trustee ``i`` has an
   Ed25519 signing key, an X25519 box key and a random polynomial
   ``f_i(x) = a_{i,0} + a_{i,1}·x + … + a_{i,k-1}·x^(k-1)`` over scalars. The manifest
   lists its public keys (:meth:`TrusteeSecrets.info`).
2. **Announcement** (``trustee`` entry): ``{"trustee": i, "commitments": [g^{a_{i,t}}],
   "proofs": [Schnorr proof of a_{i,t}]}`` for ``t = 0..k-1``. Each proof's context is
   ``frame("verivote/trustee-coefficient", fingerprint, i, t)`` (2-byte indices), so a
   commitment cannot be copied from another trustee, coefficient or election.
3. **Shares** (``share`` entries): for each ``j ≠ i``, ``{"from": i, "to": j, "box": hex}``,
   a NaCl box from ``i``'s box key to ``j``'s (random nonce prepended) of
   ``frame("verivote/share", fingerprint, i, j, f_i(j))``. Posted on the board so that a
   dispute can be judged. ``j`` accepts the share iff ``g^{f_i(j)} = Π_t C_{i,t}^{j^t}``.
4. **Complaint** (``complaint``): ``{"from": j, "against": i, "reason": str}`` when ``i``'s
   share to ``j`` is missing, does not open or does not match ``i``'s commitments.
5. **Justification** (``justification``): ``i`` answers with ``{"from": i, "to": j,
   "share": f_i(j)}`` in the clear; anyone checks it against the commitments and ``j`` uses
   the revealed value.
6. **Qualified set**: ``i`` is disqualified iff some complaint against it has no valid
   justification (or it never announced). Fewer than ``k`` qualified: the ceremony fails.
7. **Joint key** (``joint_key``): ``{"qualified": [...], "public_key": h}`` with
   ``h = Π_{i∈QUAL} C_{i,0}``. Trustee ``j``'s secret share is
   ``x_j = Σ_{i∈QUAL} f_i(j)``; its public share key ``g^{x_j} = Π_{i∈QUAL} Π_t
   C_{i,t}^{j^t}`` is computable by anyone and checks ``j``'s decryption proofs. Any ``k``
   shares interpolate ``log_g h``; ``k - 1`` reveal nothing beyond ``h``.

On the board the ceremony runs on a timetable and is bound to one run
(:mod:`verivote.election.keygen`: the ``ceremony`` entry, the ``run`` field of every body,
the deadlines, and the trustee's side — checking received shares, filing complaints,
combining its share over the qualified set). Signatures on the entries (author = the
trustee named in ``from`` / ``trustee``) are checked where entries are read, not here.
As GJKR showed, a rushing adversary can bias the distribution of ``h`` in this DKG (it
cannot learn the key); GJKR (CT-RSA 2003) prove that ElGamal-type encryption stays secure
with such keys.
"""

from __future__ import annotations

import struct
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import Box, PrivateKey, PublicKey

from verivote.election.manifest import Manifest, TrusteeInfo
from verivote.encoding import frame, from_hex
from verivote.errors import DecodeError, InvalidElement, InvalidProof, ParameterError, ProtocolError
from verivote.groups.base import Element, Group, Scalar
from verivote.proofs.codec import expect_keys
from verivote.proofs.schnorr import SchnorrProof, _prove_schnorr, verify_schnorr
from verivote.signatures import Signer

COEFFICIENT_LABEL = b"verivote/trustee-coefficient"
SHARE_LABEL = b"verivote/share"
MAX_REASON = 500
MAX_TRUSTEES = 255
_LEN = struct.Struct(">I")


@dataclass(frozen=True, slots=True, repr=False, eq=False)
class TrusteeSecrets:
    """One trustee's secrets: signing key, box key and polynomial ``coefficients[t] =
    a_t``. Never serialised; its ``repr`` shows no secret. The constructor is the
    deterministic twin of :meth:`generate`."""

    group: Group
    index: int
    signer: Signer
    box_key: PrivateKey
    coefficients: tuple[Scalar, ...]

    def __post_init__(self) -> None:
        if not 1 <= self.index <= MAX_TRUSTEES:
            raise ParameterError(f"trustee index must be in 1..{MAX_TRUSTEES}, got {self.index}")
        if not self.coefficients or any(a.group is not self.group for a in self.coefficients):
            raise ParameterError("a trustee needs at least one coefficient, all in its group")

    @classmethod
    def generate(cls, group: Group, index: int, threshold: int) -> TrusteeSecrets:
        """Fresh keys and a random polynomial of degree ``threshold - 1`` (coefficients are
        non-zero, so no commitment is the identity)."""
        if threshold < 1:
            raise ParameterError(f"threshold must be at least 1, got {threshold}")
        coefficients = tuple(group.random_nonzero_scalar() for _ in range(threshold))
        return cls(group, index, Signer.generate(), PrivateKey.generate(), coefficients)

    @property
    def threshold(self) -> int:
        """``k``: the number of coefficients."""
        return len(self.coefficients)

    def info(self, name: str) -> TrusteeInfo:
        """The public identity to list in the manifest."""
        box_public = bytes(self.box_key.public_key)
        return TrusteeInfo(self.index, name, self.signer.public_key, box_public)

    def evaluate(self, x: int) -> Scalar:
        """``f(x)`` (Horner's rule modulo the group order)."""
        q = self.group.order
        acc = 0
        for a in reversed(self.coefficients):
            acc = (acc * x + a.value) % q
        return Scalar(self.group, acc)

    def __repr__(self) -> str:
        return f"<TrusteeSecrets {self.group.name} trustee {self.index} k={self.threshold}>"


@dataclass(frozen=True, slots=True)
class Announcement:
    """A checked announcement: trustee ``index`` and its commitments ``g^{a_{index,t}}``."""

    index: int
    commitments: tuple[Element, ...]

    def evaluate(self, x: int) -> Element:
        """``g^{f(x)} = Π_t C_t^{x^t}``, from the commitments alone."""
        return _evaluate(self.commitments, x)


def _evaluate(commitments: Sequence[Element], x: int) -> Element:
    acc = commitments[-1]
    for c in reversed(commitments[:-1]):
        acc = acc**x * c
    return acc


def _index(value: Any, what: str, n: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= n:
        raise DecodeError(f"{what}: expected a trustee index in 1..{n}, got {value!r}")
    return value


def _u16(value: int) -> bytes:
    return value.to_bytes(2, "big")


def _coefficient_context(manifest: Manifest, index: int, t: int) -> bytes:
    return frame(COEFFICIENT_LABEL, manifest.fingerprint, _u16(index), _u16(t))


def _check_secrets(secrets: TrusteeSecrets, manifest: Manifest) -> None:
    n = len(manifest.trustees)
    if secrets.group is not manifest.group or secrets.threshold != manifest.threshold:
        raise ParameterError("trustee secrets do not match the manifest's group or threshold")
    box_public = bytes(secrets.box_key.public_key)
    if secrets.index > n or box_public != manifest.trustee(secrets.index).box_key:
        raise ParameterError(f"secrets are not those of trustee {secrets.index} of the manifest")


def _other(secrets: TrusteeSecrets, manifest: Manifest, other: int) -> None:
    _check_secrets(secrets, manifest)
    if other == secrets.index or not 1 <= other <= len(manifest.trustees):
        raise ParameterError(f"trustee {other} is not another trustee of the manifest")


def make_announcement(secrets: TrusteeSecrets, manifest: Manifest) -> dict[str, Any]:
    """The body of trustee ``secrets.index``'s ``trustee`` entry: commitments to its
    polynomial's coefficients, each with a Schnorr proof of knowledge bound to the
    election (fresh proof nonces). Raises ParameterError if ``secrets`` are not those of
    that trustee of ``manifest`` (group, threshold or box key differ)."""
    nonces = [manifest.group.random_scalar() for _ in secrets.coefficients]
    return _make_announcement(secrets, manifest, nonces)


def _make_announcement(
    secrets: TrusteeSecrets, manifest: Manifest, nonces: Sequence[Scalar]
) -> dict[str, Any]:
    _check_secrets(secrets, manifest)
    if len(nonces) != secrets.threshold:
        raise ParameterError("one proof nonce per coefficient")
    group, i = manifest.group, secrets.index
    g = group.generator
    # Coefficients are secrets whatever their type (read back from a key file they are
    # plain scalars): constant-time powers.
    commitments = [group.secret_product([g], [a]) for a in secrets.coefficients]
    proofs = [
        _prove_schnorr(a, c, _coefficient_context(manifest, i, t), w).to_dict()
        for t, (a, c, w) in enumerate(zip(secrets.coefficients, commitments, nonces, strict=True))
    ]
    return {"trustee": i, "commitments": [c.hex() for c in commitments], "proofs": proofs}


def check_announcement(body: Any, manifest: Manifest) -> Announcement:
    """Strictly decode and verify a ``trustee`` body.

    Guarantees: exactly the keys ``trustee``, ``commitments``, ``proofs``; the index in
    ``1..n``; exactly ``k`` commitments, each a valid, non-identity element, and ``k``
    proofs of knowledge of their logarithms bound to this trustee, coefficient and election.
    Raises :class:`DecodeError` (or its :class:`InvalidElement`) for malformed input and
    :class:`InvalidProof` naming the trustee and coefficient for a proof that fails.
    """
    expect_keys(body, ("commitments", "proofs", "trustee"), "announcement")
    group, k = manifest.group, manifest.threshold
    i = _index(body["trustee"], "announcement trustee", len(manifest.trustees))
    for field in ("commitments", "proofs"):
        raw = body[field]
        if not isinstance(raw, list) or len(raw) != k:
            got = len(raw) if isinstance(raw, list) else type(raw).__name__
            raise DecodeError(f"announcement of trustee {i}: expected {k} {field}, got {got}")
    commitments: list[Element] = []
    proofs: list[SchnorrProof] = []
    for t in range(k):
        what = f"trustee {i} commitment {t}"
        data = from_hex(body["commitments"][t], group.element_size, what)
        try:
            c = group.decode_element(data)
            proofs.append(SchnorrProof.from_dict(group, body["proofs"][t]))
        except DecodeError as exc:  # name the trustee and coefficient, keep the class
            raise type(exc)(f"trustee {i} coefficient {t}: {exc}") from None
        if c.is_identity():
            raise InvalidElement(f"{what} is the identity")
        commitments.append(c)
    for t, (c, proof) in enumerate(zip(commitments, proofs, strict=True)):
        try:
            verify_schnorr(c, proof, _coefficient_context(manifest, i, t))
        except InvalidProof as exc:
            raise InvalidProof(f"trustee {i} coefficient {t}: {exc}") from None
    return Announcement(i, tuple(commitments))


def _box(secret: PrivateKey, public: bytes, what: str) -> Box:
    try:
        return Box(secret, PublicKey(public))
    except CryptoError:
        raise ProtocolError(f"{what}: the box key is unusable") from None


def make_share(secrets: TrusteeSecrets, manifest: Manifest, to: int) -> dict[str, Any]:
    """The body of the ``share`` entry carrying ``f_i(to)`` encrypted (and authenticated)
    to trustee ``to``'s box key; only ``to`` can open it (:func:`open_share`). Raises
    ParameterError if ``to`` is not another trustee of the manifest or ``secrets`` are not
    a trustee's of it."""
    return _encrypt_share(secrets, manifest, to, secrets.evaluate(to), None)


def _encrypt_share(
    secrets: TrusteeSecrets, manifest: Manifest, to: int, value: Scalar, nonce: bytes | None
) -> dict[str, Any]:
    _other(secrets, manifest, to)
    i = secrets.index
    plaintext = frame(SHARE_LABEL, manifest.fingerprint, _u16(i), _u16(to), value.to_bytes())
    box = _box(secrets.box_key, manifest.trustee(to).box_key, f"share to trustee {to}")
    return {"from": i, "to": to, "box": bytes(box.encrypt(plaintext, nonce)).hex()}


def _unframe(data: bytes, count: int) -> list[bytes]:
    parts: list[bytes] = []
    pos = 0
    while pos + 4 <= len(data) and len(parts) < count:
        (length,) = _LEN.unpack_from(data, pos)
        parts.append(data[pos + 4 : pos + 4 + length])
        pos += 4 + length
    if len(parts) != count or pos != len(data):
        raise ProtocolError("share plaintext is not correctly framed")
    return parts


def open_share(secrets: TrusteeSecrets, manifest: Manifest, body: Any) -> Scalar:
    """Decrypt a ``share`` body addressed to ``secrets.index``; returns ``f_from(to)``.

    Raises :class:`DecodeError` for a malformed body and :class:`ProtocolError` (grounds
    for a complaint) if it is addressed to another trustee, the box does not open with the
    sender's key, or the plaintext is not a canonical scalar framed for this election and
    these two trustees. The value is not checked here: see :func:`check_share_value`.
    """
    _check_secrets(secrets, manifest)
    expect_keys(body, ("box", "from", "to"), "share")
    n = len(manifest.trustees)
    i, j = _index(body["from"], "share from", n), _index(body["to"], "share to", n)
    if i == j:
        raise DecodeError(f"share from trustee {i} to itself")
    if j != secrets.index:
        raise ProtocolError(f"share from trustee {i} is addressed to trustee {j}, not to us")
    sealed = from_hex(body["box"], what="share box")
    what = f"share from trustee {i} to trustee {j}"
    try:
        plaintext = bytes(_box(secrets.box_key, manifest.trustee(i).box_key, what).decrypt(sealed))
    except CryptoError:
        raise ProtocolError(f"{what}: the box does not decrypt") from None
    label, fingerprint, sender, recipient, raw = _unframe(plaintext, 5)
    if label != SHARE_LABEL:
        raise ProtocolError(f"{what}: the plaintext is not a share")
    if fingerprint != manifest.fingerprint:
        raise ProtocolError(f"{what}: the share is for another election")
    if sender != _u16(i) or recipient != _u16(j):
        raise ProtocolError(f"{what}: the plaintext names other trustees")
    try:
        return manifest.group.decode_scalar(raw)
    except DecodeError as exc:
        raise ProtocolError(f"{what}: {exc}") from None


def check_share_value(value: Scalar, announcement: Announcement, to: int) -> None:
    """Return if ``g^value == Π_t C_t^{to^t}`` for the announcing trustee's commitments,
    i.e. ``value`` is its polynomial at ``to``; otherwise raise :class:`ProtocolError`."""
    if to < 1:
        raise ParameterError("shares are evaluated at trustee indices >= 1")
    group = value.group
    if group.secret_product([group.generator], [value]) != announcement.evaluate(to):
        raise ProtocolError(
            f"share from trustee {announcement.index} to trustee {to} does not match "
            f"trustee {announcement.index}'s commitments"
        )


def make_complaint(
    secrets: TrusteeSecrets, manifest: Manifest, against: int, reason: str
) -> dict[str, Any]:
    """The body of a ``complaint`` entry by ``secrets.index`` against trustee ``against``
    (whose share did not open or did not match its commitments). Raises ParameterError
    if ``against`` is not another trustee or ``reason`` is not 1..500 characters."""
    _other(secrets, manifest, against)
    if not isinstance(reason, str) or not 0 < len(reason) <= MAX_REASON:
        raise ParameterError(f"a complaint's reason is 1..{MAX_REASON} characters")
    return {"from": secrets.index, "against": against, "reason": reason}


def check_complaint(body: Any, manifest: Manifest) -> tuple[int, int]:
    """Strictly decode a ``complaint`` body; returns ``(from, against)`` (distinct trustees
    of the manifest). Raises :class:`DecodeError`."""
    expect_keys(body, ("against", "from", "reason"), "complaint")
    n = len(manifest.trustees)
    j, i = _index(body["from"], "complaint from", n), _index(body["against"], "against", n)
    if i == j:
        raise DecodeError(f"complaint of trustee {j} against itself")
    reason = body["reason"]
    if not isinstance(reason, str) or not 0 < len(reason) <= MAX_REASON:
        raise DecodeError(f"complaint reason: expected 1..{MAX_REASON} characters")
    return j, i


def make_justification(secrets: TrusteeSecrets, manifest: Manifest, to: int) -> dict[str, Any]:
    """The body of a ``justification`` entry answering ``to``'s complaint: it reveals
    ``f_i(to)`` in the clear, so anyone can check it against the commitments. Raises
    ParameterError if ``to`` is not another trustee of the manifest."""
    _other(secrets, manifest, to)
    return {"from": secrets.index, "to": to, "share": secrets.evaluate(to).hex()}


def check_justification(body: Any, announcement: Announcement) -> Scalar:
    """Strictly decode a ``justification`` by the announcing trustee and return the revealed
    share. Raises :class:`DecodeError` if malformed, :class:`ParameterError` if it is from
    another trustee than the announcement's, :class:`ProtocolError` if the share does not
    match the commitments (the trustee is then disqualified)."""
    expect_keys(body, ("from", "share", "to"), "justification")
    i = _index(body["from"], "justification from", MAX_TRUSTEES)
    j = _index(body["to"], "justification to", MAX_TRUSTEES)
    if i != announcement.index:
        raise ParameterError(
            f"justification from trustee {i}, announcement of {announcement.index}"
        )
    if i == j:
        raise DecodeError(f"justification of trustee {i} to itself")
    group = announcement.commitments[0].group
    value = group.decode_scalar(from_hex(body["share"], group.scalar_size, "justification share"))
    try:
        check_share_value(value, announcement, j)
    except ProtocolError:
        raise ProtocolError(
            f"justification of trustee {i} for trustee {j}: the revealed share does not match "
            f"trustee {i}'s commitments"
        ) from None
    return value


def qualified_trustees(
    n: int,
    complaints: Iterable[tuple[int, int]],
    justified: Collection[tuple[int, int]],
    threshold: int | None = None,
    *,
    announced: Collection[int] | None = None,
) -> tuple[int, ...]:
    """The qualified set, ascending. ``complaints`` are ``(from, against)``; ``justified``
    holds ``(against, from)`` for each justification that :func:`check_justification`
    accepted. Trustee ``i`` is disqualified iff a complaint against it is unjustified, or
    (when ``announced`` is given) it has no valid announcement. ``from = 0`` stands for
    the record itself: a complaint nothing answers (e.g. a share never posted).

    Raises :class:`ProtocolError` when fewer than ``threshold`` remain: the ceremony fails.
    Pass the manifest's threshold; without it only an empty qualified set fails."""
    k = 1 if threshold is None else threshold
    if not 1 <= k <= n:
        raise ParameterError(f"need 1 <= threshold <= n, got {k} of {n}")
    disqualified: set[int] = set()
    for j, i in complaints:
        if i == j or not (1 <= i <= n and 0 <= j <= n):
            raise ParameterError(f"complaint {j} -> {i} does not name two trustees of 1..{n}")
        if j == 0 or (i, j) not in justified:
            disqualified.add(i)
    if announced is not None:
        disqualified.update(i for i in range(1, n + 1) if i not in announced)
    qualified = tuple(i for i in range(1, n + 1) if i not in disqualified)
    if len(qualified) < k:
        raise ProtocolError(
            f"only {len(qualified)} of {n} trustees qualified, fewer than the threshold "
            f"{k}: the ceremony fails (disqualified: {sorted(disqualified)})"
        )
    return qualified


def _combined(announcements: Mapping[int, Announcement], qualified: Iterable[int]) -> list[Element]:
    qual = list(qualified)
    if not qual or len(set(qual)) != len(qual):
        raise ParameterError("the qualified set must be non-empty without repeats")
    missing = [i for i in qual if i not in announcements]
    if missing:
        raise ProtocolError(f"qualified trustees {missing} have no announcement")
    combined = list(announcements[qual[0]].commitments)
    for i in qual[1:]:
        commitments = announcements[i].commitments
        if len(commitments) != len(combined):
            raise ParameterError("announcements of different thresholds")
        combined = [a * b for a, b in zip(combined, commitments, strict=True)]
    return combined


def joint_public_key(
    announcements: Mapping[int, Announcement], qualified: Iterable[int]
) -> Element:
    """The election's public key ``h = Π_{i∈QUAL} C_{i,0}`` from the (checked)
    announcements of the qualified trustees; raises :class:`ProtocolError` if a qualified
    trustee has no announcement."""
    return _combined(announcements, qualified)[0]


def public_share_key(
    announcements: Mapping[int, Announcement], qualified: Iterable[int], j: int
) -> Element:
    """``g^{x_j} = Π_{i∈QUAL} Π_t C_{i,t}^{j^t}``: trustee ``j``'s public share key."""
    if j < 1:
        raise ParameterError("trustee indices start at 1")
    return _evaluate(_combined(announcements, qualified), j)


def own_share(secrets: TrusteeSecrets, index: int) -> Scalar:
    """``f(index)``: a trustee's share of its own polynomial (``index = secrets.index``),
    the one share it never sends; with the shares it received it makes its secret share
    (:func:`combined_secret_share`)."""
    return secrets.evaluate(index)


def combined_secret_share(received: Mapping[int, Scalar], *, qualified: Iterable[int]) -> Scalar:
    """``x_j = Σ_{i∈QUAL} f_i(j)``: ``received`` maps each trustee ``i`` to ``f_i(j)``
    (``j``'s own share and the values revealed by justifications included); only the
    trustees of ``qualified`` are added — a value from a disqualified trustee is not part
    of the joint key and is left out. Raises :class:`ParameterError` for an empty
    qualified set or one with a trustee ``received`` lacks."""
    qual = sorted(set(qualified))
    if not qual:
        raise ParameterError("no qualified trustees")
    missing = [i for i in qual if i not in received]
    if missing:
        raise ParameterError(f"no share from qualified trustees {missing}")
    first, *rest = (received[i] for i in qual)
    return sum(rest, first)


def make_joint_key_body(
    announcements: Mapping[int, Announcement], qualified: Iterable[int]
) -> dict[str, Any]:
    """The body of the ``joint_key`` entry: the qualified trustees (sorted) and the joint
    key they give (:func:`joint_public_key`); the board recomputes both and refuses a
    body that differs. Raises ProtocolError if a qualified trustee has no announcement."""
    qual = sorted(qualified)
    key = joint_public_key(announcements, qual)
    if key.is_identity():
        raise ProtocolError("the joint key is the identity: the ceremony fails")
    return {"qualified": qual, "public_key": key.hex()}


def check_joint_key_body(
    body: Any, announcements: Mapping[int, Announcement], qualified: Iterable[int]
) -> Element:
    """Strictly decode a ``joint_key`` body and return the key. Raises :class:`DecodeError`
    if malformed and :class:`ProtocolError` if the qualified set or the key differs from
    the recomputation over ``announcements`` and ``qualified``."""
    expect_keys(body, ("public_key", "qualified"), "joint key")
    qual = sorted(qualified)
    if body["qualified"] != qual or any(type(i) is not int for i in body["qualified"]):
        raise ProtocolError(f"joint key: qualified set {body['qualified']!r}, expected {qual}")
    key = joint_public_key(announcements, qual)
    group = key.group
    stated = group.decode_element(
        from_hex(body["public_key"], group.element_size, "joint public key")
    )
    if stated != key:
        raise ProtocolError("joint key: public key is not the product of qualified C_{i,0}")
    return key
