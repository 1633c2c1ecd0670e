"""What the server says about itself in the DISCOVER_* rowsets: properties, enumerations,
keywords, literals and the MDX functions it evaluates. Data only."""

from __future__ import annotations

from dataclasses import dataclass

DATA_SOURCE_NAME = "dataadgang"
DATA_SOURCE_DESCRIPTION = "dataadgang: kommunernes data over XMLA (SOAP), MDX og GraphQL"
PROVIDER_NAME = "dataadgang XMLA"
# What MSOLAP and ADOMD.NET read to choose an MDX dialect: SQL Server 2008 R2 Analysis Services.
DBMS_VERSION = "10.50.1600.1"


@dataclass(frozen=True, slots=True)
class Property:
    name: str
    type: str
    access: str
    value: str
    description: str


PROPERTIES: tuple[Property, ...] = (
    Property("Catalog", "string", "ReadWrite", "", "The database (catalog) the request reads."),
    Property("Format", "string", "Write", "Native", "Tabular, Multidimensional or Native."),
    Property("AxisFormat", "string", "Write", "TupleFormat", "How an mddataset lays out its axes (TupleFormat)."),
    Property("Content", "string", "Write", "SchemaData", "None, Schema, Data or SchemaData."),
    Property("LocaleIdentifier", "unsignedInt", "ReadWrite", "1030", "Accepted; captions are Danish whatever is asked."),
    Property("DataSourceInfo", "string", "ReadWrite", DATA_SOURCE_NAME, "The data source (see DISCOVER_DATASOURCES)."),
    Property("Timeout", "unsignedInt", "ReadWrite", "0", "Accepted; the server's own query timeout applies."),
    Property("BeginRange", "int", "Write", "-1", "Accepted; every cell is returned."),
    Property("EndRange", "int", "Write", "-1", "Accepted; every cell is returned."),
    Property("ProviderName", "string", "Read", PROVIDER_NAME, "The provider's name."),
    Property("ProviderVersion", "string", "Read", DBMS_VERSION, "The provider's version."),
    Property("DBMSVersion", "string", "Read", DBMS_VERSION, "The server version clients choose a dialect by."),
    Property("StateSupport", "string", "Read", "Sessions", "BeginSession, Session and EndSession are supported."),
    # SSAS 2008's subselect level (filters and slicers as Excel writes them); the MDX engine binds them
    Property("MdpropMdxSubqueries", "int", "Read", "15", "Subselects (FROM (SELECT ...)) as Excel writes filters."),
    Property("DbpropMsmdSubqueries", "int", "ReadWrite", "1", "Accepted; the client's choice is echoed."),
    Property("MdpropMdxDrillFunctions", "int", "Read", "3", "DrilldownLevel and DrilldownMember."),
    Property("DbpropMsmdMDXCompatibility", "int", "ReadWrite", "1", "Accepted."),
    Property("ShowHiddenCubes", "boolean", "ReadWrite", "false", "Accepted; no cube is hidden."),
    Property("SspropInitAppName", "string", "ReadWrite", "", "Accepted: the client's name."),
    Property("ClientProcessID", "unsignedInt", "ReadWrite", "", "Accepted."),
)


@dataclass(frozen=True, slots=True)
class Enumeration:
    name: str
    description: str
    type: str
    elements: tuple[tuple[str, str, str], ...]  # (element name, value, description)


ENUMERATORS: tuple[Enumeration, ...] = (
    Enumeration("ProviderType", "The kinds of data the provider serves.", "string",
                (("TDP", "0", "Tabular data provider."), ("MDP", "1", "Multidimensional data provider."))),
    Enumeration("AuthenticationMode", "How clients are authenticated.", "string",
                (("Authenticated", "1", "A client certificate issued by dataadgang (mutual TLS)."),)),
    Enumeration("PropertyAccessType", "How a property may be used.", "string",
                (("Read", "1", "Read only."), ("Write", "2", "Write only."), ("ReadWrite", "3", "Read and write."))),
    Enumeration("StateSupport", "Session support.", "string",
                (("None", "0", "No sessions."), ("Sessions", "1", "BeginSession, Session, EndSession."))),
    Enumeration("TreeOp", "MDSCHEMA_MEMBERS TREE_OP values.", "int",
                (("MDTREEOP_CHILDREN", "1", "Children."), ("MDTREEOP_SIBLINGS", "2", "Siblings."),
                 ("MDTREEOP_PARENT", "4", "Parent."), ("MDTREEOP_SELF", "8", "The member itself."),
                 ("MDTREEOP_DESCENDANTS", "16", "Descendants."), ("MDTREEOP_ANCESTORS", "32", "Ancestors."))),
)

