"""Small helpers shared by the tests: vector files, tamper helpers, Hypothesis budgets."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from verivote import errors
from verivote.groups import Group

VECTORS = Path(__file__).resolve().parent / "vectors"


def load_vectors_from_file(name: str) -> Any:
    """The parsed JSON vector file ``tests/vectors/<name>`` (written by generate.py)."""
    with open(VECTORS / name, encoding="utf-8") as f:
        return json.load(f)


def load_generator() -> Any:
    """tests/vectors/generate.py as a module (it is a script, not part of a package)."""
    spec = importlib.util.spec_from_file_location("vector_generator", VECTORS / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def error_class(name: str) -> type[Exception]:
    """The verivote error class a vector names (``"InvalidProof"`` → errors.InvalidProof)."""
    cls = getattr(errors, name)
    assert issubclass(cls, errors.VerivoteError)
    return cls


def flip_byte(data: bytes, index: int, mask: int = 0x01) -> bytes:
    """``data`` with one byte XORed with ``mask`` (as PyNaCl's tests do)."""
    out = bytearray(data)
    out[index] ^= mask
    return bytes(out)


def budget(group: Group, fast: int = 40, slow: int = 8) -> int:
    """Hypothesis examples for ``group``: modp4096 costs ~1.5 ms per exponentiation."""
    return slow if group.name == "modp4096" else fast


def prop(group: Group, *strategies: Any, fast: int = 40, slow: int = 8, **kw: Any) -> Callable:
    """Run the decorated function at once as a Hypothesis property, with an example budget
    that depends on the group (settings cannot depend on a pytest parameter otherwise)."""

    def run(fn: Callable) -> Callable:
        test = settings(
            max_examples=budget(group, fast, slow),
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        )(given(*strategies, **kw)(fn))
        test()
        return fn

    return run


def scalars(group: Group, *, nonzero: bool = False) -> st.SearchStrategy:
    """Scalars of ``group``, boundary values included."""
    return st.integers(1 if nonzero else 0, group.order - 1).map(group.scalar)
