"""MDX as Excel PivotTables and Power BI send it, translated to the engine fixture's cubes.

The shapes follow recorded client traffic kept in open XMLA servers' test suites (Kyligence
mdx-kylin ``semantic-mdx/mdx/src/test/resources/query``: Excel's first pivot, drill-down by
DrilldownLevel/DrilldownMember, filters sent as nested subselects, slicers, top-N) and the
statement Power BI's import mode builds over an Analysis Services source. Names, keys and
cube are ours; the structure, keywords, spacing and CELL PROPERTIES lists are the clients'.
"""

from __future__ import annotations

CELL_PROPERTIES = "CELL PROPERTIES VALUE, FORMAT_STRING, LANGUAGE, BACK_COLOR, FORE_COLOR, FONT_FLAGS"

# A new pivot: one field on columns, the measure in the WHERE clause.
FIRST_PIVOT = f"""SELECT NON EMPTY Hierarchize(AddCalculatedMembers({{DrilldownLevel({{[Køn].[Køn].[All]}})}}))
DIMENSION PROPERTIES PARENT_UNIQUE_NAME,HIERARCHY_UNIQUE_NAME ON COLUMNS
FROM [Ukraine] WHERE ([Measures].[Indrejste]) {CELL_PROPERTIES}"""

# Two measures crossed with a field on columns, time drilled to quarters on rows, and a filter
# on a field that is not shown (Excel sends it as a subselect).
FILTERED_PIVOT = f"""SELECT
  NON EMPTY CrossJoin(Hierarchize(AddCalculatedMembers({{DrilldownLevel({{[Køn].[Køn].[All]}})}})), {{[Measures].[Indrejste],[Measures].[Udrejste]}}) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON COLUMNS ,
  NON EMPTY Hierarchize(AddCalculatedMembers({{DrilldownLevel({{DrilldownLevel({{[Tid].[Tid].[All]}})}},[Tid].[Tid].[År])}})) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON ROWS
FROM (
  SELECT
    ({{[Aldersgruppe].[Aldersgruppe].&[voksen], [Aldersgruppe].[Aldersgruppe].&[barn]}}) ON COLUMNS
  FROM [Ukraine]
)
{CELL_PROPERTIES}"""

# Expanding one year ("+" in the pivot), with a filter on time that mixes months and a quarter.
DRILL_DOWN = f"""SELECT
  NON EMPTY Hierarchize(AddCalculatedMembers(DrilldownMember(
    {{{{DrilldownLevel({{[Tid].[Tid].[All]}})}}}},
    {{[Tid].[Tid].[År].&[2022]}}
  ))) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON COLUMNS
FROM (
  SELECT
    ({{[Tid].[Tid].[Måned].&[2022-01],
      [Tid].[Tid].[Måned].&[2022-02],
      [Tid].[Tid].[Kvartal].&[2022-K2]}}
    ) ON COLUMNS
  FROM [Ukraine]
)
WHERE ([Measures].[Indrejste])
{CELL_PROPERTIES}"""

# Three fields crossjoined on rows with subtotals, and two nested subselect filters.
SUBTOTALS = f"""SELECT
  {{[Measures].[Indrejste],[Measures].[Nettotilvækst],[Measures].[Akkumuleret tilvækst]}} DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON COLUMNS ,
  NON EMPTY CrossJoin(
    CrossJoin(
      Hierarchize(AddCalculatedMembers({{DrilldownLevel({{[Tid].[Tid].[All]}})}})),
      Hierarchize(AddCalculatedMembers({{DrilldownLevel({{[Køn].[Køn].[All]}})}}))),
    Hierarchize(AddCalculatedMembers({{DrilldownLevel({{[Ægtefælle].[Ægtefælle].[All]}})}}))
  ) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON ROWS
FROM (
  SELECT
    ({{[Aldersgruppe].[Aldersgruppe].&[voksen], [Aldersgruppe].[Aldersgruppe].&[barn]}}) ON COLUMNS
  FROM (
    SELECT
      ({{[Til kommune].[Til kommune].[Kommune].&[101], [Til kommune].[Til kommune].[Kommune].&[999]}}) ON COLUMNS
    FROM [Ukraine]
  )
) {CELL_PROPERTIES}"""

