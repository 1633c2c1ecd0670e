"""Translate between GraphQL shapes and the engine's: input → CubeQuery, CellSet → ExecuteResult.

The engine knows nothing of GraphQL; this module is the seam. Input checks here are only about
shape (exactly one of level/members); names are resolved by the planner.
"""

from __future__ import annotations

from gateway.api.execute_types import CubeQueryInput, ExecuteResult
from gateway.engine import cellset as engine
from gateway.engine.query import AxisItem, CubeQuery, LevelItem, MemberSetItem, Order
from gateway.errors import QueryError


def cube_query_from_input(query: CubeQueryInput) -> CubeQuery:
    if query.limit is not None and query.limit < 0:
        raise QueryError("'limit' must not be negative.")
    if query.offset < 0:
        raise QueryError("'offset' must not be negative.")
    orders = []
    for index, order in enumerate(query.order_by):
        if (order.measure is None) == (order.level is None):
            raise QueryError(f"orderBy[{index}] needs exactly one of 'measure' or 'level'.")
        orders.append(Order(by=order.measure or order.level or "", descending=order.descending))
    return CubeQuery(
        cube=query.cube,
        measures=tuple(query.measures),
        columns=tuple(_axis_item("columns", i, item.level, item.members) for i, item in enumerate(query.columns)),
        rows=tuple(_axis_item("rows", i, item.level, item.members) for i, item in enumerate(query.rows)),
        slicers=tuple(query.slicers),
        exclude_slicers=tuple(query.exclude_slicers),
        non_empty=query.non_empty,
        order=tuple(orders),
        limit=query.limit,
        offset=query.offset,
    )


def _axis_item(axis: str, index: int, level: str | None, members: list[str] | None) -> AxisItem:
    if (level is None) == (members is None):
        raise QueryError(f"{axis}[{index}] needs exactly one of 'level' or 'members'.")
    if level is not None:
        return LevelItem(level)
    if not members:
        raise QueryError(f"{axis}[{index}].members must name at least one member.")
    return MemberSetItem(tuple(members))


def execute_result(catalog: str, cellset: engine.CellSet) -> ExecuteResult:
    return ExecuteResult(
        catalog=catalog,
        cube=cellset.cube,
        data_as_of=cellset.data_as_of,  # type: ignore[arg-type]
        _result=cellset,
    )
