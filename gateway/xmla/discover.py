"""Discover: the rows of every rowset, read through the caller's DataSession.

Every database named (a ``CATALOG_NAME`` restriction, the ``Catalog`` property) is opened
through :meth:`DataSession.open_catalog`, so a foreign or missing one gives the uniform
denial; with none named, the caller's readable databases are listed. The cubes are the
session's pruned ones: person-level levels the caller may not see are not there to list.
Rows are filtered by the restrictions here, once, for every rowset.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from gateway.engine.cellset import Member
from gateway.api.session import DataSession, OpenCatalog
from gateway.engine.names import hierarchy_unique_name, level_unique_name
from gateway.errors import LimitExceededError, NotFoundError
from gateway.model.catalog import name_key
from gateway.model.types import Cube, Dimension, Hierarchy, MeasureKind, bracket
from gateway.xmla import metadata
from gateway.xmla.rowsets import BY_NAME, Rowset
from gateway.xmla.soap import XmlaClientError
from gateway.xmla.writer import Column

Row = dict[str, Any]
MAX_MEMBERS = 10_000  # members one MDSCHEMA_MEMBERS answer may list
MEASURES = "[Measures]"
MEASURES_LEVEL = "[Measures].[MeasuresLevel]"

# restrictions that are bit masks, not values to match: (rowset column they test or None, meaning)
_MASKS = {"CUBE_SOURCE", "HIERARCHY_ORIGIN", "LEVEL_ORIGIN", "PROPERTY_ORIGIN", "PROPERTY_TYPE",
          "DIMENSION_VISIBILITY", "HIERARCHY_VISIBILITY", "LEVEL_VISIBILITY", "MEASURE_VISIBILITY",
          "PROPERTY_VISIBILITY", "TREE_OP"}
_AGGREGATORS = {MeasureKind.SUM: 1, MeasureKind.COUNT: 2, MeasureKind.MIN: 3, MeasureKind.MAX: 4,
                MeasureKind.AVG: 5, MeasureKind.DISTINCT_COUNT: 8}
MDMEASURE_AGGR_CALCULATED = 127
TREE_CHILDREN, TREE_SIBLINGS, TREE_PARENT, TREE_SELF, TREE_DESCENDANTS, TREE_ANCESTORS = 1, 2, 4, 8, 16, 32


@dataclass
class DiscoverContext:
    """One Discover request: the caller's session, what it asked, and per-request memos."""

    session: DataSession
    restrictions: Mapping[str, tuple[str, ...]]
    properties: Mapping[str, str]
    server_url: str
    _counts: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def first(self, name: str) -> str | None:
        values = self.restrictions.get(name)
        return values[0] if values else None

    def catalogs(self) -> list[OpenCatalog]:
        """The databases to read: those named, each through the one gate, else all readable."""
        named = self.restrictions.get("CATALOG_NAME") or ((self.properties["Catalog"],) if self.properties.get("Catalog") else ())
        if named:
            return [self.session.open_catalog(name) for name in dict.fromkeys(named)]
        return self.session.readable_catalogs()

    def level_count(self, catalog: OpenCatalog, cube: Cube, level_unique_name: str) -> int:
        key = (catalog.ref.name, cube.name, level_unique_name)
        if key not in self._counts:
            page = self.session.members(catalog, cube.name, level_unique_name, 1, 0)
            self._counts[key] = page.total_count or 0
        return self._counts[key]


def discover(context: DiscoverContext, request_type: str) -> tuple[Rowset, list[Row]]:
    """The rowset's declaration and its rows, filtered by the request's restrictions."""
    rowset = BY_NAME.get(request_type.upper())
    if rowset is None:
        raise XmlaClientError(f"The Discover request type '{request_type[:100]}' is not supported.")
    allowed = {r.name for r in rowset.restrictions}
    for name in context.restrictions:
        if name not in allowed:
            raise XmlaClientError(f"'{name[:100]}' is not a restriction of {rowset.name}.")
    rows = list(_PRODUCERS[rowset.name](context))
    return rowset, [row for row in rows if _matches(row, rowset, context.restrictions)]


def _matches(row: Row, rowset: Rowset, restrictions: Mapping[str, tuple[str, ...]]) -> bool:
    for name, values in restrictions.items():
        if not values or all(v == "" for v in values):
            continue  # an empty restriction restricts nothing (as SSAS reads it)
        if name in _MASKS:
            if not _mask_matches(row, name, values):
                return False
            continue
        if name not in rowset.column_names or (name == "MEMBER_UNIQUE_NAME" and "TREE_OP" in restrictions):
            continue  # with TREE_OP the member is where the tree walk starts, not a filter
        value = row.get(name)
        wanted = {name_key(v) for v in values}
        if value is None or name_key(_text(value)) not in wanted:
            return False
    return True