# Power BI's import mode over an Analysis Services source.
POWER_BI_IMPORT = """SELECT NON EMPTY { [Measures].[Indrejste], [Measures].[Udrejste] } ON COLUMNS, NON EMPTY { ([Tid].[Tid].[Måned].ALLMEMBERS * [Køn].[Køn].[Køn].ALLMEMBERS ) } DIMENSION PROPERTIES MEMBER_CAPTION, MEMBER_UNIQUE_NAME ON ROWS FROM [Ukraine] CELL PROPERTIES VALUE, BACK_COLOR, FORE_COLOR, FORMATTED_VALUE, FORMAT_STRING, FONT_NAME, FONT_SIZE, FONT_FLAGS"""

# Excel's "Top 2" value filter: a Generate over sets named inline (`AS [XL_Filter_Set_0]`) and the
# current tuple of that walk (`[XL_Filter_Set_0].Current`).
TOP_N_FILTER = f"""SELECT
  NON EMPTY Hierarchize(AddCalculatedMembers({{DrilldownLevel({{[Aldersgruppe].[Aldersgruppe].[All]}})}})) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON COLUMNS
FROM (
  SELECT
    Generate(
      Hierarchize({{[Aldersgruppe].[Aldersgruppe].[All]}}) AS [XL_Filter_Set_0],
      TopCount(Filter(Except(DrilldownLevel([XL_Filter_Set_0].Current AS [XL_Filter_HelperSet_0], , 0), [XL_Filter_HelperSet_0]), Not IsEmpty([Measures].[Indrejste])), 2, [Measures].[Indrejste])
    ) ON COLUMNS
  FROM [Ukraine]
  WHERE ([Measures].[Indrejste])
)
WHERE ([Measures].[Indrejste])
{CELL_PROPERTIES}"""

# Excel's label filter ("ends with 01") on quarters, sent as Filter over captions: no quarter's
# caption ends so.
LABEL_FILTER = f"""SELECT
  NON EMPTY Hierarchize(AddCalculatedMembers({{DrilldownLevel({{[Tid].[Tid].[All]}})}})) DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON COLUMNS
FROM (
  SELECT
    Filter([Tid].[Tid].[Kvartal].Members, (Right([Tid].[Tid].CurrentMember.member_caption,2)="01")) ON COLUMNS
  FROM [Ukraine]
)
{CELL_PROPERTIES}"""

# The same label filter, "begins with 2": the second quarter only.
LABEL_FILTER_BEGINS = LABEL_FILTER.replace("Right(", "Left(").replace(',2)="01"', ',1)="2"')

ALL_SHAPES = {
    "first pivot": FIRST_PIVOT,
    "filtered pivot": FILTERED_PIVOT,
    "drill down": DRILL_DOWN,
    "subtotals": SUBTOTALS,
    "power bi import": POWER_BI_IMPORT,
    "top n filter": TOP_N_FILTER,
    "label filter": LABEL_FILTER,
}

# -- Excel 2010 and later -------------------------------------------------------------------------
# From Excel 2010 on, every drill function carries INCLUDE_CALC_MEMBERS after empty optional
# arguments, and the axes ask for HIERARCHY_UNIQUE_NAME too. Shapes from recorded Excel
# 2013/2016 traffic published with open XMLA servers and clients (Kyligence mdx-kylin's rewrite
# cases, an AtScale XMLA script, a DAX drill-through parser's test suite of Excel PivotTable MDX).
EXCEL_CELL_PROPERTIES = "CELL PROPERTIES VALUE, FORMAT_STRING, LANGUAGE, BACK_COLOR, FORE_COLOR, FONT_FLAGS"
EXCEL_DIMENSION_PROPERTIES = "DIMENSION PROPERTIES PARENT_UNIQUE_NAME,HIERARCHY_UNIQUE_NAME"

# A new pivot: one field on columns, a measure in the values area.
EXCEL2013_FIRST_PIVOT = f"""SELECT NON EMPTY Hierarchize({{DrilldownLevel({{[Køn].[Køn].[All]}},,,INCLUDE_CALC_MEMBERS)}}) {EXCEL_DIMENSION_PROPERTIES} ON COLUMNS  FROM [Ukraine] WHERE ([Measures].[Indrejste]) {EXCEL_CELL_PROPERTIES}"""

