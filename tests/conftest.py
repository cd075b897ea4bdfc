"""Shared fixtures: the bundled network and disposable copies of its files."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from hypothesis import settings

from network_data import Network, load_network
from network_data.load import BUNDLED_DATA_DIR

# Speed is measured in benchmarks/, not here: a property test must not fail because CI or a
# neighbour made one example slow.
settings.register_profile("shudao", deadline=None)
settings.load_profile("shudao")


@pytest.fixture(scope="session")
def network() -> Network:
    return load_network()


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the bundled dataset directory, for corrupting."""
    target = tmp_path / "data"
    shutil.copytree(BUNDLED_DATA_DIR, target)
    return target