def _mask_matches(row: Row, name: str, values: tuple[str, ...]) -> bool:
    try:
        mask = 0
        for value in values:
            mask |= int(value)
    except ValueError:
        raise XmlaClientError(f"The restriction '{name}' must be a number.") from None
    if name.endswith("_VISIBILITY"):
        return bool(mask & 1)  # everything served is visible
    if name == "TREE_OP":
        return True  # applied while the members are read
    column = {"CUBE_SOURCE": "CUBE_SOURCE"}.get(name, name)
    value = row.get(column)
    if value is None:
        return name != "CUBE_SOURCE" or bool(mask & 1)  # rowsets without the column hold cube objects
    return bool(int(value) & mask)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- names -------------------------------------------------------------------------------------
def all_level_unique_name(dimension: Dimension, hierarchy: Hierarchy) -> str:
    return f"{hierarchy_unique_name(dimension, hierarchy)}.[(All)]"


def all_member_unique_name(dimension: Dimension, hierarchy: Hierarchy) -> str:
    return f"{hierarchy_unique_name(dimension, hierarchy)}.[All]"


def _cube_scope(catalog: OpenCatalog, cube: Cube) -> Row:
    return {"CATALOG_NAME": catalog.ref.name, "SCHEMA_NAME": None, "CUBE_NAME": cube.name}


def _cubes(context: DiscoverContext) -> Iterator[tuple[OpenCatalog, Cube]]:
    wanted = context.restrictions.get("CUBE_NAME")
    for catalog in context.catalogs():
        for cube in catalog.cubes:
            if wanted and name_key(cube.name) not in {name_key(w) for w in wanted}:
                continue
            yield catalog, cube


def _hierarchies(cube: Cube) -> Iterator[tuple[Dimension, Hierarchy]]:
    for dimension in cube.dimensions:
        for hierarchy in dimension.hierarchies:
            yield dimension, hierarchy


def _dimension_type(dimension: Dimension) -> int:
    return 1 if dimension.is_time else 3  # MD_DIMTYPE_TIME, MD_DIMTYPE_OTHER (2 is the measures)


def _origin(hierarchy: Hierarchy) -> int:
    return 1 if len(hierarchy.levels) > 1 else 2  # MD_USER_DEFINED, MD_SYSTEM_ENABLED (attribute)


def _hierarchy_cardinality(context: DiscoverContext, catalog: OpenCatalog, cube: Cube, dimension: Dimension,
                           hierarchy: Hierarchy) -> int:
    return 1 + sum(context.level_count(catalog, cube, level_unique_name(dimension, hierarchy, level))
                   for level in hierarchy.levels)


# -- server rowsets ----------------------------------------------------------------------------
def _datasources(context: DiscoverContext) -> Iterable[Row]:
    yield {
        "DataSourceName": metadata.DATA_SOURCE_NAME,
        "DataSourceDescription": metadata.DATA_SOURCE_DESCRIPTION,
        "URL": context.server_url,
        "DataSourceInfo": metadata.DATA_SOURCE_NAME,
        "ProviderName": metadata.PROVIDER_NAME,
        "ProviderType": ["MDP", "TDP"],
        "AuthenticationMode": "Authenticated",
    }


def _properties(context: DiscoverContext) -> Iterable[Row]:
    for prop in metadata.PROPERTIES:
        value = context.properties.get(prop.name, prop.value)
        yield {"PropertyName": prop.name, "PropertyDescription": prop.description, "PropertyType": prop.type,
               "PropertyAccessType": prop.access, "IsRequired": False, "Value": value}


def _schema_rowsets(context: DiscoverContext) -> Iterable[Row]:
    from gateway.xmla.rowsets import ROWSETS

    for rowset in ROWSETS:
        yield {
            "SchemaName": rowset.name,
            "SchemaGuid": rowset.guid,
            "Restrictions": [{"Name": r.name, "Type": f"xsd:{r.type}"} for r in rowset.restrictions],
            "Description": rowset.description,
            "RestrictionsMask": (1 << len(rowset.restrictions)) - 1,
        }


def _enumerators(context: DiscoverContext) -> Iterable[Row]:
    for enum in metadata.ENUMERATORS:
        for element, value, description in enum.elements:
            yield {"EnumName": enum.name, "EnumDescription": enum.description, "EnumType": enum.type,
                   "ElementName": element, "ElementDescription": description, "ElementValue": value}


def _keywords(context: DiscoverContext) -> Iterable[Row]:
    return ({"Keyword": keyword} for keyword in metadata.KEYWORDS)


