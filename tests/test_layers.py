"""Each layer imports only downwards (issue 15, item 7): the services sit below the page's
layouts, its callbacks and the web layer, so none of them needs to import back up.

Read from the source (every import statement, at any depth, including ones inside
functions), not from ``sys.modules``, so an import that only runs on some path still counts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# Which top-level packages each package may not import.
FORBIDDEN = {
    "service": {"callbacks", "layouts", "web", "app", "dash"},
    "layouts": {"callbacks", "web", "app"},
    "callbacks": {"web", "app"},
    "web": {"callbacks", "app"},
    # The lessons are read by the API (web/api.py) as well as the page: below both.
    "lessons": {"callbacks", "layouts", "web", "app", "dash"},
}


def imported(path: Path) -> set[str]:
    """Top-level names of every module ``path`` imports."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module.split(".")[0])
    return names


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_package_imports_only_downwards(package):
    files = sorted((ROOT / package).glob("*.py"))
    assert files, f"no modules in {package}/"
    wrong = {
        f"{path.relative_to(ROOT)} imports {name}"
        for path in files
        for name in imported(path) & FORBIDDEN[package]
    }
    assert not wrong, sorted(wrong)


def test_no_shim_left_in_callbacks():
    """The moved modules are gone from callbacks/, not re-exported from there."""
    for name in ("service", "compact", "share"):
        assert not (ROOT / "callbacks" / f"{name}.py").exists()
