"""The model file format (``schema/*.yaml``) as strict pydantic models.

This is the shape check only: every key known, every value of the right type, names and SQL
identifiers well formed. Rules that look across the file (unique names, references between
measures, the time dimension) live in ``gateway.model.checks``, which can point at the exact
path of the offending value. ``docs/model-format.md`` is the reference for this format.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")
MAX_IDENTIFIER_LENGTH = 63  # PostgreSQL truncates longer identifiers silently
MAX_NAME_LENGTH = 100
FORBIDDEN_IN_NAMES = frozenset("[]&")


def check_name(value: str) -> str:
    """A display name that becomes part of an XMLA unique name: ``[Tid].[Måned]``.

    Brackets and ``&`` would make unique names ambiguous (``&[key]`` marks a member key), and
    control characters or padding would make two names look alike.
    """
    if not value:
        raise PydanticCustomError("name", "name must not be empty")
    if value != value.strip():
        raise PydanticCustomError("name", "name must not start or end with whitespace")
    if len(value) > MAX_NAME_LENGTH:
        raise PydanticCustomError("name", "name is longer than {limit} characters", {"limit": MAX_NAME_LENGTH})
    for ch in value:
        if ch in FORBIDDEN_IN_NAMES:
            raise PydanticCustomError("name", "name must not contain '{ch}'", {"ch": ch})
        if not ch.isprintable():
            raise PydanticCustomError("name", "name must not contain control characters")
    return value


def check_identifier(value: str) -> str:
    """A table or column name: lower-case ASCII letters, digits and ``_``, so nothing surprising
    reaches SQL even though the compiler quotes every identifier."""
    if not IDENTIFIER.fullmatch(value):
        raise PydanticCustomError(
            "identifier", "'{value}' is not a valid SQL identifier (use ^[a-z_][a-z0-9_]*$)", {"value": value}
        )
    if len(value) > MAX_IDENTIFIER_LENGTH:
        raise PydanticCustomError(
            "identifier", "identifier is longer than {limit} characters", {"limit": MAX_IDENTIFIER_LENGTH}
        )
    return value


def check_text(value: str) -> str:
    """Free text (descriptions, format strings): printable apart from ordinary line breaks."""
    if any(not ch.isprintable() and ch not in "\n\t" for ch in value):
        raise PydanticCustomError("text", "text must not contain control characters")
    return value


Name = Annotated[str, AfterValidator(check_name)]
Identifier = Annotated[str, AfterValidator(check_identifier)]
Text = Annotated[str, AfterValidator(check_text)]

Kind = Literal[
    "sum", "count", "distinct_count", "avg", "min", "max", "days_weighted", "calculated", "ratio", "running_total"
]


class _Spec(BaseModel):
    # strict: YAML already gives typed values, so no silent "1" -> True or 2022 -> "2022"
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class LevelSpec(_Spec):
    name: Name
    key: Identifier
    caption: Identifier | None = None  # defaults to key
    order: Identifier | None = None  # defaults to key
    individual: bool = False


class HierarchySpec(_Spec):
    name: Name
    levels: list[LevelSpec] = Field(min_length=1)


class DimensionSpec(_Spec):
    name: Name
    description: Text = ""
    table: Identifier
    key: Identifier
    foreign_key: Identifier
    time: bool = False
    days: Identifier | None = None
    hierarchies: list[HierarchySpec] = Field(min_length=1)


class MeasureSpec(_Spec):
    name: Name
    kind: Kind
    description: Text = ""
    column: Identifier | None = None
    expression: str | None = None
    numerator: Name | None = None
    denominator: Name | None = None
    scale: float | None = None
    of: Name | None = None
    along: Name | None = None
    format: Text | None = None
    additive: bool | None = None


class DisclosureSpec(_Spec):
    record_key: list[Identifier] = Field(min_length=1)
    distinct: bool = False
    threshold: int = Field(ge=2, le=100)
    max_noise: int = Field(ge=1, le=100)


class AggregationSpec(_Spec):
    """A pre-aggregated table the loader builds beside the fact table (docs/model-format.md)."""

    name: Identifier
    levels: dict[Name, Name] = Field(min_length=1)  # dimension name -> level name: the grain
    measures: list[Name] = Field(min_length=1)


class CubeSpec(_Spec):
    name: Name
    description: Text = ""
    fact_table: Identifier
    dimensions: list[DimensionSpec]
    measures: list[MeasureSpec] = Field(min_length=1)
    disclosure: DisclosureSpec | None = None
    aggregations: list[AggregationSpec] = []


class DatabasesSpec(_Spec):
    kommune: str | None = None  # template with {kode}
    benchmark: str | None = None


class AreaSpec(_Spec):
    id: Identifier
    name: Name
    grant: Name
    description: Text
    databases: DatabasesSpec
    kommune_cubes: list[CubeSpec] = []
    benchmark_cubes: list[CubeSpec] = []