def _literals(context: DiscoverContext) -> Iterable[Row]:
    for name, value, invalid, invalid_start, max_length, enum in metadata.LITERALS:
        yield {"LiteralName": name, "LiteralValue": value, "LiteralInvalidChars": invalid,
               "LiteralInvalidStartingChars": invalid_start, "LiteralMaxLength": max_length,
               "LiteralNameEnumValue": enum}


def _functions(context: DiscoverContext) -> Iterable[Row]:
    for name, interface, parameters, description in metadata.FUNCTIONS:
        yield {"FUNCTION_NAME": name, "DESCRIPTION": description, "PARAMETER_LIST": parameters, "ORIGIN": 1,
               "INTERFACE_NAME": interface, "LIBRARY_NAME": None, "CAPTION": name}


# -- database rowsets --------------------------------------------------------------------------
def _catalogs(context: DiscoverContext) -> Iterable[Row]:
    named = context.restrictions.get("CATALOG_NAME")
    catalogs = [context.session.open_catalog(n) for n in dict.fromkeys(named)] if named else context.session.readable_catalogs()
    current = context.properties.get("Catalog")
    for catalog in catalogs:
        yield {
            "CATALOG_NAME": catalog.ref.name,
            "DESCRIPTION": catalog.description,
            "ROLES": "",
            "DATE_MODIFIED": catalog.data_as_of,
            "COMPATIBILITY_LEVEL": 1100,
            "TYPE": 0,  # multidimensional
            "VERSION": 1,
            "DATABASE_ID": catalog.ref.name,
            "DATE_QUERIED": None,
            "CURRENTLY_USED": current is not None and name_key(current) == name_key(catalog.ref.name),
        }


def _cube_rows(context: DiscoverContext) -> Iterable[Row]:
    for catalog, cube in _cubes(context):
        yield {
            **_cube_scope(catalog, cube),
            "CUBE_TYPE": "CUBE",
            "LAST_DATA_UPDATE": catalog.data_as_of,
            "DESCRIPTION": cube.description,
            "IS_DRILLTHROUGH_ENABLED": False,
            "IS_LINKABLE": False,
            "IS_WRITE_ENABLED": False,
            "IS_SQL_ENABLED": False,
            "CUBE_CAPTION": cube.name,
            "CUBE_SOURCE": 1,
            "PREFERRED_QUERY_PATTERNS": 0,
        }


def _dimension_rows(context: DiscoverContext) -> Iterable[Row]:
    for catalog, cube in _cubes(context):
        scope = _cube_scope(catalog, cube)
        yield {**scope, "DIMENSION_NAME": "Measures", "DIMENSION_UNIQUE_NAME": MEASURES, "DIMENSION_CAPTION": "Measures",
               "DIMENSION_ORDINAL": 0, "DIMENSION_TYPE": 2, "DIMENSION_CARDINALITY": len(cube.measures),
               "DEFAULT_HIERARCHY": MEASURES, "IS_VIRTUAL": False, "IS_READWRITE": False,
               "DIMENSION_UNIQUE_SETTINGS": 0, "DIMENSION_IS_VISIBLE": True}
        for ordinal, dimension in enumerate(cube.dimensions, start=1):
            if not _wanted(context, "DIMENSION_UNIQUE_NAME", bracket(dimension.name)):
                continue
            first = dimension.hierarchies[0]
            yield {
                **scope,
                "DIMENSION_NAME": dimension.name,
                "DIMENSION_UNIQUE_NAME": bracket(dimension.name),
                "DIMENSION_CAPTION": dimension.name,
                "DIMENSION_ORDINAL": ordinal,
                "DIMENSION_TYPE": _dimension_type(dimension),
                "DIMENSION_CARDINALITY": _hierarchy_cardinality(context, catalog, cube, dimension, first),
                "DEFAULT_HIERARCHY": hierarchy_unique_name(dimension, first),
                "DESCRIPTION": dimension.description,
                "IS_VIRTUAL": False,
                "IS_READWRITE": False,
                "DIMENSION_UNIQUE_SETTINGS": 0,
                "DIMENSION_IS_VISIBLE": True,
            }


def _wanted(context: DiscoverContext, name: str, value: str) -> bool:
    """Skip the expensive part of a row the restrictions will drop anyway."""
    values = [v for v in context.restrictions.get(name, ()) if v]
    return not values or name_key(value) in {name_key(v) for v in values}


