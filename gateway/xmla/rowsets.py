"""Every Discover rowset as data: its name, its columns with their XSD types, its restrictions.

One declaration per rowset (as Mondrian's ``RowsetDefinition`` and olap4j have it); the rows
come from ``gateway.xmla.discover`` and every rowset is written by the one writer. Column
lists follow the XMLA 1.1 / MS-SSAS rowset definitions, in their order, so clients that read
by position or by name both find what they expect.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.xmla.writer import Column


@dataclass(frozen=True, slots=True)
class Restriction:
    name: str
    type: str = "string"


@dataclass(frozen=True, slots=True)
class Rowset:
    name: str
    guid: str
    description: str
    columns: tuple[Column, ...]
    restrictions: tuple[Restriction, ...] = ()
    needs_catalog: bool = False  # reads inside a database (the catalog is checked first)

    @property
    def column_names(self) -> frozenset[str]:
        return frozenset(c.name for c in self.columns)


def _columns(spec: str) -> tuple[Column, ...]:
    """``"NAME:type NAME2 ..."``: a compact column list; the type defaults to string."""
    out = []
    for item in spec.split():
        name, _, kind = item.partition(":")
        out.append(Column(name, kind or "string"))
    return tuple(out)


def _restrictions(spec: str) -> tuple[Restriction, ...]:
    return tuple(Restriction(c.name, c.type) for c in _columns(spec))


_CUBE_SCOPE = "CATALOG_NAME SCHEMA_NAME CUBE_NAME"

ROWSETS: tuple[Rowset, ...] = (
    Rowset(
        "DISCOVER_DATASOURCES", "06C03D41-F66D-49F3-B1B8-987F7AF4CF18", "The data sources this server offers.",
        _columns("DataSourceName DataSourceDescription URL DataSourceInfo ProviderName ProviderType AuthenticationMode"),
        _restrictions("DataSourceName URL ProviderName ProviderType AuthenticationMode"),
    ),
    Rowset(
        "DISCOVER_PROPERTIES", "4B40ADFB-8B09-4758-97BB-636E8AE97BCF", "The XMLA properties this server accepts.",
        _columns("PropertyName PropertyDescription PropertyType PropertyAccessType IsRequired:boolean Value"),
        _restrictions("PropertyName"),
    ),
    Rowset(
        "DISCOVER_SCHEMA_ROWSETS", "EEA0302B-7922-4992-8991-0E605D0E5593", "The rowsets Discover answers.",
        _columns("SchemaName SchemaGuid Restrictions Description RestrictionsMask:unsignedLong"),
        _restrictions("SchemaName"),
    ),
    Rowset(
        "DISCOVER_ENUMERATORS", "55A9E78B-ACCB-45B4-95A6-94C5065617A7", "Enumerations the properties use.",
        _columns("EnumName EnumDescription EnumType ElementName ElementDescription ElementValue"),
        _restrictions("EnumName"),
    ),
    Rowset(
        "DISCOVER_KEYWORDS", "1426C443-4CDD-4A40-8F45-572FAB9BBAA1", "MDX keywords this server reserves.",
        _columns("Keyword"),
        _restrictions("Keyword"),
    ),
    Rowset(
        "DISCOVER_LITERALS", "C3EF5ECB-0A07-4665-A140-B075722DBDC2", "How names and literals are written.",
        _columns(
            "LiteralName LiteralValue LiteralInvalidChars LiteralInvalidStartingChars LiteralMaxLength:int "
            "LiteralNameEnumValue:int"
        ),
        _restrictions("LiteralName"),
    ),
    Rowset(
        "DBSCHEMA_CATALOGS", "C8B52211-5CF3-11CE-ADE5-00AA0044773D", "The databases the caller may read.",
        _columns("CATALOG_NAME DESCRIPTION ROLES DATE_MODIFIED:dateTime COMPATIBILITY_LEVEL:int TYPE:int "
                 "VERSION:int DATABASE_ID DATE_QUERIED:dateTime CURRENTLY_USED:boolean"),
        _restrictions("CATALOG_NAME"),
    ),
    Rowset(
        "MDSCHEMA_CUBES", "C8B522D8-5CF3-11CE-ADE5-00AA0044773D", "The cubes of a database.",
        _columns(
            f"{_CUBE_SCOPE} CUBE_TYPE CUBE_GUID CREATED_ON:dateTime LAST_SCHEMA_UPDATE:dateTime SCHEMA_UPDATED_BY "
            "LAST_DATA_UPDATE:dateTime DATA_UPDATED_BY DESCRIPTION IS_DRILLTHROUGH_ENABLED:boolean "
            "IS_LINKABLE:boolean IS_WRITE_ENABLED:boolean IS_SQL_ENABLED:boolean CUBE_CAPTION BASE_CUBE_NAME "
            "CUBE_SOURCE:unsignedShort PREFERRED_QUERY_PATTERNS:unsignedShort"
        ),
        _restrictions(f"{_CUBE_SCOPE} CUBE_SOURCE:unsignedShort BASE_CUBE_NAME"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_DIMENSIONS", "C8B522D9-5CF3-11CE-ADE5-00AA0044773D", "The dimensions of a cube.",
        _columns(
            f"{_CUBE_SCOPE} DIMENSION_NAME DIMENSION_UNIQUE_NAME DIMENSION_GUID DIMENSION_CAPTION "
            "DIMENSION_ORDINAL:unsignedInt DIMENSION_TYPE:short DIMENSION_CARDINALITY:unsignedInt DEFAULT_HIERARCHY "
            "DESCRIPTION IS_VIRTUAL:boolean IS_READWRITE:boolean DIMENSION_UNIQUE_SETTINGS:int "
            "DIMENSION_MASTER_UNIQUE_NAME DIMENSION_IS_VISIBLE:boolean"
        ),
        _restrictions(f"{_CUBE_SCOPE} DIMENSION_NAME DIMENSION_UNIQUE_NAME CUBE_SOURCE:unsignedShort "
                      "DIMENSION_VISIBILITY:unsignedShort"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_HIERARCHIES", "C8B522DA-5CF3-11CE-ADE5-00AA0044773D", "The hierarchies of a cube.",
        _columns(
            f"{_CUBE_SCOPE} DIMENSION_UNIQUE_NAME HIERARCHY_NAME HIERARCHY_UNIQUE_NAME HIERARCHY_GUID "
            "HIERARCHY_CAPTION DIMENSION_TYPE:short HIERARCHY_CARDINALITY:unsignedInt DEFAULT_MEMBER ALL_MEMBER "
            "DESCRIPTION STRUCTURE:short IS_VIRTUAL:boolean IS_READWRITE:boolean DIMENSION_UNIQUE_SETTINGS:int "
            "DIMENSION_MASTER_UNIQUE_NAME DIMENSION_IS_VISIBLE:boolean HIERARCHY_ORDINAL:unsignedInt "
            "DIMENSION_IS_SHARED:boolean HIERARCHY_IS_VISIBLE:boolean HIERARCHY_ORIGIN:unsignedShort "
            "HIERARCHY_DISPLAY_FOLDER INSTANCE_SELECTION:unsignedShort GROUPING_BEHAVIOR:short "
            "STRUCTURE_TYPE"
        ),
        _restrictions(f"{_CUBE_SCOPE} DIMENSION_UNIQUE_NAME HIERARCHY_NAME HIERARCHY_UNIQUE_NAME "
                      "HIERARCHY_ORIGIN:unsignedShort CUBE_SOURCE:unsignedShort HIERARCHY_VISIBILITY:unsignedShort"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_LEVELS", "C8B522DB-5CF3-11CE-ADE5-00AA0044773D", "The levels of a cube's hierarchies.",
        _columns(
            f"{_CUBE_SCOPE} DIMENSION_UNIQUE_NAME HIERARCHY_UNIQUE_NAME LEVEL_NAME LEVEL_UNIQUE_NAME LEVEL_GUID "
            "LEVEL_CAPTION LEVEL_NUMBER:unsignedInt LEVEL_CARDINALITY:unsignedInt LEVEL_TYPE:int DESCRIPTION "
            "CUSTOM_ROLLUP_SETTINGS:int LEVEL_UNIQUE_SETTINGS:int LEVEL_IS_VISIBLE:boolean LEVEL_ORDERING_PROPERTY "
            "LEVEL_DBTYPE:int LEVEL_MASTER_UNIQUE_NAME LEVEL_NAME_SQL_COLUMN_NAME LEVEL_KEY_SQL_COLUMN_NAME "
            "LEVEL_UNIQUE_NAME_SQL_COLUMN_NAME LEVEL_ATTRIBUTE_HIERARCHY_NAME LEVEL_KEY_CARDINALITY:unsignedShort "
            "LEVEL_ORIGIN:unsignedShort"
        ),
        _restrictions(f"{_CUBE_SCOPE} DIMENSION_UNIQUE_NAME HIERARCHY_UNIQUE_NAME LEVEL_NAME LEVEL_UNIQUE_NAME "
                      "LEVEL_ORIGIN:unsignedShort CUBE_SOURCE:unsignedShort LEVEL_VISIBILITY:unsignedShort"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_MEASURES", "C8B522DC-5CF3-11CE-ADE5-00AA0044773D", "The measures of a cube.",
        _columns(
            f"{_CUBE_SCOPE} MEASURE_NAME MEASURE_UNIQUE_NAME MEASURE_CAPTION MEASURE_GUID MEASURE_AGGREGATOR:int "
            "DATA_TYPE:unsignedShort NUMERIC_PRECISION:unsignedShort NUMERIC_SCALE:short MEASURE_UNITS DESCRIPTION "
            "EXPRESSION MEASURE_IS_VISIBLE:boolean LEVELS_LIST MEASURE_NAME_SQL_COLUMN_NAME "
            "MEASURE_UNQUALIFIED_CAPTION MEASUREGROUP_NAME MEASURE_DISPLAY_FOLDER DEFAULT_FORMAT_STRING"
        ),
        _restrictions(f"{_CUBE_SCOPE} MEASURE_NAME MEASURE_UNIQUE_NAME MEASUREGROUP_NAME CUBE_SOURCE:unsignedShort "
                      "MEASURE_VISIBILITY:unsignedShort"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_MEASUREGROUPS", "E1625EBF-FA96-42FD-BEA6-DB90ADAFD96B", "The measure groups of a cube.",
        _columns(f"{_CUBE_SCOPE} MEASUREGROUP_NAME DESCRIPTION IS_WRITE_ENABLED:boolean MEASUREGROUP_CAPTION"),
        _restrictions(f"{_CUBE_SCOPE} MEASUREGROUP_NAME"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_MEASUREGROUP_DIMENSIONS", "A07CCD33-8148-11D0-87BB-00C04FC33942",
        "Which dimensions each measure group uses.",
        _columns(
            f"{_CUBE_SCOPE} MEASUREGROUP_NAME MEASUREGROUP_CARDINALITY DIMENSION_UNIQUE_NAME DIMENSION_CARDINALITY "
            "DIMENSION_IS_VISIBLE:boolean DIMENSION_IS_FACT_DIMENSION:boolean DIMENSION_PATH DIMENSION_GRANULARITY"
        ),
        _restrictions(f"{_CUBE_SCOPE} MEASUREGROUP_NAME DIMENSION_UNIQUE_NAME DIMENSION_VISIBILITY:unsignedShort"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_MEMBERS", "C8B522DE-5CF3-11CE-ADE5-00AA0044773D", "Members of a cube's hierarchies.",
        _columns(
            f"{_CUBE_SCOPE} DIMENSION_UNIQUE_NAME HIERARCHY_UNIQUE_NAME LEVEL_UNIQUE_NAME LEVEL_NUMBER:unsignedInt "
            "MEMBER_ORDINAL:unsignedInt MEMBER_NAME MEMBER_UNIQUE_NAME MEMBER_TYPE:int MEMBER_GUID MEMBER_CAPTION "
            "CHILDREN_CARDINALITY:unsignedInt PARENT_LEVEL:unsignedInt PARENT_UNIQUE_NAME PARENT_COUNT:unsignedInt "
            "DESCRIPTION EXPRESSION MEMBER_KEY IS_PLACEHOLDERMEMBER:boolean IS_DATAMEMBER:boolean SCOPE:int"
        ),
        _restrictions(f"{_CUBE_SCOPE} DIMENSION_UNIQUE_NAME HIERARCHY_UNIQUE_NAME LEVEL_UNIQUE_NAME "
                      "LEVEL_NUMBER:unsignedInt MEMBER_NAME MEMBER_UNIQUE_NAME MEMBER_TYPE:int TREE_OP:int "
                      "CUBE_SOURCE:unsignedShort"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_PROPERTIES", "C8B522DD-5CF3-11CE-ADE5-00AA0044773D", "Member and cell properties.",
        _columns(
            f"{_CUBE_SCOPE} DIMENSION_UNIQUE_NAME HIERARCHY_UNIQUE_NAME LEVEL_UNIQUE_NAME MEMBER_UNIQUE_NAME "
            "PROPERTY_TYPE:short PROPERTY_NAME PROPERTY_CAPTION DATA_TYPE:unsignedShort "
            "CHARACTER_MAXIMUM_LENGTH:unsignedInt CHARACTER_OCTET_LENGTH:unsignedInt NUMERIC_PRECISION:unsignedShort "
            "NUMERIC_SCALE:short DESCRIPTION PROPERTY_CONTENT_TYPE:short SQL_COLUMN_NAME LANGUAGE:unsignedShort "
            "PROPERTY_ORIGIN:unsignedShort PROPERTY_ATTRIBUTE_HIERARCHY_NAME PROPERTY_CARDINALITY MIME_TYPE "
            "PROPERTY_IS_VISIBLE:boolean"
        ),
        _restrictions(f"{_CUBE_SCOPE} DIMENSION_UNIQUE_NAME HIERARCHY_UNIQUE_NAME LEVEL_UNIQUE_NAME "
                      "MEMBER_UNIQUE_NAME PROPERTY_NAME PROPERTY_TYPE:short PROPERTY_CONTENT_TYPE:short "
                      "PROPERTY_ORIGIN:unsignedShort CUBE_SOURCE:unsignedShort PROPERTY_VISIBILITY:unsignedShort"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_SETS", "A07CCD0B-8148-11D0-87BB-00C04FC33942", "Named sets of a cube (none are defined).",
        _columns(f"{_CUBE_SCOPE} SET_NAME SCOPE:int DESCRIPTION EXPRESSION DIMENSIONS SET_CAPTION "
                 "SET_DISPLAY_FOLDER SET_EVALUATION_CONTEXT:int"),
        _restrictions(f"{_CUBE_SCOPE} SET_NAME SCOPE:int CUBE_SOURCE:unsignedShort HIERARCHY_UNIQUE_NAME"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_KPIS", "2AE44109-ED3D-4842-B16F-B694D1CB0E3F", "Key performance indicators (none are defined).",
        _columns(
            f"{_CUBE_SCOPE} MEASUREGROUP_NAME KPI_NAME KPI_CAPTION KPI_DESCRIPTION KPI_DISPLAY_FOLDER KPI_VALUE "
            "KPI_GOAL KPI_STATUS KPI_TREND KPI_STATUS_GRAPHIC KPI_TREND_GRAPHIC KPI_WEIGHT KPI_CURRENT_TIME_MEMBER "
            "KPI_PARENT_KPI_NAME SCOPE:int"
        ),
        _restrictions(f"{_CUBE_SCOPE} KPI_NAME CUBE_SOURCE:unsignedShort"),
        needs_catalog=True,
    ),
    Rowset(
        "MDSCHEMA_FUNCTIONS", "A07CCD07-8148-11D0-87BB-00C04FC33942", "The MDX functions this server evaluates.",
        _columns("FUNCTION_NAME DESCRIPTION PARAMETER_LIST RETURN_TYPE:int ORIGIN:int INTERFACE_NAME LIBRARY_NAME "
                 "DLL_NAME HELP_FILE HELP_CONTEXT:int OBJECT CAPTION"),
        _restrictions("LIBRARY_NAME INTERFACE_NAME FUNCTION_NAME ORIGIN:int"),
    ),
)

BY_NAME: dict[str, Rowset] = {rowset.name: rowset for rowset in ROWSETS}
