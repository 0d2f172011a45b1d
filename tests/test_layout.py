"""The layout's rules, read from the source (no imports run): the data flow's direction and
one name per module.

- ``kernels`` and ``captures`` import nothing of ours;
- ``service`` imports only the light event schema of ``spectrum``;
- runtime modules (everything in ``spectrum`` but ``cli``, ``evaluate`` and ``__main__``) never import
  ``spectrum.evaluate`` or ``spectrum.cli``;
- a module's file name is unique across the packages, so nobody wonders which ``baseline.py``
  is meant.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
PACKAGES = ("spectrum", "kernels", "captures", "service")
SERVICE_MAY_IMPORT = {"spectrum", "spectrum.events"}  # the version string and the event schema


def _modules() -> list[tuple[str, Path]]:
    found = []
    for package in PACKAGES:
        for path in sorted((REPO / package).rglob("*.py")):
            parts = path.relative_to(REPO).with_suffix("").parts
            name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
            found.append((name, path))
    return found


def _imports(path: Path, module: str) -> set[str]:
    """Every module of ours that ``path`` imports, at top level or inside functions."""
    names: set[str] = set()
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: resolve against the importing package
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            names.add(base)
            # `from pkg import module` imports the module; `from module import name` only the module
            names.update(f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in MODULE_NAMES)
    return {n for n in names if n.split(".")[0] in PACKAGES}


MODULES = _modules()
MODULE_NAMES = {name for name, _ in MODULES}


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


@pytest.mark.parametrize("name,path", MODULES, ids=[m for m, _ in MODULES])
def test_imports_follow_the_data_flow(name, path):
    ours = _imports(path, name)
    top = name.split(".")[0]
    if top in ("kernels", "captures"):
        foreign = {n for n in ours if not _within(n, top)}
        assert not foreign, f"{name} must import nothing of ours outside {top}: {sorted(foreign)}"
    elif top == "service":
        spectrum_parts = {n for n in ours if _within(n, "spectrum")}
        assert spectrum_parts <= SERVICE_MAY_IMPORT, f"{name} imports {sorted(spectrum_parts - SERVICE_MAY_IMPORT)}"
        forbidden = {n for n in ours if _within(n, "kernels") or _within(n, "captures")}
        assert not forbidden, f"{name} must not import DSP or capture code: {sorted(forbidden)}"
    elif not (_within(name, "spectrum.cli") or _within(name, "spectrum.evaluate") or name == "spectrum.__main__"):
        backwards = {n for n in ours if _within(n, "spectrum.cli") or _within(n, "spectrum.evaluate")}
        assert not backwards, f"runtime module {name} imports {sorted(backwards)}"


def test_module_names_are_unique():
    by_name: dict[str, list[str]] = defaultdict(list)
    for name, path in MODULES:
        if path.name not in ("__init__.py", "__main__.py"):
            by_name[path.name].append(str(path.relative_to(REPO)))
    repeated = {k: v for k, v in by_name.items() if len(v) > 1}
    assert not repeated, f"module names used more than once: {repeated}"


def test_the_rules_catch_a_backwards_import(tmp_path):
    """The checker itself: a runtime module importing evaluate is seen, relative or absolute."""
    source = tmp_path / "m.py"
    source.write_text("from ..evaluate import scoring\nimport spectrum.cli.replay_cmd\n")
    found = _imports(source, "spectrum.detect.m")
    assert "spectrum.evaluate.scoring" in found and "spectrum.cli.replay_cmd" in found