def _hierarchy_rows(context: DiscoverContext) -> Iterable[Row]:
    for catalog, cube in _cubes(context):
        scope = _cube_scope(catalog, cube)
        first_measure = cube.measures[0].unique_name if cube.measures else None
        yield {**scope, "DIMENSION_UNIQUE_NAME": MEASURES, "HIERARCHY_NAME": "Measures",
               "HIERARCHY_UNIQUE_NAME": MEASURES, "HIERARCHY_CAPTION": "Measures", "DIMENSION_TYPE": 2,
               "HIERARCHY_CARDINALITY": len(cube.measures), "DEFAULT_MEMBER": first_measure, "STRUCTURE": 0,
               "IS_VIRTUAL": False, "IS_READWRITE": False, "DIMENSION_UNIQUE_SETTINGS": 0,
               "DIMENSION_IS_VISIBLE": True, "HIERARCHY_ORDINAL": 0, "DIMENSION_IS_SHARED": True,
               "HIERARCHY_IS_VISIBLE": True, "HIERARCHY_ORIGIN": 1, "HIERARCHY_DISPLAY_FOLDER": "",
               "INSTANCE_SELECTION": 0, "GROUPING_BEHAVIOR": 1, "STRUCTURE_TYPE": "Natural"}
        for ordinal, (dimension, hierarchy) in enumerate(_hierarchies(cube), start=1):
            unique = hierarchy_unique_name(dimension, hierarchy)
            if not (_wanted(context, "HIERARCHY_UNIQUE_NAME", unique)
                    and _wanted(context, "DIMENSION_UNIQUE_NAME", bracket(dimension.name))):
                continue
            all_member = all_member_unique_name(dimension, hierarchy)
            yield {
                **scope,
                "DIMENSION_UNIQUE_NAME": bracket(dimension.name),
                "HIERARCHY_NAME": hierarchy.name,
                "HIERARCHY_UNIQUE_NAME": unique,
                "HIERARCHY_CAPTION": hierarchy.name,
                "DIMENSION_TYPE": _dimension_type(dimension),
                "HIERARCHY_CARDINALITY": _hierarchy_cardinality(context, catalog, cube, dimension, hierarchy),
                "DEFAULT_MEMBER": all_member,
                "ALL_MEMBER": all_member,
                "DESCRIPTION": dimension.description,
                "STRUCTURE": 0,
                "IS_VIRTUAL": False,
                "IS_READWRITE": False,
                "DIMENSION_UNIQUE_SETTINGS": 0,
                "DIMENSION_IS_VISIBLE": True,
                "HIERARCHY_ORDINAL": ordinal,
                "DIMENSION_IS_SHARED": True,
                "HIERARCHY_IS_VISIBLE": True,
                "HIERARCHY_ORIGIN": _origin(hierarchy),
                "HIERARCHY_DISPLAY_FOLDER": "",
                "INSTANCE_SELECTION": 0,
                "GROUPING_BEHAVIOR": 1,
                "STRUCTURE_TYPE": "Natural",
            }


def _level_rows(context: DiscoverContext) -> Iterable[Row]:
    for catalog, cube in _cubes(context):
        scope = _cube_scope(catalog, cube)
        yield {**scope, "DIMENSION_UNIQUE_NAME": MEASURES, "HIERARCHY_UNIQUE_NAME": MEASURES,
               "LEVEL_NAME": "MeasuresLevel", "LEVEL_UNIQUE_NAME": MEASURES_LEVEL, "LEVEL_CAPTION": "MeasuresLevel",
               "LEVEL_NUMBER": 0, "LEVEL_CARDINALITY": len(cube.measures), "LEVEL_TYPE": 0,
               "CUSTOM_ROLLUP_SETTINGS": 0, "LEVEL_UNIQUE_SETTINGS": 0, "LEVEL_IS_VISIBLE": True,
               "LEVEL_DBTYPE": 130, "LEVEL_KEY_CARDINALITY": 1, "LEVEL_ORIGIN": 0}
        for dimension, hierarchy in _hierarchies(cube):
            unique = hierarchy_unique_name(dimension, hierarchy)
            if not (_wanted(context, "HIERARCHY_UNIQUE_NAME", unique)
                    and _wanted(context, "DIMENSION_UNIQUE_NAME", bracket(dimension.name))):
                continue
            base = {**scope, "DIMENSION_UNIQUE_NAME": bracket(dimension.name), "HIERARCHY_UNIQUE_NAME": unique,
                    "CUSTOM_ROLLUP_SETTINGS": 0, "LEVEL_UNIQUE_SETTINGS": 0, "LEVEL_IS_VISIBLE": True,
                    "LEVEL_DBTYPE": 130, "LEVEL_KEY_CARDINALITY": 1}
            yield {**base, "LEVEL_NAME": "(All)", "LEVEL_UNIQUE_NAME": all_level_unique_name(dimension, hierarchy),
                   "LEVEL_CAPTION": "(All)", "LEVEL_NUMBER": 0, "LEVEL_CARDINALITY": 1, "LEVEL_TYPE": 1,
                   "LEVEL_ORIGIN": 0}
            for number, level in enumerate(hierarchy.levels, start=1):
                level_unique = level_unique_name(dimension, hierarchy, level)
                if not _wanted(context, "LEVEL_UNIQUE_NAME", level_unique):
                    continue
                yield {
                    **base,
                    "LEVEL_NAME": level.name,
                    "LEVEL_UNIQUE_NAME": level_unique,
                    "LEVEL_CAPTION": level.name,
                    "LEVEL_NUMBER": number,
                    "LEVEL_CARDINALITY": context.level_count(catalog, cube, level_unique),
                    "LEVEL_TYPE": 0,  # regular
                    "DESCRIPTION": "Personhenførbart niveau" if level.individual else None,
                    "LEVEL_ORIGIN": _origin(hierarchy),
                    "LEVEL_ATTRIBUTE_HIERARCHY_NAME": level.name,
                }