# "+" on one year.
EXCEL2013_EXPAND_MEMBER = f"""SELECT NON EMPTY Hierarchize(DrilldownMember({{{{DrilldownLevel({{[Tid].[Tid].[All]}},,,INCLUDE_CALC_MEMBERS)}}}}, {{[Tid].[Tid].[År].&[2022]}},,,INCLUDE_CALC_MEMBERS)) {EXCEL_DIMENSION_PROPERTIES} ON COLUMNS  FROM [Ukraine] WHERE ([Measures].[Indrejste]) {EXCEL_CELL_PROPERTIES}"""

# "Expand entire field" on the outer of two nested row fields: every year gets the inner field's
# members, named by the target hierarchy argument.
EXCEL2013_EXPAND_ALL = f"""SELECT NON EMPTY Hierarchize({{DrilldownLevel({{[Aldersgruppe].[Aldersgruppe].[All]}},,,INCLUDE_CALC_MEMBERS)}}) {EXCEL_DIMENSION_PROPERTIES} ON COLUMNS , NON EMPTY Hierarchize(DrilldownMember(CrossJoin({{[Tid].[Tid].[All],[Tid].[Tid].[År].AllMembers}}, {{([Køn].[Køn].[All])}}), [Tid].[Tid].[År].AllMembers, [Køn].[Køn],,INCLUDE_CALC_MEMBERS)) {EXCEL_DIMENSION_PROPERTIES} ON ROWS  FROM [Ukraine] WHERE ([Measures].[Indrejste]) {EXCEL_CELL_PROPERTIES}"""

# A report filter on age (two items ticked), sent as a subselect; Hierarchize(..., POST) as Excel
# writes it for a field whose subtotals are shown at the bottom.
EXCEL2013_FILTER = f"""SELECT NON EMPTY Hierarchize({{DrilldownLevel({{[Køn].[Køn].[All]}},,,INCLUDE_CALC_MEMBERS)}}, POST) {EXCEL_DIMENSION_PROPERTIES} ON COLUMNS  FROM (SELECT ({{[Aldersgruppe].[Aldersgruppe].&[voksen],[Aldersgruppe].[Aldersgruppe].&[barn]}}) ON COLUMNS  FROM [Ukraine]) WHERE ([Measures].[Udrejste]) {EXCEL_CELL_PROPERTIES}"""

EXCEL2013_SHAPES = {
    "first pivot": EXCEL2013_FIRST_PIVOT,
    "expand member": EXCEL2013_EXPAND_MEMBER,
    "expand all": EXCEL2013_EXPAND_ALL,
    "filter": EXCEL2013_FILTER,
}

# What Excel asks while filling a field's filter list: the All level's members, then the All
# member's children, each with the member type (shapes from a recorded Excel trace of another
# open XMLA server's test suite).
EXCEL_FILTER_LIST_ALL = "SELECT {AddCalculatedMembers({[Køn].[Køn].[(All)].Members})} DIMENSION PROPERTIES MEMBER_TYPE ON COLUMNS FROM [Ukraine] CELL PROPERTIES CELL_ORDINAL"
EXCEL_FILTER_LIST_CHILDREN = "SELECT {AddCalculatedMembers({[Køn].[Køn].[All].Children})} DIMENSION PROPERTIES MEMBER_TYPE ON COLUMNS FROM [Ukraine] CELL PROPERTIES CELL_ORDINAL"

# Searching a field's filter list: how many children each shown member has, for the tree.
EXCEL_FILTER_LIST_CHILD_COUNT = "WITH MEMBER [Measures].cChildren As 'AddCalculatedMembers([Tid].[Tid].currentmember.children).count' Set FilteredMembers As '{[Tid].[Tid].[Måned].&[2022-02], [Tid].[Tid].[Måned].&[2022-03]}' Select {[Measures].cChildren} on ROWS, Hierarchize(Generate(FilteredMembers, Ascendants([Tid].[Tid].currentmember))) DIMENSION PROPERTIES PARENT_UNIQUE_NAME, MEMBER_TYPE ON COLUMNS FROM [Ukraine]"

ALL_SHAPES.update({f"excel 2013 {name}": text for name, text in EXCEL2013_SHAPES.items()})
ALL_SHAPES.update({
    "excel filter list all level": EXCEL_FILTER_LIST_ALL,
    "excel filter list children": EXCEL_FILTER_LIST_CHILDREN,
    "excel filter list child count": EXCEL_FILTER_LIST_CHILD_COUNT,
    "label filter begins": LABEL_FILTER_BEGINS,
})
