"""Points whose prime-order-subgroup membership is not yet established.

:meth:`~verivote.groups.base.Group.decode_element_deferred` checks an encoding only and
returns an :class:`UncheckedElement`, so that a ballot's points are validated once, by the
exponentiations its range proofs need anyway, instead of twice. The type is what keeps that
deferred check from being lost: it is not an :class:`~verivote.groups.base.Element`, and
``mypy --strict`` refuses it wherever an Element is required.
"""

from __future__ import annotations

from typing import Any

from verivote.errors import ParameterError
from verivote.groups.base import Element, Group, Scalar


class UncheckedElement:
    """A decoded point whose prime-order-subgroup membership is not yet established (from
    :meth:`Group.decode_element_deferred`). Deliberately not an :class:`Element` (nor a
    subclass): ``mypy --strict`` refuses it wherever an Element is required, so a refactor
    cannot drop the deferred subgroup check unnoticed. It becomes one in exactly three
    ways:

    * ``u ** k`` — exponentiation, returning an Element: in a group whose exponentiation
      validates its input (:attr:`Group.pow_validates`) and for ``k != 0`` the backend's
      check is the validation; otherwise the point is validated in full first;
    * :meth:`matches` — it equals an Element computed from validated ones;
    * :meth:`checked` — the Element, validated in full unless one of the above already
      established it (then free).

    ``u * x`` and ``u / x`` give UncheckedElements (a product is no more valid than its
    factors)."""

    __slots__ = ("group", "validated", "value")

    group: Group
    value: Any
    validated: bool

    def __init__(self, group: Group, value: Any, *, validated: bool = False) -> None:
        self.group = group
        self.value = value
        self.validated = validated

    def _value_of(self, other: Element | UncheckedElement) -> Any:
        if other.group is not self.group:
            raise ParameterError("elements of different groups")
        return other.value

    def __mul__(self, other: Element | UncheckedElement) -> UncheckedElement:
        value = self.group._op(self.value, self._value_of(other))
        return UncheckedElement(self.group, value)

    def __rmul__(self, other: Element) -> UncheckedElement:
        return self.__mul__(other)

    def __truediv__(self, other: Element | UncheckedElement) -> UncheckedElement:
        g = self.group
        return UncheckedElement(g, g._op(self.value, g._inv(self._value_of(other))))

    def __pow__(self, k: Scalar | int) -> Element:
        g = self.group
        if isinstance(k, Scalar):
            if k.group is not g:
                raise ParameterError("scalar of a different group")
            e = k.value
        else:
            e = k % g.order
        if not self.validated and (e == 0 or not g.pow_validates):
            self.checked()
        result = Element(g, g._pow(self.value, e))
        self.validated = True  # the backend refused it otherwise (InvalidElement)
        return result

    def matches(self, element: Element) -> bool:
        """Whether this point equals ``element`` (which is valid, so this one is too)."""
        if element.group is self.group and bool(element.value == self.value):
            self.validated = True
            return True
        return False

    def checked(self) -> Element:
        """The validated Element; raises InvalidElement if it is not in the subgroup."""
        if not self.validated:
            self.group.decode_element(self.to_bytes())
            self.validated = True
        return Element(self.group, self.value)

    def to_bytes(self) -> bytes:
        """The canonical encoding it was decoded from."""
        return self.group._encode(self.value)

    def hex(self) -> str:
        """The canonical encoding as lowercase hex."""
        return self.to_bytes().hex()

    def __repr__(self) -> str:
        state = "validated" if self.validated else "unchecked"
        return f"<UncheckedElement {self.group.name} {self.hex()[:16]}… {state}>"