def _measure_rows(context: DiscoverContext) -> Iterable[Row]:
    for catalog, cube in _cubes(context):
        for measure in cube.measures:
            calculated = measure.kind not in _AGGREGATORS
            yield {
                **_cube_scope(catalog, cube),
                "MEASURE_NAME": measure.name,
                "MEASURE_UNIQUE_NAME": measure.unique_name,
                "MEASURE_CAPTION": measure.name,
                "MEASURE_AGGREGATOR": MDMEASURE_AGGR_CALCULATED if calculated else _AGGREGATORS[measure.kind],
                "DATA_TYPE": 5,  # DBTYPE_R8
                "NUMERIC_PRECISION": 16,
                "NUMERIC_SCALE": -1,
                "DESCRIPTION": measure.description,
                "EXPRESSION": measure.expression,
                "MEASURE_IS_VISIBLE": True,
                "MEASURE_UNQUALIFIED_CAPTION": measure.name,
                "MEASUREGROUP_NAME": cube.name,
                "MEASURE_DISPLAY_FOLDER": "",
                "DEFAULT_FORMAT_STRING": measure.format,
            }


def _measure_group_rows(context: DiscoverContext) -> Iterable[Row]:
    for catalog, cube in _cubes(context):
        yield {**_cube_scope(catalog, cube), "MEASUREGROUP_NAME": cube.name, "DESCRIPTION": cube.description,
               "IS_WRITE_ENABLED": False, "MEASUREGROUP_CAPTION": cube.name}


def _measure_group_dimension_rows(context: DiscoverContext) -> Iterable[Row]:
    for catalog, cube in _cubes(context):
        for dimension in cube.dimensions:
            hierarchy = dimension.hierarchies[0]
            grain = f"{hierarchy_unique_name(dimension, hierarchy)}.{bracket(hierarchy.levels[-1].name)}"
            yield {**_cube_scope(catalog, cube), "MEASUREGROUP_NAME": cube.name, "MEASUREGROUP_CARDINALITY": "MANY",
                   "DIMENSION_UNIQUE_NAME": bracket(dimension.name), "DIMENSION_CARDINALITY": "ONE",
                   "DIMENSION_IS_VISIBLE": True, "DIMENSION_IS_FACT_DIMENSION": False,
                   "DIMENSION_GRANULARITY": grain}


def _property_rows(context: DiscoverContext) -> Iterable[Row]:
    """Cell properties (PROPERTY_TYPE 2); the cubes declare no member properties of their own."""
    for catalog, cube in _cubes(context):
        for name, data_type, description in metadata.CELL_PROPERTIES:
            yield {**_cube_scope(catalog, cube), "PROPERTY_TYPE": 2, "PROPERTY_NAME": name, "PROPERTY_CAPTION": name,
                   "DATA_TYPE": data_type, "DESCRIPTION": description, "PROPERTY_CONTENT_TYPE": 0,
                   "PROPERTY_ORIGIN": 1, "PROPERTY_IS_VISIBLE": True}


def _no_rows(context: DiscoverContext) -> Iterable[Row]:
    """Named sets and KPIs: none are defined, but the database is still checked like any other."""
    for _ in _cubes(context):
        pass
    return ()


# -- members -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Place:
    """Where a member lives: its cube, dimension and hierarchy, and its level number (0 = All)."""

    catalog: OpenCatalog
    cube: Cube
    dimension: Dimension | None  # None for the measures
    hierarchy: Hierarchy | None


