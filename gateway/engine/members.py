"""Members of a level read from its dimension table: listing, lookup, parent and children.

Used by the planner (do these member keys exist? which members lie along each axis level?)
and by Discover (paged listing and navigation). The cube is the caller's view: a level the
caller may not see is not in it, so naming one is an ordinary NotFoundError.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.engine import Connection
from sqlalchemy.sql.expression import ColumnElement, FromClause

from gateway.engine.cellset import Member
from gateway.engine.names import key_text, member_unique_name
from gateway.engine.resolve import LevelRef, resolve_level, resolve_member
from gateway.engine.tables import dimension_alias
from gateway.errors import NotFoundError, QueryError
from gateway.model.types import Cube

MAX_PAGE = 10_000

LevelFilter = tuple[LevelRef, Sequence[object], bool]  # a level, typed keys, excluded: key [NOT] IN (...)


def key_condition(column: ColumnElement, keys: Sequence[object], *, excluded: bool) -> ColumnElement[bool]:
    """``key IN (...)``, or ``key NOT IN (...)`` for an exclusion: the one place either is written."""
    return column.not_in(list(keys)) if excluded else column.in_(list(keys))


def filter_condition(table: FromClause, level_filter: LevelFilter) -> ColumnElement[bool]:
    ref, keys, excluded = level_filter
    return key_condition(table.c[ref.level.key_column], keys, excluded=excluded)


def lookup_keys(connection: Connection, cube: Cube, ref: LevelRef, keys: Sequence[str]) -> dict[str, object]:
    """The client's key texts that exist in the level, mapped to the typed stored key.

    A text holding NUL can be stored in no database (PostgreSQL refuses even to compare it),
    so it is simply not found.
    """
    keys = [k for k in keys if "\x00" not in k]
    if not keys:
        return {}
    table = dimension_alias(cube, ref.dimension)
    column = table.c[ref.level.key_column]
    as_text = sa.cast(column, sa.String)
    statement = sa.select(as_text.label("k"), column.label("v")).where(as_text.in_(list(keys))).distinct()
    return {row.k: row.v for row in connection.execute(statement)}


def level_members(
    connection: Connection,
    cube: Cube,
    ref: LevelRef,
    *,
    keys: Sequence[object] | None = None,
    filters: Sequence[LevelFilter] = (),
    limit: int | None = None,
    offset: int = 0,
) -> tuple[Member, ...]:
    """Members in the level's order (an explicit ``keys`` list keeps its own order).

    Keys are the database's text of the key (``CAST(key AS VARCHAR)``), the same form the
    compiled statement and ``axis_level_members`` return.
    """
    table = dimension_alias(cube, ref.dimension)
    key = table.c[ref.level.key_column]
    caption = sa.func.min(table.c[ref.level.caption_column])
    order = sa.func.min(table.c[ref.level.order_column])
    statement = (
        sa.select(key.label("v"), sa.cast(key, sa.String).label("k"), caption.label("c"))
        .group_by(key)
        .order_by(order, key)
    )
    if keys is not None:
        statement = statement.where(key.in_(list(keys)))
    for level_filter in filters:
        statement = statement.where(filter_condition(table, level_filter))
    if limit is not None:
        statement = statement.limit(limit)
    if offset:
        statement = statement.offset(offset)
    found = [(row.v, _member(ref, row.k, row.c)) for row in connection.execute(statement)]
    if keys is None:
        return tuple(member for _, member in found)
    by_value = dict(found)
    return tuple(by_value[v] for v in dict.fromkeys(keys) if v in by_value)


def axis_level_members(
    connection: Connection,
    cube: Cube,
    requests: Sequence[tuple[LevelRef, Sequence[object] | None, Sequence[LevelFilter]]],
    *,
    limit: int,
) -> list[tuple[Member, ...]]:
    """Members of several levels in one statement, each in its level's order, at most ``limit`` each.

    Each request is (level, explicit typed keys or None, filters). Keys come back as the
    database's own text (``CAST(key AS VARCHAR)``), as the compiled statement returns them.
    """
    if not requests:
        return []
    parts = []
    for index, (ref, keys, filters) in enumerate(requests):
        table = dimension_alias(cube, ref.dimension)
        key = table.c[ref.level.key_column]
        position = sa.func.row_number().over(order_by=(sa.func.min(table.c[ref.level.order_column]), key))
        part = sa.select(
            sa.literal_column(str(index)).label("i"),
            sa.cast(key, sa.String).label("k"),
            sa.cast(sa.func.min(table.c[ref.level.caption_column]), sa.String).label("c"),
            position.label("p"),
        ).group_by(key)
        if keys is not None:
            part = part.where(key.in_(list(keys)))
        for level_filter in filters:
            part = part.where(filter_condition(table, level_filter))
        parts.append(part)
    union = (parts[0] if len(parts) == 1 else sa.union_all(*parts)).subquery("members")
    statement = sa.select(union.c.i, union.c.k, union.c.c).where(union.c.p <= limit).order_by(union.c.i, union.c.p)
    found: list[list[Member]] = [[] for _ in requests]
    for row in connection.execute(statement):
        found[int(row.i)].append(_member(requests[int(row.i)][0], row.k, row.c))
    return [tuple(members) for members in found]


def _member(ref: LevelRef, key: object, caption: object) -> Member:
    text = key_text(key)
    return Member(
        unique_name=member_unique_name(ref.dimension, ref.hierarchy, ref.level, text),
        caption=text if caption is None else str(caption),
        level_unique_name=ref.unique_name,
        level_depth=ref.depth,
        key=text,
    )


def _check_page(limit: int, offset: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise QueryError(f"limit must be between 1 and {MAX_PAGE}.")
    if offset < 0:
        raise QueryError("offset must not be negative.")


def _find(connection: Connection, cube: Cube, name: str) -> tuple[LevelRef, object]:
    ref = resolve_member(cube, name)
    found = lookup_keys(connection, cube, ref.level, [ref.key])
    if ref.key not in found:
        raise NotFoundError(f"The member '{name}' was not found in the cube '{cube.name}'.")
    return ref.level, found[ref.key]


def list_members(
    connection: Connection, cube: Cube, level: str, *, limit: int = 100, offset: int = 0
) -> tuple[Member, ...]:
    """One page of a level's members, in the level's order."""
    _check_page(limit, offset)
    ref = resolve_level(cube, level)
    return level_members(connection, cube, ref, limit=limit, offset=offset)


def count_level_members(connection: Connection, cube: Cube, level: str) -> int:
    """How many members the level has (its distinct keys), for a page's total count."""
    ref = resolve_level(cube, level)
    key = dimension_alias(cube, ref.dimension).c[ref.level.key_column]
    grouped = sa.select(key).group_by(key).subquery()
    return int(connection.execute(sa.select(sa.func.count()).select_from(grouped)).scalar_one())


def get_member(connection: Connection, cube: Cube, member: str) -> Member:
    ref, key = _find(connection, cube, member)
    return level_members(connection, cube, ref, keys=[key])[0]


def member_parent(connection: Connection, cube: Cube, member: str) -> Member | None:
    """The member one level up that contains it; None for a top-level member."""
    ref, key = _find(connection, cube, member)
    if ref.depth == 0:
        return None
    parent = LevelRef(ref.dimension, ref.hierarchy, ref.hierarchy.levels[ref.depth - 1])
    found = level_members(connection, cube, parent, filters=[(ref, [key], False)], limit=1)
    return found[0] if found else None


def member_children(
    connection: Connection,
    cube: Cube,
    member: str,
    *,
    limit: int = 100,
    offset: int = 0,
) -> tuple[Member, ...]:
    """One page of the members one level down; empty for a bottom-level member."""
    _check_page(limit, offset)
    ref, key = _find(connection, cube, member)
    if ref.depth == len(ref.hierarchy.levels) - 1:
        return ()
    child = LevelRef(ref.dimension, ref.hierarchy, ref.hierarchy.levels[ref.depth + 1])
    return level_members(connection, cube, child, filters=[(ref, [key], False)], limit=limit, offset=offset)
