"""Model files -> AreaModel; a schema directory -> Catalog.

Each file goes through four gates, and the first failure names the file, the place in it and
the problem: YAML syntax (a safe loader that also rejects duplicate keys), the document shape
(``gateway.model.spec``), the cross-references (``gateway.model.checks``), and, for the whole
directory, names that must be unique across areas (``Catalog``). Loading reads the files and
nothing else.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from gateway.errors import ModelError
from gateway.model.catalog import Catalog
from gateway.model.checks import additivity, check_area, path
from gateway.model.kommuner import Kommune, load_kommuner
from gateway.model.spec import AreaSpec, CubeSpec, DimensionSpec, DisclosureSpec, LevelSpec, MeasureSpec
from gateway.model.types import (
    Aggregation,
    AreaModel,
    Cube,
    DatabaseNaming,
    Dimension,
    DisclosureRule,
    Hierarchy,
    Level,
    Measure,
    MeasureKind,
)

ROOT = "(document)"  # the path reported for problems with the file as a whole
_FORMAT_BY_KIND = {"avg": "#,##0.00", "ratio": "#,##0.00", "days_weighted": "#,##0.00"}
_DEFAULT_FORMAT = "#,##0"


class _StrictSafeLoader(yaml.SafeLoader):
    """yaml.SafeLoader that refuses a key appearing twice in one mapping (safe_load keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # '<<' merges may be overridden on purpose
            key = self.construct_object(key_node, deep=True)
            try:
                duplicate = key in seen
                seen.add(key)
            except TypeError:
                continue  # unhashable key: the base class reports it
            if duplicate:
                raise yaml.constructor.ConstructorError(
                    "while constructing a mapping", node.start_mark, f"found duplicate key {key!r}", key_node.start_mark
                )
        return super().construct_mapping(node, deep=deep)


def parse_yaml(text: str, file: str) -> Any:
    """The YAML document in ``text``; ModelError with the line for any syntax problem."""
    try:
        return yaml.load(text, Loader=_StrictSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ROOT
        problem = " ".join(p for p in (error.context, error.problem) if p) or "invalid YAML"
        raise ModelError(file, where, f"YAML syntax: {problem}") from None
    except yaml.YAMLError as error:
        raise ModelError(file, ROOT, f"YAML syntax: {error}") from None


def _describe(error: ErrorDetails) -> str:
    if error["type"] == "extra_forbidden":
        return "unknown key"
    if error["type"] == "missing":
        return "required key is missing"
    return error["msg"]


def parse_area(data: Any, file: str) -> AreaSpec:
    """Validate a parsed document's shape and cross-references."""
    if not isinstance(data, dict):
        found = "an empty file" if data is None else f"a {type(data).__name__}"
        raise ModelError(file, ROOT, f"a model file must hold a mapping (id, name, grant, ...), found {found}")
    try:
        spec = AreaSpec.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = path(*(part for part in first["loc"] if isinstance(part, str | int))) or ROOT
        raise ModelError(file, where, _describe(first)) from None
    check_area(spec, file)
    return spec


def load_area(file_path: Path, *, label: str | None = None) -> AreaModel:
    """Load one model file. ``label`` is how errors name it (default: the path as given)."""
    file = label if label is not None else str(file_path)
    try:
        text = file_path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as error:
        raise ModelError(file, ROOT, f"not UTF-8 text (byte {error.start})") from None
    except OSError as error:
        raise ModelError(file, ROOT, f"cannot read the file ({error.strerror or error})") from None
    spec = parse_area(parse_yaml(text, file), file)
    if spec.id != file_path.stem:
        raise ModelError(file, "id", f"id '{spec.id}' must equal the file name '{file_path.stem}'")
    return build_area(spec, file)


def load_catalog(schema_dir: Path, *, kommuner: Sequence[Kommune] | None = None) -> Catalog:
    """Load every ``*.yaml`` in ``schema_dir`` (names starting with '.' are skipped).

    Errors name files as ``<dir name>/<file name>``, e.g. ``schema/ukraine.yaml``.
    """
    if not schema_dir.is_dir():
        raise ModelError(str(schema_dir), ROOT, "the schema directory does not exist")
    files = sorted(p for p in schema_dir.glob("*.yaml") if not p.name.startswith(".") and p.is_file())
    if not files:
        raise ModelError(str(schema_dir), ROOT, "no model files (*.yaml) in the schema directory")
    areas = [load_area(p, label=f"{schema_dir.name}/{p.name}") for p in files]
    return Catalog(areas, kommuner if kommuner is not None else load_kommuner())


def build_area(spec: AreaSpec, file: str) -> AreaModel:
    """Turn a checked spec into the immutable model the planner and compiler read."""
    return AreaModel(
        id=spec.id,
        name=spec.name,
        grant_name=spec.grant,
        description=spec.description,
        naming=DatabaseNaming(kommune=spec.databases.kommune, benchmark=spec.databases.benchmark),
        kommune_cubes=tuple(_cube(c) for c in spec.kommune_cubes),
        benchmark_cubes=tuple(_cube(c) for c in spec.benchmark_cubes),
        source_file=file,
    )


def _cube(spec: CubeSpec) -> Cube:
    additive = additivity(spec)
    return Cube(
        name=spec.name,
        fact_table=spec.fact_table,
        dimensions=tuple(_dimension(d) for d in spec.dimensions),
        measures=tuple(_measure(m, additive[m.name]) for m in spec.measures),
        description=spec.description,
        disclosure=_disclosure(spec.disclosure),
        aggregations=tuple(
            Aggregation(a.name, tuple(a.levels.items()), tuple(a.measures), _disclosure(spec.disclosure))
            for a in spec.aggregations
        ),
    )


def _disclosure(spec: DisclosureSpec | None) -> DisclosureRule | None:
    if spec is None:
        return None
    return DisclosureRule(
        record_key=tuple(spec.record_key),
        distinct=spec.distinct,
        threshold=spec.threshold,
        max_noise=spec.max_noise,
    )


def _dimension(spec: DimensionSpec) -> Dimension:
    return Dimension(
        name=spec.name,
        table=spec.table,
        key_column=spec.key,
        foreign_key=spec.foreign_key,
        hierarchies=tuple(Hierarchy(h.name, tuple(_level(lv) for lv in h.levels)) for h in spec.hierarchies),
        is_time=spec.time,
        days_column=spec.days,
        description=spec.description,
    )


def _level(spec: LevelSpec) -> Level:
    return Level(
        name=spec.name,
        key_column=spec.key,
        caption_column=spec.caption or spec.key,
        order_column=spec.order or spec.key,
        individual=spec.individual,
    )


def _measure(spec: MeasureSpec, additive: bool) -> Measure:
    return Measure(
        name=spec.name,
        kind=MeasureKind(spec.kind),
        column=spec.column,
        expression=spec.expression,
        numerator=spec.numerator,
        denominator=spec.denominator,
        scale=spec.scale if spec.scale is not None else 1.0,
        of=spec.of,
        along=spec.along,
        format=spec.format if spec.format is not None else _FORMAT_BY_KIND.get(spec.kind, _DEFAULT_FORMAT),
        description=spec.description,
        additive=additive,
    )