def _member_rows(context: DiscoverContext) -> Iterable[Row]:
    emitted = 0
    for catalog, cube in _cubes(context):
        for row in _members_of_cube(context, catalog, cube):
            emitted += 1
            if emitted > MAX_MEMBERS:
                raise LimitExceededError(
                    f"MDSCHEMA_MEMBERS would list more than {MAX_MEMBERS:,} members; restrict it to a level or a member."
                )
            yield row


def _members_of_cube(context: DiscoverContext, catalog: OpenCatalog, cube: Cube) -> Iterator[Row]:
    member_name = context.first("MEMBER_UNIQUE_NAME")
    if member_name:
        tree_op = int(context.first("TREE_OP") or TREE_SELF)
        yield from _tree(context, catalog, cube, member_name, tree_op)
        return
    level_number = context.first("LEVEL_NUMBER")
    if _wanted(context, "HIERARCHY_UNIQUE_NAME", MEASURES) and _wanted(context, "DIMENSION_UNIQUE_NAME", MEASURES):
        if _wanted(context, "LEVEL_UNIQUE_NAME", MEASURES_LEVEL) and level_number in (None, "", "0"):
            yield from (_measure_member(catalog, cube, m.name) for m in cube.measures)
    for dimension, hierarchy in _hierarchies(cube):
        unique = hierarchy_unique_name(dimension, hierarchy)
        if not (_wanted(context, "HIERARCHY_UNIQUE_NAME", unique)
                and _wanted(context, "DIMENSION_UNIQUE_NAME", bracket(dimension.name))):
            continue
        place = _Place(catalog, cube, dimension, hierarchy)
        if _wanted(context, "LEVEL_UNIQUE_NAME", all_level_unique_name(dimension, hierarchy)) and level_number in (None, "", "0"):
            yield _all_member(context, place)
        for number, level in enumerate(hierarchy.levels, start=1):
            if level_number not in (None, "") and str(number) != level_number.strip():
                continue
            if not _wanted(context, "LEVEL_UNIQUE_NAME", level_unique_name(dimension, hierarchy, level)):
                continue
            yield from _level_members(context, place, number)


def _level_members(context: DiscoverContext, place: _Place, number: int) -> Iterator[Row]:
    """A level's members, each with its parent: read as the children of the level above, so
    the parent is known without a lookup per member (the top level's parent is All)."""
    assert place.hierarchy is not None and place.dimension is not None
    level_unique = level_unique_name(place.dimension, place.hierarchy, place.hierarchy.levels[number - 1])
    if number == 1:
        for member in _all_pages(context, place, level_unique):
            yield _member_row(context, place, member, all_member_unique_name(place.dimension, place.hierarchy))
        return
    for parent in _level_members_plain(context, place, number - 1):
        for member in _children(context, place, parent.unique_name):
            yield _member_row(context, place, member, parent.unique_name)


def _level_members_plain(context: DiscoverContext, place: _Place, number: int) -> Iterator[Member]:
    assert place.hierarchy is not None and place.dimension is not None
    level_unique = f"{hierarchy_unique_name(place.dimension, place.hierarchy)}.{bracket(place.hierarchy.levels[number - 1].name)}"
    yield from _all_pages(context, place, level_unique)


def _all_pages(context: DiscoverContext, place: _Place, level_unique: str) -> Iterator[Member]:
    offset = 0
    while True:
        page = context.session.members(place.catalog, place.cube.name, level_unique, 1000, offset)
        yield from page.members
        if not page.has_more or offset > MAX_MEMBERS:
            return
        offset += len(page.members)


def _children(context: DiscoverContext, place: _Place, unique_name: str) -> list[Member]:
    found: list[Member] = []
    while True:
        page = context.session.children(place.catalog, place.cube.name, unique_name, 1000, len(found))
        found.extend(page.members)
        if not page.has_more or len(found) > MAX_MEMBERS:
            return found


def _member_row(context: DiscoverContext, place: _Place, member: Member, parent: str | None) -> Row:
    assert place.hierarchy is not None and place.dimension is not None
    number = member.level_depth + 1
    return {
        **_cube_scope(place.catalog, place.cube),
        "DIMENSION_UNIQUE_NAME": bracket(place.dimension.name),
        "HIERARCHY_UNIQUE_NAME": hierarchy_unique_name(place.dimension, place.hierarchy),
        "LEVEL_UNIQUE_NAME": member.level_unique_name,
        "LEVEL_NUMBER": number,
        "MEMBER_ORDINAL": 0,
        "MEMBER_NAME": member.caption,
        "MEMBER_UNIQUE_NAME": member.unique_name,
        "MEMBER_TYPE": 1,
        "MEMBER_CAPTION": member.caption,
        "CHILDREN_CARDINALITY": _children_estimate(context, place, number),
        "PARENT_LEVEL": number - 1,
        "PARENT_UNIQUE_NAME": parent,
        "PARENT_COUNT": 1,
        "MEMBER_KEY": member.key,
        "IS_PLACEHOLDERMEMBER": False,
        "IS_DATAMEMBER": False,
    }


