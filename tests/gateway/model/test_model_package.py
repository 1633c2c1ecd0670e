"""The package surface and its documentation stay in step with the code."""

from __future__ import annotations

import re
import typing
from pathlib import Path

import pytest
from model_fixtures import REPO

import gateway.model
from gateway.model import load_area
from gateway.model.spec import AggregationSpec, AreaSpec, CubeSpec, DatabasesSpec, DimensionSpec, HierarchySpec, LevelSpec, MeasureSpec

DOC = REPO / "docs" / "model-format.md"
EXPORTS = {
    "BASE_KINDS", "AreaModel", "BinOp", "Catalog", "Cube", "DatabaseNaming", "DatabaseRef", "Dimension", "Expr",
    "ExpressionError", "Hierarchy", "Kommune", "Level", "Measure", "MeasureKind", "ModelError", "Neg", "Num", "Ref",
    "bracket", "load_area", "load_catalog", "load_kommuner", "parse_expression",
}  # fmt: skip


def test_the_package_exports_exactly_its_public_api() -> None:
    assert set(gateway.model.__all__) == EXPORTS
    assert all(hasattr(gateway.model, name) for name in EXPORTS)
    assert gateway.model.ModelError is __import__("gateway.errors").errors.ModelError


@pytest.mark.parametrize(
    "spec", [AreaSpec, DatabasesSpec, CubeSpec, AggregationSpec, DimensionSpec, HierarchySpec, LevelSpec, MeasureSpec]
)
def test_every_key_of_the_format_is_documented(spec: type) -> None:
    text = DOC.read_text(encoding="utf-8")
    for key in spec.model_fields:
        assert f"`{key}`" in text, f"{spec.__name__}.{key} is not in {DOC.name}"


def test_every_measure_kind_is_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    kinds = typing.get_args(MeasureSpec.model_fields["kind"].annotation)
    assert kinds and all(f"`{kind}`" in text for kind in kinds)


def test_the_documented_example_loads(tmp_path: Path) -> None:
    example = re.search(r"```yaml\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S)
    assert example is not None
    target = tmp_path / "ukraine.yaml"
    target.write_text(example.group(1), encoding="utf-8")
    area = load_area(target)
    assert [m.name for m in area.kommune_cubes[0].measures][-1] == "Akkumuleret"
