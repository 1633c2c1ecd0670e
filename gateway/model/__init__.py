"""The semantic model: data areas, their cubes, and the database naming scheme.

``load_catalog(Path("schema"))`` reads every model file; the format is in docs/model-format.md.
"""

from __future__ import annotations

from gateway.errors import ModelError
from gateway.model.catalog import Catalog, DatabaseRef
from gateway.model.expression import BinOp, Expr, ExpressionError, Neg, Num, Ref, parse_expression
from gateway.model.kommuner import Kommune, load_kommuner
from gateway.model.load import load_area, load_catalog
from gateway.model.types import (
    BASE_KINDS,
    AreaModel,
    Cube,
    DatabaseNaming,
    Dimension,
    Hierarchy,
    Level,
    Measure,
    MeasureKind,
    bracket,
)

__all__ = [
    "BASE_KINDS",
    "AreaModel",
    "BinOp",
    "Catalog",
    "Cube",
    "DatabaseNaming",
    "DatabaseRef",
    "Dimension",
    "Expr",
    "ExpressionError",
    "Hierarchy",
    "Kommune",
    "Level",
    "Measure",
    "MeasureKind",
    "ModelError",
    "Neg",
    "Num",
    "Ref",
    "bracket",
    "load_area",
    "load_catalog",
    "load_kommuner",
    "parse_expression",
]
