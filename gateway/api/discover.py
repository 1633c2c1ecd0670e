"""Discover: catalogs → cubes → dimensions → hierarchies → levels → members, and measures.

The GraphQL types are thin views over the service layer's domain objects. Every catalog was
handed out by :class:`gateway.api.session.DataSession`, which already asked the access function;
its cubes are the caller's view, so levels the caller may not see are simply not there.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import strawberry
from starlette.concurrency import run_in_threadpool
from strawberry.types import Info

from gateway.api.context import RequestContext
from gateway.api.refresh_types import CatalogRefresh
from gateway.api.session import MemberPage as MemberPageModel
from gateway.api.session import OpenCatalog
from gateway.engine.cellset import Member as MemberModel
from gateway.errors import NotFoundError, QueryError
from gateway.model.types import Cube as CubeModel
from gateway.model.types import Dimension as DimensionModel
from gateway.model.types import Hierarchy as HierarchyModel
from gateway.model.types import Level as LevelModel
from gateway.model.types import Measure as MeasureModel
from gateway.model.types import bracket

MAX_PAGE = 1000


@strawberry.type(description="A Danish kommune (municipality).")
class Kommune:
    kode: str
    navn: str
    region: str


@strawberry.type(description="One member of a level, with its place in the hierarchy.")
class Member:
    unique_name: str
    caption: str
    key: str
    level_unique_name: str
    depth: int = strawberry.field(description="0 for the top level of the hierarchy.")
    _catalog: strawberry.Private[Any]
    _cube: strawberry.Private[str]

    @strawberry.field(description="The member one level up, or null at the top level.")
    async def parent(self, info: Info[RequestContext, None]) -> Member | None:
        session = info.context.session
        found = await run_in_threadpool(session.parent, self._catalog, self._cube, self.unique_name)
        return None if found is None else member_view(self._catalog, self._cube, found)

    @strawberry.field(description="The members one level down (paged), empty at the bottom level.")
    async def children(
        self, info: Info[RequestContext, None], first: int = 100, offset: int = 0
    ) -> MemberPage:
        _check_page(first, offset)
        session = info.context.session
        page = await run_in_threadpool(session.children, self._catalog, self._cube, self.unique_name, first, offset)
        return member_page_view(self._catalog, self._cube, page)


@strawberry.type(description="A page of members.")
class MemberPage:
    items: list[Member]
    total_count: int | None = strawberry.field(description="Members in the whole level; null on children pages.")
    offset: int
    has_more: bool


@strawberry.type
class Level:
    name: str
    unique_name: str
    depth: int
    individual: bool = strawberry.field(description="Person-level detail; visible only with an individual grant.")
    _catalog: strawberry.Private[Any]
    _cube: strawberry.Private[str]

    @strawberry.field(description="Members in the level's order, paged.")
    async def members(self, info: Info[RequestContext, None], first: int = 100, offset: int = 0) -> MemberPage:
        _check_page(first, offset)
        session = info.context.session
        page = await run_in_threadpool(session.members, self._catalog, self._cube, self.unique_name, first, offset)
        return member_page_view(self._catalog, self._cube, page)


@strawberry.type
class Hierarchy:
    name: str
    unique_name: str
    levels: list[Level]


@strawberry.type
class Dimension:
    name: str
    unique_name: str
    description: str
    is_time: bool
    hierarchies: list[Hierarchy]


@strawberry.type
class Measure:
    name: str
    unique_name: str
    kind: str
    format_string: str
    additive: bool
    description: str


@strawberry.type
class Cube:
    name: str
    description: str
    dimensions: list[Dimension]
    measures: list[Measure]
    disclosure_control: bool = strawberry.field(
        description="True when your answers from this cube are protected by statistical disclosure control "
        "(small counts hidden, a small consistent noise on the rest); false when they are exact."
    )


@strawberry.type(description="A database (XMLA catalog) the caller may read.")
class Catalog:
    name: str
    data_area: str
    grant_name: str
    kommune: Kommune | None = strawberry.field(description="Null for a cross-kommune (benchmark) database.")
    is_benchmark: bool
    description: str
    data_as_of: dt.date | None
    _open: strawberry.Private[Any]

    @strawberry.field
    def cubes(self) -> list[Cube]:
        return [cube_view(self._open, cube) for cube in self._open.cubes]

    @strawberry.field(description="How fresh the data is: the version serving and the last daily refresh.")
    async def refresh(self, info: Info[RequestContext, None]) -> CatalogRefresh:
        return CatalogRefresh.of(await run_in_threadpool(info.context.session.refresh_state, self._open))

    @strawberry.field
    def cube(self, name: str) -> Cube:
        for cube in self._open.cubes:
            if cube.name == name:
                return cube_view(self._open, cube)
        raise NotFoundError(f"The cube '{name}' does not exist in the database '{self.name}'.")


def _check_page(first: int, offset: int) -> None:
    if not 0 < first <= MAX_PAGE:
        raise QueryError(f"'first' must be between 1 and {MAX_PAGE}.")
    if offset < 0:
        raise QueryError("'offset' must not be negative.")


def member_view(catalog: OpenCatalog, cube: str, member: MemberModel) -> Member:
    return Member(
        unique_name=member.unique_name,
        caption=member.caption,
        key=member.key,
        level_unique_name=member.level_unique_name,
        depth=member.level_depth,
        _catalog=catalog,
        _cube=cube,
    )


def member_page_view(catalog: OpenCatalog, cube: str, page: MemberPageModel) -> MemberPage:
    return MemberPage(
        items=[member_view(catalog, cube, m) for m in page.members],
        total_count=page.total_count,
        offset=page.offset,
        has_more=page.has_more,
    )


def catalog_view(open_catalog: OpenCatalog) -> Catalog:
    ref = open_catalog.ref
    kommune = open_catalog.kommune
    return Catalog(
        name=ref.name,
        data_area=ref.area,
        grant_name=ref.grant_name,
        kommune=Kommune(kode=kommune.kode, navn=kommune.navn, region=kommune.region) if kommune else None,
        is_benchmark=ref.is_benchmark,
        description=open_catalog.description,
        data_as_of=open_catalog.data_as_of,
        _open=open_catalog,
    )


def cube_view(open_catalog: OpenCatalog, cube: CubeModel) -> Cube:
    return Cube(
        name=cube.name,
        description=cube.description,
        dimensions=[_dimension_view(open_catalog, cube, d) for d in cube.dimensions],
        measures=[_measure_view(m) for m in cube.measures],
        disclosure_control=cube.disclosure is not None,
    )


def _dimension_view(open_catalog: OpenCatalog, cube: CubeModel, dimension: DimensionModel) -> Dimension:
    return Dimension(
        name=dimension.name,
        unique_name=bracket(dimension.name),
        description=dimension.description,
        is_time=dimension.is_time,
        hierarchies=[_hierarchy_view(open_catalog, cube, dimension, h) for h in dimension.hierarchies],
    )


def _hierarchy_view(
    open_catalog: OpenCatalog, cube: CubeModel, dimension: DimensionModel, hierarchy: HierarchyModel
) -> Hierarchy:
    prefix = f"{bracket(dimension.name)}.{bracket(hierarchy.name)}"
    return Hierarchy(
        name=hierarchy.name,
        unique_name=prefix,
        levels=[_level_view(open_catalog, cube, prefix, depth, level) for depth, level in enumerate(hierarchy.levels)],
    )


def _level_view(open_catalog: OpenCatalog, cube: CubeModel, prefix: str, depth: int, level: LevelModel) -> Level:
    return Level(
        name=level.name,
        unique_name=f"{prefix}.{bracket(level.name)}",
        depth=depth,
        individual=level.individual,
        _catalog=open_catalog,
        _cube=cube.name,
    )


def _measure_view(measure: MeasureModel) -> Measure:
    return Measure(
        name=measure.name,
        unique_name=measure.unique_name,
        kind=measure.kind.value,
        format_string=measure.format,
        additive=measure.additive,
        description=measure.description,
    )