def _children_estimate(context: DiscoverContext, place: _Place, number: int) -> int:
    """Children of a member at level ``number``: the average over its level (SSAS estimates too);
    0 at the bottom level."""
    assert place.hierarchy is not None and place.dimension is not None
    levels = place.hierarchy.levels
    if number >= len(levels):
        return 0
    below = context.level_count(place.catalog, place.cube, level_unique_name(place.dimension, place.hierarchy, levels[number]))
    if number == 0:
        return below
    this = context.level_count(place.catalog, place.cube,
                               level_unique_name(place.dimension, place.hierarchy, levels[number - 1]))
    return max(1, math.ceil(below / this)) if this else 0


def _all_member(context: DiscoverContext, place: _Place) -> Row:
    assert place.hierarchy is not None and place.dimension is not None
    return {
        **_cube_scope(place.catalog, place.cube),
        "DIMENSION_UNIQUE_NAME": bracket(place.dimension.name),
        "HIERARCHY_UNIQUE_NAME": hierarchy_unique_name(place.dimension, place.hierarchy),
        "LEVEL_UNIQUE_NAME": all_level_unique_name(place.dimension, place.hierarchy),
        "LEVEL_NUMBER": 0,
        "MEMBER_ORDINAL": 0,
        "MEMBER_NAME": "All",
        "MEMBER_UNIQUE_NAME": all_member_unique_name(place.dimension, place.hierarchy),
        "MEMBER_TYPE": 2,  # MDMEMBER_TYPE_ALL
        "MEMBER_CAPTION": "All",
        "CHILDREN_CARDINALITY": _children_estimate(context, place, 0),
        "PARENT_LEVEL": 0,
        "PARENT_COUNT": 0,
        "IS_PLACEHOLDERMEMBER": False,
        "IS_DATAMEMBER": False,
    }


def _measure_member(catalog: OpenCatalog, cube: Cube, name: str) -> Row:
    measure = next(m for m in cube.measures if m.name == name)
    return {
        **_cube_scope(catalog, cube),
        "DIMENSION_UNIQUE_NAME": MEASURES,
        "HIERARCHY_UNIQUE_NAME": MEASURES,
        "LEVEL_UNIQUE_NAME": MEASURES_LEVEL,
        "LEVEL_NUMBER": 0,
        "MEMBER_ORDINAL": 0,
        "MEMBER_NAME": measure.name,
        "MEMBER_UNIQUE_NAME": measure.unique_name,
        "MEMBER_TYPE": 4 if measure.kind not in _AGGREGATORS else 3,  # formula / measure
        "MEMBER_CAPTION": measure.name,
        "CHILDREN_CARDINALITY": 0,
        "PARENT_LEVEL": 0,
        "PARENT_COUNT": 0,
        "EXPRESSION": measure.expression,
        "IS_PLACEHOLDERMEMBER": False,
        "IS_DATAMEMBER": False,
    }


def _tree(context: DiscoverContext, catalog: OpenCatalog, cube: Cube, name: str, tree_op: int) -> Iterator[Row]:
    """The members TREE_OP relates to ``name``: itself, children, siblings, parent, ancestors, descendants."""
    for measure in cube.measures:
        if name_key(measure.unique_name) == name_key(name):
            if tree_op & (TREE_SELF | TREE_SIBLINGS):
                for other in cube.measures:
                    if other is measure and tree_op & TREE_SELF or other is not measure and tree_op & TREE_SIBLINGS:
                        yield _measure_member(catalog, cube, other.name)
            return
    for dimension, hierarchy in _hierarchies(cube):
        place = _Place(catalog, cube, dimension, hierarchy)
        if name_key(all_member_unique_name(dimension, hierarchy)) == name_key(name):
            if tree_op & TREE_SELF:
                yield _all_member(context, place)
            if tree_op & (TREE_CHILDREN | TREE_DESCENDANTS):
                yield from _descendants(context, place, None, 1, deep=bool(tree_op & TREE_DESCENDANTS))
            return
    member = context.session.member(catalog, cube.name, name)  # NotFoundError when it is not there
    place = _place_of(catalog, cube, member)
    assert place.dimension is not None and place.hierarchy is not None
    all_name = all_member_unique_name(place.dimension, place.hierarchy)
    ancestors = _ancestors(context, place, member)
    parent_name = ancestors[0].unique_name if ancestors else all_name
    if tree_op & TREE_ANCESTORS:
        for index, ancestor in enumerate(ancestors):
            grand = ancestors[index + 1].unique_name if index + 1 < len(ancestors) else all_name
            yield _member_row(context, place, ancestor, grand)
        yield _all_member(context, place)
    elif tree_op & TREE_PARENT:
        if ancestors:
            yield _member_row(context, place, ancestors[0], ancestors[1].unique_name if len(ancestors) > 1 else all_name)
        else:
            yield _all_member(context, place)
    if tree_op & (TREE_SIBLINGS | TREE_SELF):
        siblings = (_children(context, place, ancestors[0].unique_name) if ancestors
                    else list(_all_pages(context, place, member.level_unique_name)))
        for sibling in siblings:
            is_self = sibling.unique_name == member.unique_name
            if is_self and tree_op & TREE_SELF or not is_self and tree_op & TREE_SIBLINGS:
                yield _member_row(context, place, sibling, parent_name)
    if tree_op & (TREE_CHILDREN | TREE_DESCENDANTS):
        yield from _descendants(context, place, member, member.level_depth + 2, deep=bool(tree_op & TREE_DESCENDANTS))


