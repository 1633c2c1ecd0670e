"""Fixtures for the data tests: small hand-made source directories, a registry per test."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest
from data_sources import UKRAINE_ROWS, write_ukraine_source

from gateway.registry import DatabaseRegistry
from gateway.settings import Settings


@pytest.fixture
def ukraine_source(tmp_path: Path) -> Callable[..., Path]:
    """Factory: a valid Ukraine source directory for kommune 101 (rows overridable)."""

    def make(name: str = "src", rows: Sequence[Sequence[str]] = UKRAINE_ROWS) -> Path:
        return write_ukraine_source(tmp_path / name, rows)

    return make


@pytest.fixture
def registry(settings: Settings) -> Iterator[DatabaseRegistry]:
    reg = DatabaseRegistry.from_settings(settings)
    yield reg
    reg.close()
