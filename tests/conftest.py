"""Shared fixtures: one default store built per test session."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from kg import store
from kg.build import BuildOptions, build


@pytest.fixture(scope="session")
def default_store_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store built from the shipped default data (validated like `yibao build`)."""
    root = tmp_path_factory.mktemp("default-store")
    from kg.commands.build import _validator

    options = BuildOptions(data_dirs=[], progress=False)
    build(root, options, validator=_validator(options))
    return root


@pytest.fixture(scope="session")
def default_store(default_store_dir: Path) -> ox.Store:
    return store.open_store(default_store_dir)


@pytest.fixture(scope="session")
def build_report(default_store_dir: Path) -> dict[str, object]:
    return store.read_report(default_store_dir)
