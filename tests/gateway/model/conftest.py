"""Fixtures for model tests: write a model file into a fresh schema directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from model_fixtures import WriteModel


@pytest.fixture
def write_model(tmp_path: Path) -> WriteModel:
    """Write a model (a dict, dumped as YAML, or raw text) to ``<tmp>/schema/<id>.yaml``."""
    schema = tmp_path / "schema"
    schema.mkdir(exist_ok=True)

    def write(data: dict[str, Any] | str, name: str | None = None) -> Path:
        if isinstance(data, str):
            text = data
            file_name = name or "omr.yaml"
        else:
            text = yaml.safe_dump(data, allow_unicode=True, sort_keys=False)
            file_name = name or f"{data.get('id', 'omr')}.yaml"
        target = schema / file_name
        target.write_text(text, encoding="utf-8")
        return target

    return write
