"""Lower layers never import higher ones (DESIGN.md, "Layers").

Every module under verivote/ is parsed with ast (nothing is imported), its imports of
verivote modules are resolved (relative imports included, imports inside functions too),
and each must point to the same or a lower layer. Layers that do not exist yet are fine.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "verivote"

# Lowest first. Every other top-level name (cli, storage, server, client, store*, …) is the
# edge, above everything.
LAYERS = [
    "errors",
    "encoding",
    "count",
    "groups",
    "elgamal",
    "proofs",
    "election",
    "board",
    "verify",
    "roles",
]
EDGE = len(LAYERS)
# Top-level modules that are not in DESIGN.md's list but are primitives, not edge:
# signatures (Ed25519 over PyNaCl, imports only errors) sits beside groups;
# _native (the ristretto255 backends, imports only errors) sits beside groups too.
EXTRA = {"signatures": LAYERS.index("groups"), "_native": LAYERS.index("groups")}


def layer_of(module: str) -> int:
    """The rank of a dotted module name under verivote (the package itself ranks lowest:
    importing any submodule runs verivote/__init__.py, so it must stay at the bottom)."""
    parts = module.split(".")
    assert parts[0] == "verivote", module
    if len(parts) == 1:
        return -1
    top = parts[1]
    if top in LAYERS:
        return LAYERS.index(top)
    return EXTRA.get(top, EDGE)


def layer_name(rank: int) -> str:
    if rank == -1:
        return "package root"
    return LAYERS[rank] if rank < EDGE else "edge"


def module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(module: str, source: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, dotted name) of every verivote module that ``source`` imports."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [
                (node.lineno, a.name) for a in node.names if a.name.split(".")[0] == "verivote"
            ]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                if node.level > 1:
                    base = base[: -(node.level - 1)]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            if target.split(".")[0] != "verivote":
                continue
            if target == "verivote":
                # `from verivote import election` imports the submodule verivote.election;
                # `from verivote import __version__` only the package root.
                found += [
                    (node.lineno, "verivote" if a.name.startswith("__") else f"verivote.{a.name}")
                    for a in node.names
                    if a.name != "*"
                ]
            else:
                found.append((node.lineno, target))
    return found


def type_checking_lines(source: str) -> set[int]:
    """Lines of the imports under ``if TYPE_CHECKING:``, which never run."""
    lines: set[int] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and ast.unparse(node.test) in (
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
        ):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if isinstance(sub, ast.Import | ast.ImportFrom):
                        lines.add(sub.lineno)
    return lines


def violations(module: str, source: str, is_package: bool = False) -> list[str]:
    """Imports in ``source`` (module ``module``) that point to a higher layer. The package
    root alone may name every layer under ``if TYPE_CHECKING:`` (the public API's types;
    at run time it imports lazily, so importing any submodule loads nothing above it)."""
    own = layer_of(module)
    exempt = type_checking_lines(source) if module == "verivote" else set()
    out = []
    for line, target in imported_modules(module, source, is_package):
        if line in exempt:
            continue
        if layer_of(target) > own:
            theirs = layer_name(layer_of(target))
            out.append(f"{module}:{line} ({layer_name(own)}) imports {target} ({theirs})")
    return out


def all_modules() -> list[tuple[str, Path]]:
    return sorted((module_name(p), p) for p in PACKAGE.rglob("*.py"))


# --- the real package -------------------------------------------------------------------
def test_foundation_modules_exist():
    names = {name for name, _ in all_modules()}
    for expected in (
        "verivote.errors",
        "verivote.encoding",
        "verivote.groups.base",
        "verivote.elgamal",
    ):
        assert expected in names


def test_no_lower_layer_imports_a_higher_one():
    problems = []
    for name, path in all_modules():
        problems += violations(name, path.read_text(encoding="utf-8"), path.name == "__init__.py")
    assert not problems, "layer violations:\n" + "\n".join(problems)


def test_errors_imports_nothing():
    for name, path in all_modules():
        if layer_of(name) == LAYERS.index("errors"):
            assert imported_modules(name, path.read_text(encoding="utf-8")) == []


def test_verify_imports_nothing_from_the_edge():
    paths = [p for name, p in all_modules() if name.split(".")[:2] == ["verivote", "verify"]]
    if not paths:
        pytest.skip("verivote.verify does not exist yet")
    for path in paths:
        name = module_name(path)
        for line, target in imported_modules(
            name, path.read_text(encoding="utf-8"), path.name == "__init__.py"
        ):
            assert layer_of(target) < EDGE, f"{name}:{line} imports {target} from the edge"


def test_verify_runs_without_the_edge_loaded():
    # Importing the verifier must not pull in any edge module, at any depth.
    if not any(name.split(".")[:2] == ["verivote", "verify"] for name, _ in all_modules()):
        pytest.skip("verivote.verify does not exist yet")
    # The child reports what it loaded even if the import fails part way (work in progress
    # elsewhere): whatever was loaded must not include the edge.
    code = (
        "import sys\n"
        "try:\n"
        "    import verivote.verify\n"
        "except Exception as exc:\n"
        "    print('IMPORT-FAILED', repr(exc).replace(' ', '_'))\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith('verivote')))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = out.stdout.split()
    edge = [m for m in loaded if m.startswith("verivote.") and layer_of(m) == EDGE]
    assert not edge, f"importing verivote.verify loads edge modules: {edge}"
    if "IMPORT-FAILED" in loaded:
        pytest.skip(
            f"verivote.verify does not import yet: {loaded[loaded.index('IMPORT-FAILED') + 1]}"
        )
    assert "verivote.verify" in loaded


# --- the checker catches violations ---------------------------------------------------------
@pytest.mark.parametrize(
    ("module", "source", "is_package", "bad"),
    [
        ("verivote.groups.fake", "from verivote.election import manifest\n", False, 1),
        ("verivote.groups.fake", "import verivote.board.log\n", False, 1),
        ("verivote.proofs.fake", "from ..board import log\n", False, 1),
        ("verivote.proofs.fake", "from .. import verify\n", False, 1),
        ("verivote.elgamal", "def f():\n    from verivote.proofs import schnorr\n", False, 1),
        ("verivote.errors", "from verivote.encoding import frame\n", False, 1),
        ("verivote.verify", "from verivote.cli import main\n", False, 1),
        ("verivote.verify", "from verivote import server\n", False, 1),
        ("verivote.board.fake", "import verivote.storage.sqlite\n", False, 1),
        ("verivote", "from verivote.election import manifest\n", True, 1),
        (
            "verivote",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import verivote.cli\n",
            True,
            0,
        ),
        (
            "verivote.errors",
            "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    import verivote.cli\n",
            False,
            1,
        ),
        ("verivote.election", "from .. import storage\nfrom . import ballots\n", True, 1),
        ("verivote.encoding", "import json\nfrom verivote.errors import DecodeError\n", False, 0),
        ("verivote.proofs.fake", "from ..groups import Element\nfrom . import schnorr\n", False, 0),
        ("verivote.verify", "from verivote.board import log\nimport verivote.election\n", False, 0),
        (
            "verivote.cli",
            "from verivote.server import app\nfrom verivote import verify\n",
            False,
            0,
        ),
        ("verivote.election.fake", "from verivote.signatures import Signer\n", False, 0),
        ("verivote.groups.fake", "import verivote\n", False, 0),
        ("verivote.errors", "from verivote import __version__\n", False, 0),
        ("verivote.encoding", "from verivote import errors, groups\n", False, 1),
        ("verivote.count.stv", "from verivote.encoding import frame\n", False, 0),
        ("verivote.count.stv", "from verivote.groups import get_group\n", False, 1),
        ("verivote.encoding", "from verivote.count import scottish_stv\n", False, 1),
        ("verivote.election.fake", "from verivote.count import scottish_stv\n", False, 0),
        ("verivote.verify.fake", "from verivote.roles import trustee\n", False, 1),
        ("verivote.roles.fake", "from verivote.cli_roles import main\n", False, 1),
        ("verivote.roles.fake", "from verivote.verify import record\n", False, 0),
        ("verivote.server.serve", "from verivote.roles import keyfile\n", False, 0),
    ],
)
def test_checker_self_test(module, source, is_package, bad):
    assert len(violations(module, source, is_package)) == bad


def test_relative_import_resolution():
    assert imported_modules("verivote.proofs.range", "from ..elgamal import Ciphertext") == [
        (1, "verivote.elgamal")
    ]
    assert imported_modules("verivote.proofs", "from .schnorr import x", is_package=True) == [
        (1, "verivote.proofs.schnorr")
    ]
    assert imported_modules("verivote.proofs.range", "from . import schnorr") == [
        (1, "verivote.proofs")
    ]


def test_layer_ranks():
    assert (
        layer_of("verivote.errors")
        < layer_of("verivote.encoding")
        < layer_of("verivote.count.stv")
        < layer_of("verivote.groups.base")
    )
    assert (
        layer_of("verivote.groups")
        < layer_of("verivote.elgamal")
        < layer_of("verivote.proofs.range")
    )
    assert (
        layer_of("verivote.proofs") < layer_of("verivote.election.x") < layer_of("verivote.board")
    )
    assert layer_of("verivote.board.log") < layer_of("verivote.verify") < layer_of("verivote.cli")
    assert layer_of("verivote.verify") < layer_of("verivote.roles.trustee")
    assert layer_of("verivote.roles.trustee") < layer_of("verivote.cli")
    assert layer_of("verivote.roles") < layer_of("verivote.server.serve")
    for edge in (
        "verivote.cli",
        "verivote.storage",
        "verivote.server",
        "verivote.store_sqlite",
        "verivote.client",
    ):
        assert layer_of(edge) == EDGE
