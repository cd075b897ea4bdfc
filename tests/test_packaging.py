"""Installing the project prints no deprecation warning from its own metadata (issue 20)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).parents[1]


def test_install_metadata_has_no_deprecation_warning() -> None:
    """``pip install -e .`` builds the metadata with the setuptools pyproject.toml asks for;
    its verbose output shows every warning the build backend prints (a license written as a
    TOML table prints "`project.license` as a TOML table is deprecated")."""
    run = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-v", "--no-deps", "--dry-run", "-e", str(REPO)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 0, output[-2000:]
    assert "Would install shudao" in output
    warnings = [line for line in output.splitlines() if "deprecat" in line.lower()]
    assert warnings == []
