"""SQLAlchemy table clauses built from the model: the only source of SQL identifiers.

Table and column names come from the loaded cube model, never from a query; SQLAlchemy quotes
them for the dialect. Dimension tables are aliased ``d<index>`` by the dimension's position in
the cube, so role-playing dimensions (Fra kommune, Til kommune on one ``dim_kommune``) join
independently and no alias depends on a name's length or characters.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.sql.expression import FromClause, TableClause

from gateway.model.types import Cube, Dimension


def dimension_columns(dimension: Dimension) -> tuple[str, ...]:
    """Every column the model names on the dimension table, without repeats."""
    names: dict[str, None] = {dimension.key_column: None}
    if dimension.days_column:
        names[dimension.days_column] = None
    for hierarchy in dimension.hierarchies:
        for level in hierarchy.levels:
            for column in (level.key_column, level.caption_column, level.order_column):
                names[column] = None
    return tuple(names)


def dimension_table(dimension: Dimension) -> TableClause:
    return sa.table(dimension.table, *(sa.column(name) for name in dimension_columns(dimension)))


def dimension_alias(cube: Cube, dimension: Dimension, suffix: str = "") -> FromClause:
    """The dimension's table under its own alias (``d0``, ``d1``; a suffix for extra copies)."""
    index = next(i for i, d in enumerate(cube.dimensions) if d.name == dimension.name)
    return dimension_table(dimension).alias(f"d{index}{suffix}")


def fact_table(cube: Cube) -> TableClause:
    """The fact table with every foreign key and measure column the cube names."""
    names: dict[str, None] = {}
    for dimension in cube.dimensions:
        names[dimension.foreign_key] = None
    for measure in cube.measures:
        if measure.column:
            names[measure.column] = None
    return sa.table(cube.fact_table, *(sa.column(name) for name in names))
