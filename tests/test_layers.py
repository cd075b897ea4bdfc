"""The packages' layering (docs: architecture): data flows one way, nothing reaches back.

``network_data`` imports neither ``optimizer``, ``scenarios`` nor ``api``; ``optimizer``
imports neither ``scenarios`` nor ``api``; ``scenarios`` does not import ``api``. Every import
statement counts, also one inside a function or under ``TYPE_CHECKING``: each is a dependency
a reader has to follow.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
#: What each package may not import.
FORBIDDEN = {
    "network_data": ("optimizer", "scenarios", "api"),
    "optimizer": ("scenarios", "api"),
    "scenarios": ("api",),
}


def imported_modules(path: Path) -> list[tuple[int, str]]:
    """Every module an import statement of the file names, with its line, at any depth.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.py"
    >>> _ = path.write_text("import os\\ndef f():\\n    from api.db import models\\n")
    >>> imported_modules(path)
    [(1, 'os'), (3, 'api.db')]
    """
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return sorted(found)


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_module_imports_a_package_downstream(package: str) -> None:
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    crossings = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in files
        for line, module in imported_modules(path)
        if module.split(".")[0] in FORBIDDEN[package]
    ]
    assert not crossings, "\n".join(crossings)


def test_every_exception_class_derives_from_shudao_error() -> None:
    """One tree: ``except ShudaoError`` catches whatever Shudao itself raises."""
    from optimizer.errors import ShudaoError

    outside = []
    for package in ("network_data", "optimizer", "scenarios", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            module = importlib.import_module(
                ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
            )
            outside.extend(
                f"{module.__name__}.{name}"
                for name, value in vars(module).items()
                if isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == module.__name__
                and not issubclass(value, ShudaoError)
            )
    assert not outside, outside
