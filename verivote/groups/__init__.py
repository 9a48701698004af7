"""Prime-order groups: :func:`get_group` returns the singleton for a name.

``ristretto255`` (the default) is RFC 9496's group: verification on verivote's own
compiled backend (or, without a C compiler, Python integers and PyNaCl), secrets always in
libsodium's constant-time edwards25519 code; ``ed25519`` is edwards25519's prime-order
subgroup through libsodium; ``modp4096`` is ElectionGuard's 4096-bit group on gmpy2. All
satisfy :class:`Group`.
"""

from __future__ import annotations

from verivote.errors import ParameterError
from verivote.groups.base import Element, Group, Scalar

__all__ = ["DEFAULT_GROUP", "GROUP_NAMES", "Element", "Group", "Scalar", "get_group"]

DEFAULT_GROUP = "ristretto255"
GROUP_NAMES = ("ed25519", "modp4096", "ristretto255")
_INSTANCES: dict[str, Group] = {}


def get_group(name: str = DEFAULT_GROUP) -> Group:
    """The group called ``name`` (one of :data:`GROUP_NAMES`)."""
    group = _INSTANCES.get(name)
    if group is not None:
        return group
    if name == "ed25519":
        from verivote.groups.ed25519 import Ed25519Group

        group = Ed25519Group()
    elif name == "modp4096":
        from verivote.groups.modp4096 import Modp4096Group

        group = Modp4096Group()
    elif name == "ristretto255":
        from verivote.groups.ristretto255 import Ristretto255Group

        group = Ristretto255Group()
    else:
        raise ParameterError(f"unknown group {name!r}; choose one of {', '.join(GROUP_NAMES)}")
    _INSTANCES[name] = group
    return group