KEYWORDS: tuple[str, ...] = (
    "AND", "AS", "ASC", "AXIS", "BASC", "BDESC", "CELL", "CHAPTERS", "COLUMNS", "DESC", "DIMENSION", "EMPTY",
    "FROM", "IS", "MEMBER", "NON", "NOT", "ON", "OR", "PAGES", "PROPERTIES", "ROWS", "SECTIONS", "SELECT",
    "SET", "WHERE", "WITH", "XOR",
)

# (name, value, invalid characters, invalid starting characters, max length, OLE DB enum value)
LITERALS: tuple[tuple[str, str, str, str, int, int], ...] = (
    ("DBLITERAL_CATALOG_NAME", "", ".", "0123456789", 100, 2),
    ("DBLITERAL_CATALOG_SEPARATOR", ".", "", "", 1, 3),
    ("DBLITERAL_COLUMN_ALIAS", "", "'\"[]", "0123456789", -1, 5),
    ("DBLITERAL_COLUMN_NAME", "", ".", "0123456789", -1, 6),
    ("DBLITERAL_CORRELATION_NAME", "", "'\"[]", "0123456789", -1, 7),
    ("DBLITERAL_CUBE_NAME", "", ".", "0123456789", -1, 21),
    ("DBLITERAL_DIMENSION_NAME", "", ".", "0123456789", -1, 22),
    ("DBLITERAL_HIERARCHY_NAME", "", ".", "0123456789", -1, 23),
    ("DBLITERAL_LEVEL_NAME", "", ".", "0123456789", -1, 24),
    ("DBLITERAL_MEMBER_NAME", "", ".", "0123456789", -1, 25),
    ("DBLITERAL_PROPERTY_NAME", "", ".", "0123456789", -1, 26),
    ("DBLITERAL_QUOTE_PREFIX", "[", "", "", -1, 15),
    ("DBLITERAL_QUOTE_SUFFIX", "]", "", "", -1, 28),
)

# (name, interface, parameters, description): the MDX the parser and engine evaluate
FUNCTIONS: tuple[tuple[str, str, str, str], ...] = (
    ("Members", "Hierarchy", "", "The members of a hierarchy or level."),
    ("AllMembers", "Hierarchy", "", "The members of a hierarchy or level, calculated members included."),
    ("Children", "Member", "", "The members one level down."),
    ("Descendants", "Set", "Member_Expression[, Level_Expression[, Desc_Flag]]", "Descendants of a member."),
    ("Ascendants", "Set", "Member_Expression", "A member and its ancestors."),
    ("CrossJoin", "Set", "Set_Expression1, Set_Expression2", "Every combination of two sets (also written *)."),
    ("Hierarchize", "Set", "Set_Expression[, POST]", "A set in hierarchy order."),
    ("DrilldownLevel", "Set", "Set_Expression[, Level_Expression]", "A set with the next level's members added."),
    ("DrilldownMember", "Set", "Set_Expression1, Set_Expression2", "A set with the children of chosen members added."),
    ("AddCalculatedMembers", "Set", "Set_Expression", "A set with calculated members added."),
    ("Except", "Set", "Set_Expression1, Set_Expression2", "The members of the first set not in the second."),
    ("Filter", "Set", "Set_Expression, Logical_Expression", "The members for which a simple comparison holds."),
    ("TopCount", "Set", "Set_Expression, Count[, Numeric_Expression]", "The first members by a measure."),
    ("Order", "Set", "Set_Expression, Numeric_Expression[, ASC | DESC | BASC | BDESC]", "A set in a measure's order."),
    ("VisualTotals", "Set", "Set_Expression", "Totals of only the members shown (filtered pivots)."),
)

# (cell property, OLE DB type, description)
CELL_PROPERTIES: tuple[tuple[str, int, str], ...] = (
    ("VALUE", 12, "The cell's value."),
    ("FORMATTED_VALUE", 130, "The value as text, formatted with FORMAT_STRING (Danish separators)."),
    ("FORMAT_STRING", 130, "The Excel-style format string."),
    ("CELL_ORDINAL", 19, "The cell's position in the cell set."),
)