def _descendants(context: DiscoverContext, place: _Place, member: Member | None, number: int, *, deep: bool) -> Iterator[Row]:
    assert place.dimension is not None and place.hierarchy is not None
    if number > len(place.hierarchy.levels):
        return
    if member is None:
        level_unique = f"{hierarchy_unique_name(place.dimension, place.hierarchy)}.{bracket(place.hierarchy.levels[0].name)}"
        children = list(_all_pages(context, place, level_unique))
        parent = all_member_unique_name(place.dimension, place.hierarchy)
    else:
        children = _children(context, place, member.unique_name)
        parent = member.unique_name
    for child in children:
        yield _member_row(context, place, child, parent)
        if deep:
            yield from _descendants(context, place, child, number + 1, deep=True)


def _ancestors(context: DiscoverContext, place: _Place, member: Member) -> list[Member]:
    found: list[Member] = []
    current = member
    while current.level_depth > 0:
        parent = context.session.parent(place.catalog, place.cube.name, current.unique_name)
        if parent is None:
            break
        found.append(parent)
        current = parent
    return found


def _place_of(catalog: OpenCatalog, cube: Cube, member: Member) -> _Place:
    for dimension, hierarchy in _hierarchies(cube):
        prefix = hierarchy_unique_name(dimension, hierarchy) + "."
        if member.level_unique_name.startswith(prefix):
            return _Place(catalog, cube, dimension, hierarchy)
    raise NotFoundError(f"The member '{member.unique_name}' was not found in the cube '{cube.name}'.")


_PRODUCERS: dict[str, Callable[[DiscoverContext], Iterable[Row]]] = {
    "DISCOVER_DATASOURCES": _datasources,
    "DISCOVER_PROPERTIES": _properties,
    "DISCOVER_SCHEMA_ROWSETS": _schema_rowsets,
    "DISCOVER_ENUMERATORS": _enumerators,
    "DISCOVER_KEYWORDS": _keywords,
    "DISCOVER_LITERALS": _literals,
    "DBSCHEMA_CATALOGS": _catalogs,
    "MDSCHEMA_CUBES": _cube_rows,
    "MDSCHEMA_DIMENSIONS": _dimension_rows,
    "MDSCHEMA_HIERARCHIES": _hierarchy_rows,
    "MDSCHEMA_LEVELS": _level_rows,
    "MDSCHEMA_MEASURES": _measure_rows,
    "MDSCHEMA_MEASUREGROUPS": _measure_group_rows,
    "MDSCHEMA_MEASUREGROUP_DIMENSIONS": _measure_group_dimension_rows,
    "MDSCHEMA_MEMBERS": _member_rows,
    "MDSCHEMA_PROPERTIES": _property_rows,
    "MDSCHEMA_SETS": _no_rows,
    "MDSCHEMA_KPIS": _no_rows,
    "MDSCHEMA_FUNCTIONS": _functions,
}


def columns_of(rowset: Rowset, selected: Sequence[str] | None = None) -> list[Column]:
    """The rowset's columns, or the ones a DMV SELECT named (in its order)."""
    if selected is None:
        return list(rowset.columns)
    by_name = {name_key(c.name): c for c in rowset.columns}
    out = []
    for name in selected:
        column = by_name.get(name_key(name))
        if column is None:
            raise XmlaClientError(f"The rowset {rowset.name} has no column '{name[:100]}'.")
        out.append(column)
    return out
