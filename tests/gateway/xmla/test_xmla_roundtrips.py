"""Round trips shaped as Excel and Power BI send them, translated to our cubes.

The request shapes follow recorded client traffic in open XMLA servers' test suites (Mondrian's
Excel 2007 tests, the Kyligence MDX gateway's recorded Excel queries, olapy's Excel 365
trace): connect-time Discover calls inside a session, a first pivot built with
``DrilldownLevel`` from the All members, a drill down with ``DrilldownMember``, a filter
in ``WHERE``, a subtotal row (the All member), and Power BI's DMV and import queries. Every
answer is parsed with lxml and checked for the elements the client reads; numbers are checked
against the database itself.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from lxml import etree

from tests.gateway.api.api_world import World
from xmla_client import NS, axis_tuples, cells, discover, execute, number

CATALOG = "FLIS Ukraine-101"
EXCEL_CELL_PROPERTIES = "CELL PROPERTIES VALUE, FORMAT_STRING, LANGUAGE, BACK_COLOR, FORE_COLOR, FONT_FLAGS"
EXCEL_PROPERTIES = {"Catalog": CATALOG, "Format": "Multidimensional", "AxisFormat": "TupleFormat",
                    "Content": "SchemaData", "LocaleIdentifier": "1030", "DbpropMsmdSubqueries": "2",
                    "DbpropMsmdMDXCompatibility": "1", "SspropInitAppName": "Microsoft Office 2016"}


@pytest.fixture(scope="module")
def excel(world: World) -> Iterator[httpx.Client]:
    with world.client(world.user("exact101")) as client:
        yield client


def test_connect_time_discovery_as_excel_does_it(world: World, excel: httpx.Client) -> None:
    # Excel's first request: the server's properties, before any session
    properties = discover(excel, "DISCOVER_PROPERTIES", {"PropertyName": ["DBMSVersion", "MdpropMdxSubqueries"]},
                          {"LocaleIdentifier": "1030", "DbpropMsmdSubqueries": "2"})
    assert properties.response.status_code == 200 and properties.fault is None
    assert properties.response.headers["x-transport-caps-negotiation-flags"] == "1,0,0,0,0"
    assert properties.response.headers["content-type"].startswith("text/xml")
    assert {r["PropertyName"] for r in properties.rows()} == {"DBMSVersion", "MdpropMdxSubqueries"}

    begun = execute(excel, "", EXCEL_PROPERTIES, begin=True, caps=True)
    session = begun.session_id
    assert begun.fault is None and session
    assert begun.root.find("soap:Body/x:ExecuteResponse/x:return/{urn:schemas-microsoft-com:xml-analysis:empty}root",
                           NS) is not None

    catalogs = discover(excel, "DBSCHEMA_CATALOGS", {}, EXCEL_PROPERTIES, session=session)
    assert catalogs.session_id == session
    assert CATALOG in [r["CATALOG_NAME"] for r in catalogs.rows()]
    assert "CATALOG_NAME" in catalogs.rowset_columns()

    cubes = discover(excel, "MDSCHEMA_CUBES", {"CATALOG_NAME": CATALOG, "CUBE_SOURCE": "1"}, EXCEL_PROPERTIES,
                     session=session)
    assert [(r["CUBE_NAME"], r["CUBE_TYPE"]) for r in cubes.rows()] == [("Ukraine Statistik", "CUBE")]
    restrict = {"CATALOG_NAME": CATALOG, "CUBE_NAME": "Ukraine Statistik"}
    dimensions = discover(excel, "MDSCHEMA_DIMENSIONS", restrict, EXCEL_PROPERTIES, session=session).rows()
    assert {"[Measures]", "[Køn]", "[Ægtefælle]", "[Fra kommune]"} <= {r["DIMENSION_UNIQUE_NAME"] for r in dimensions}
    assert next(r for r in dimensions if r["DIMENSION_NAME"] == "Tid")["DIMENSION_TYPE"] == "1"  # time
    hierarchies = discover(excel, "MDSCHEMA_HIERARCHIES", {**restrict, "HIERARCHY_ORIGIN": "3"}, EXCEL_PROPERTIES,
                           session=session).rows()
    koen = next(r for r in hierarchies if r["HIERARCHY_UNIQUE_NAME"] == "[Køn].[Køn]")
    assert koen["ALL_MEMBER"] == "[Køn].[Køn].[All]" and koen["DEFAULT_MEMBER"] == "[Køn].[Køn].[All]"
    assert koen["HIERARCHY_CARDINALITY"] == "3"  # All, Kvinde, Mand
    levels = discover(excel, "MDSCHEMA_LEVELS", {**restrict, "HIERARCHY_UNIQUE_NAME": "[Tid].[Tid]"},
                      EXCEL_PROPERTIES, session=session).rows()
    assert [(r["LEVEL_NAME"], r["LEVEL_NUMBER"], r["LEVEL_TYPE"]) for r in levels] == [
        ("(All)", "0", "1"), ("År", "1", "0"), ("Kvartal", "2", "0"), ("Måned", "3", "0"), ("Dag", "4", "0")]
    assert levels[1]["LEVEL_CARDINALITY"] == str(
        int(world.oracle(CATALOG, "select count(distinct aar) from dim_tid")))
    measures = discover(excel, "MDSCHEMA_MEASURES", restrict, EXCEL_PROPERTIES, session=session).rows()
    netto = next(r for r in measures if r["MEASURE_NAME"] == "Nettoindvandring")
    assert netto["MEASURE_AGGREGATOR"] == "127" and netto["DEFAULT_FORMAT_STRING"] and netto["MEASUREGROUP_NAME"]
    groups = discover(excel, "MDSCHEMA_MEASUREGROUP_DIMENSIONS", restrict, EXCEL_PROPERTIES, session=session).rows()
    assert {r["DIMENSION_UNIQUE_NAME"] for r in groups} >= {"[Tid]", "[Køn]"}
    for empty in ("MDSCHEMA_KPIS", "MDSCHEMA_SETS"):
        answer = discover(excel, empty, restrict, EXCEL_PROPERTIES, session=session)
        assert answer.fault is None and answer.rows() == []
    members = discover(excel, "MDSCHEMA_MEMBERS",
                       {**restrict, "MEMBER_UNIQUE_NAME": "[Køn].[Køn].[All]", "TREE_OP": "1"},
                       EXCEL_PROPERTIES, session=session).rows()
    assert [(r["MEMBER_CAPTION"], r["PARENT_UNIQUE_NAME"]) for r in members] == [
        ("Kvinde", "[Køn].[Køn].[All]"), ("Mand", "[Køn].[Køn].[All]")]
    ended = execute(excel, "", EXCEL_PROPERTIES, end=session)
    assert ended.fault is None and ended.session_id is None


def test_first_pivot_has_members_totals_and_grand_total(world: World, excel: httpx.Client) -> None:
    mdx = (
        "SELECT NON EMPTY Hierarchize({DrilldownLevel({[Køn].[Køn].[All]},,,INCLUDE_CALC_MEMBERS)}) "
        "DIMENSION PROPERTIES PARENT_UNIQUE_NAME,HIERARCHY_UNIQUE_NAME ON COLUMNS, "
        "NON EMPTY Hierarchize({DrilldownLevel({[Aldersgruppe].[Aldersgruppe].[All]},,,INCLUDE_CALC_MEMBERS)}) "
        "DIMENSION PROPERTIES PARENT_UNIQUE_NAME,HIERARCHY_UNIQUE_NAME ON ROWS "
        f"FROM [Ukraine Statistik] WHERE ([Measures].[Indrejste]) {EXCEL_CELL_PROPERTIES}"
    )
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    info = md.find("md:OlapInfo/md:AxesInfo/md:AxisInfo[@name='Axis0']/md:HierarchyInfo", NS)
    assert info is not None and info.get("name") == "[Køn].[Køn]"
    assert info.find("md:PARENT_UNIQUE_NAME", NS) is not None  # the property asked for is declared ...
    columns = axis_tuples(md, "Axis0")
    rows = axis_tuples(md, "Axis1")
    assert [t[0]["Caption"] for t in columns] == ["All", "Kvinde", "Mand"]
    assert columns[1][0]["PARENT_UNIQUE_NAME"] == "[Køn].[Køn].[All]"  # ... and carried by every member
    assert columns[0][0]["LNum"] == "0" and columns[1][0]["LNum"] == "1"
    assert int(columns[0][0]["DisplayInfo"]) & 0x10000  # the All member is drilled down: its children follow
    assert rows[0][0]["UName"] == "[Aldersgruppe].[Aldersgruppe].[All]"
    slicer = axis_tuples(md, "SlicerAxis")
    assert any(m["UName"] == "[Measures].[Indrejste]" for m in slicer[0])
    found = cells(md)
    width = len(columns)
    grand = number(found.get(0))
    assert grand == world.oracle(CATALOG, "select sum(indrejst) from haendelser")
    for column, koen in ((1, "K"), (2, "M")):
        expected = world.oracle(CATALOG, f"select coalesce(sum(indrejst), 0) from haendelser where koen = '{koen}'")
        assert (number(found.get(column)) or 0) == expected
    for index, row in enumerate(rows[1:], start=1):
        key = row[0]["UName"].split("&[")[1].rstrip("]")
        expected = world.oracle(CATALOG, f"select coalesce(sum(indrejst), 0) from haendelser where aldersgruppe = '{key}'")
        assert (number(found.get(index * width)) or 0) == expected  # the row's subtotal (All of Køn)
    value = found[0]
    assert value["type"] == "xsd:int" and value["FormatString"] == "#,##0"
    assert md.find("md:OlapInfo/md:CellInfo/md:FormatString", NS) is not None


def test_drill_down_one_year(world: World, excel: httpx.Client) -> None:
    # Excel 2007's form; later versions add ",,,INCLUDE_CALC_MEMBERS" to DrilldownMember as well
    mdx = (
        "SELECT NON EMPTY Hierarchize(DrilldownMember({{DrilldownLevel({[Tid].[Tid].[All]},,,INCLUDE_CALC_MEMBERS)}}, "
        "{[Tid].[Tid].[År].&[2022]})) DIMENSION PROPERTIES PARENT_UNIQUE_NAME,"
        "HIERARCHY_UNIQUE_NAME ON COLUMNS FROM [Ukraine Statistik] WHERE ([Measures].[Indrejste]) " + EXCEL_CELL_PROPERTIES
    )
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    members = [t[0] for t in axis_tuples(md, "Axis0")]
    names = [m["UName"] for m in members]
    year = names.index("[Tid].[Tid].[År].&[2022]")
    quarters = [m for m in members if m.get("PARENT_UNIQUE_NAME") == "[Tid].[Tid].[År].&[2022]"]
    assert quarters and all(m["LNum"] == "2" for m in quarters)
    assert names[year + 1] == quarters[0]["UName"]  # hierarchized: the quarters follow their year
    found = cells(md)
    for index, member in enumerate(members):
        if member["LNum"] == "2":
            key = member["UName"].split("&[")[1].rstrip("]")
            expected = world.oracle(
                CATALOG,
                f"select coalesce(sum(h.indrejst), 0) from haendelser h join dim_tid t on h.dato = t.dato "
                f"where t.kvartal = '{key}'",
            )
            assert (number(found.get(index)) or 0) == expected


def test_filter_in_where_and_subtotals_on_rows(world: World, excel: httpx.Client) -> None:
    mdx = (
        "SELECT {[Measures].[Indrejste], [Measures].[Nettoindvandring]} ON COLUMNS, "
        "NON EMPTY {[Aldersgruppe].[Aldersgruppe].[All], [Aldersgruppe].[Aldersgruppe].[Aldersgruppe].Members} "
        "DIMENSION PROPERTIES PARENT_UNIQUE_NAME ON ROWS "
        "FROM [Ukraine Statistik] WHERE ([Køn].[Køn].&[K]) CELL PROPERTIES VALUE, FORMATTED_VALUE, FORMAT_STRING"
    )
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    rows = axis_tuples(md, "Axis1")
    found = cells(md)
    total = world.oracle(CATALOG, "select coalesce(sum(indrejst), 0) from haendelser where koen = 'K'")
    net = world.oracle(CATALOG, "select coalesce(sum(indrejst) - sum(udrejst), 0) from haendelser where koen = 'K'")
    assert rows[0][0]["Caption"] == "All"
    assert number(found.get(0)) == total and (number(found.get(1)) or 0) == net
    subtotal = sum(number(found.get(2 * i)) or 0 for i in range(1, len(rows)))
    assert subtotal == total  # a sum measure: the All row is the sum of the shown members
    assert found[0]["FmtValue"] and found[0]["FormatString"] == "#,##0"


def test_tabular_format_is_a_rowset(world: World, excel: httpx.Client) -> None:
    mdx = "SELECT {[Measures].[Indrejste]} ON 0, [Køn].[Køn].[Køn].Members ON 1 FROM [Ukraine Statistik]"
    answer = execute(excel, mdx, {"Catalog": CATALOG, "Format": "Tabular"})
    assert answer.fault is None, answer.fault
    rows = answer.rows()
    assert [list(r.values())[0] for r in rows] == ["Kvinde", "Mand"]
    assert sum(float(list(r.values())[1]) for r in rows) == world.oracle(CATALOG, "select sum(indrejst) from haendelser")


def test_power_bi_dmv_and_import_queries(world: World, excel: httpx.Client) -> None:
    """Power BI Desktop (import from an SSAS multidimensional source) lists databases and cubes
    with DMV statements, then imports with a flat MDX query."""
    catalogs = execute(excel, "select [CATALOG_NAME], [DESCRIPTION] from $System.DBSCHEMA_CATALOGS", {})
    assert catalogs.fault is None, catalogs.fault
    assert catalogs.rowset_columns() == ["CATALOG_NAME", "DESCRIPTION"]
    assert CATALOG in [r["CATALOG_NAME"] for r in catalogs.rows()]
    cubes = execute(excel, "SELECT [CUBE_NAME], [CUBE_CAPTION] FROM $system.MDSCHEMA_CUBES WHERE CUBE_SOURCE = 1 "
                           "ORDER BY CUBE_NAME", {"Catalog": CATALOG})
    assert [r["CUBE_NAME"] for r in cubes.rows()] == ["Ukraine Statistik"]
    levels = execute(excel, "SELECT * FROM $system.MDSCHEMA_LEVELS WHERE CUBE_NAME = 'Ukraine Statistik' "
                            "AND HIERARCHY_UNIQUE_NAME = '[Køn].[Køn]'", {"Catalog": CATALOG})
    assert [r["LEVEL_NAME"] for r in levels.rows()] == ["(All)", "Køn"]
    mdx = (
        "SELECT NON EMPTY {[Measures].[Indrejste], [Measures].[Udrejste]} ON 0, "
        "NON EMPTY {[Tid].[Tid].[Måned].ALLMEMBERS * [Køn].[Køn].[Køn].ALLMEMBERS} "
        "DIMENSION PROPERTIES MEMBER_CAPTION, MEMBER_UNIQUE_NAME ON 1 FROM [Ukraine Statistik] CELL PROPERTIES VALUE"
    )
    imported = execute(excel, mdx, {"Catalog": CATALOG, "Format": "Multidimensional"})
    assert imported.fault is None, imported.fault
    md = imported.mddataset()
    rows = axis_tuples(md, "Axis1")
    assert rows and all(len(t) == 2 for t in rows)
    found = cells(md)
    assert sum(number(found.get(2 * i)) or 0 for i in range(len(rows))) == world.oracle(
        CATALOG, "select sum(indrejst) from haendelser")


def test_danish_letters_round_trip(world: World, excel: httpx.Client) -> None:
    mdx = "SELECT {[Measures].[Indrejste]} ON 0, [Ægtefælle].[Ja/Nej Ægtefælle].[Ja/Nej Ægtefælle].Members ON 1 FROM [Ukraine Statistik]"
    answer = execute(excel, mdx, {"Catalog": CATALOG})
    assert answer.fault is None, answer.fault
    assert "Ægtefælle".encode() in answer.response.content  # UTF-8 on the wire, not escaped
    md = answer.mddataset()
    rows = axis_tuples(md, "Axis1")
    assert {t[0]["Hierarchy"] for t in rows} == {"[Ægtefælle].[Ja/Nej Ægtefælle]"}
    assert etree.fromstring(answer.response.content) is not None


def test_filter_as_excel_2010_writes_it_with_a_subselect(world: World, excel: httpx.Client) -> None:
    """Excel's label filter / slicer on Aldersgruppe while Køn is on columns: a subselect."""
    mdx = (
        "SELECT NON EMPTY Hierarchize({DrilldownLevel({[Køn].[Køn].[All]},,,INCLUDE_CALC_MEMBERS)}) "
        "DIMENSION PROPERTIES PARENT_UNIQUE_NAME,HIERARCHY_UNIQUE_NAME ON COLUMNS "
        "FROM (SELECT ({[Aldersgruppe].[Aldersgruppe].&[0-17], [Aldersgruppe].[Aldersgruppe].&[18-29]}) ON COLUMNS "
        f"FROM [Ukraine Statistik]) WHERE ([Measures].[Indrejste]) {EXCEL_CELL_PROPERTIES}"
    )
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    columns = axis_tuples(md, "Axis0")
    found = cells(md)
    where = "aldersgruppe in ('0-17', '18-29')"
    assert number(found.get(0)) == world.oracle(CATALOG, f"select sum(indrejst) from haendelser where {where}")
    for index, member in enumerate(columns[1:], start=1):
        koen = member[0]["UName"].split("&[")[1].rstrip("]")
        expected = world.oracle(
            CATALOG, f"select coalesce(sum(indrejst), 0) from haendelser where {where} and koen = '{koen}'")
        assert (number(found.get(index)) or 0) == expected


def test_an_unsupported_construct_is_named_in_the_fault(excel: httpx.Client) -> None:
    mdx = "SELECT StrToSet(\"[Køn].[Køn].Members\") ON 0 FROM [Ukraine Statistik]"
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.response.status_code == 200
    assert answer.fault == "The MDX construct 'StrToSet' is not supported."


def test_the_demos_xmla_example_gives_the_pivot_with_totals_and_the_denial(world: World, excel: httpx.Client) -> None:
    from gateway.demo import example_xmla_body
    from xmla_client import DENIAL, post

    answer = post(excel, example_xmla_body(), action="Execute")
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    assert [t[0]["Caption"] for t in axis_tuples(md, "Axis0")] == ["All", "Kvinde", "Mand"]
    assert axis_tuples(md, "Axis1")[0][0]["Caption"] == "All"
    net = world.oracle(CATALOG, "select sum(indrejst) - sum(udrejst) from haendelser")
    assert number(cells(md).get(0)) == net  # the grand total
    denied = post(excel, example_xmla_body("FLIS Ukraine-147"), action="Execute")
    assert denied.fault == DENIAL.format(login=world.user("exact101").login, database="FLIS Ukraine-147")


def test_expand_one_member_as_excel_2013_writes_it(excel: httpx.Client) -> None:
    """Excel 2010 and later: DrilldownMember with empty optional arguments and INCLUDE_CALC_MEMBERS."""
    mdx = (
        "SELECT NON EMPTY Hierarchize(DrilldownMember({{DrilldownLevel({[Tid].[Tid].[All]},,,INCLUDE_CALC_MEMBERS)}}, "
        "{[Tid].[Tid].[År].&[2022]},,,INCLUDE_CALC_MEMBERS)) DIMENSION PROPERTIES PARENT_UNIQUE_NAME,"
        "HIERARCHY_UNIQUE_NAME ON COLUMNS  FROM [Ukraine Statistik] WHERE ([Measures].[Indrejste]) " + EXCEL_CELL_PROPERTIES
    )
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.fault is None, answer.fault
    members = [t[0] for t in axis_tuples(answer.mddataset(), "Axis0")]
    names = [m["UName"] for m in members]
    year = names.index("[Tid].[Tid].[År].&[2022]")
    assert members[year + 1]["PARENT_UNIQUE_NAME"] == "[Tid].[Tid].[År].&[2022]" and members[year + 1]["LNum"] == "2"
    assert members[year]["HIERARCHY_UNIQUE_NAME"] == "[Tid].[Tid]"
    assert all(m["LNum"] == "1" for m in members if m.get("PARENT_UNIQUE_NAME") == "[Tid].[Tid].[All]")


def test_expand_entire_field_on_nested_rows_as_excel_2013_writes_it(world: World, excel: httpx.Client) -> None:
    """"Expand entire field" on years with Køn nested: DrilldownMember with a target hierarchy."""
    mdx = (
        "SELECT {[Measures].[Indrejste]} DIMENSION PROPERTIES PARENT_UNIQUE_NAME,HIERARCHY_UNIQUE_NAME ON COLUMNS , "
        "NON EMPTY Hierarchize(DrilldownMember(CrossJoin({[Tid].[Tid].[All],[Tid].[Tid].[År].AllMembers}, "
        "{([Køn].[Køn].[All])}), [Tid].[Tid].[År].AllMembers, [Køn].[Køn],,INCLUDE_CALC_MEMBERS)) "
        "DIMENSION PROPERTIES PARENT_UNIQUE_NAME,HIERARCHY_UNIQUE_NAME ON ROWS  FROM [Ukraine Statistik] " + EXCEL_CELL_PROPERTIES
    )
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    rows = [(t[0]["UName"], t[1]["UName"]) for t in axis_tuples(md, "Axis1")]
    assert rows[0] == ("[Tid].[Tid].[All]", "[Køn].[Køn].[All]")
    assert ("[Tid].[Tid].[All]", "[Køn].[Køn].&[K]") not in rows  # the grand total row is not drilled
    found = cells(md)
    years = [tid for tid, koen in rows if koen == "[Køn].[Køn].[All]" and tid != "[Tid].[Tid].[All]"]
    assert years
    for year in years:
        under = [koen for tid, koen in rows if tid == year]
        assert under[0] == "[Køn].[Køn].[All]" and len(under) > 1  # the year's total, then its Køn members
    for index, (tid, koen) in enumerate(rows[1:], start=1):
        conditions = [f"t.aar = {tid.split('&[')[1].rstrip(']')}"]
        if "&[" in koen:
            conditions.append(f"h.koen = '{koen.split('&[')[1].rstrip(']')}'")
        expected = world.oracle(
            CATALOG,
            "select coalesce(sum(h.indrejst), 0) from haendelser h join dim_tid t on h.dato = t.dato where "
            + " and ".join(conditions),
        )
        assert (number(found.get(index)) or 0) == expected


@pytest.mark.parametrize("properties", [EXCEL_PROPERTIES, {"Format": "Multidimensional"}], ids=["catalog", "none"])
def test_from_may_name_the_connections_own_database(world: World, excel: httpx.Client,
                                                    properties: dict[str, str]) -> None:
    mdx = f"SELECT {{[Measures].[Indrejste]}} ON COLUMNS FROM [{CATALOG}].[Ukraine Statistik] {EXCEL_CELL_PROPERTIES}"
    answer = execute(excel, mdx, properties)
    assert answer.fault is None, answer.fault
    assert number(cells(answer.mddataset()).get(0)) == world.oracle(CATALOG, "select sum(indrejst) from haendelser")


def test_filter_list_queries_read_the_all_level_with_member_types(excel: httpx.Client) -> None:
    """Excel fills a field's filter list from the All level's members and the All member's children."""
    all_level = execute(excel, "SELECT {AddCalculatedMembers({[Køn].[Køn].[(All)].Members})} DIMENSION PROPERTIES "
                               "MEMBER_TYPE ON COLUMNS FROM [Ukraine Statistik] CELL PROPERTIES CELL_ORDINAL", EXCEL_PROPERTIES)
    assert all_level.fault is None, all_level.fault
    members = [t[0] for t in axis_tuples(all_level.mddataset(), "Axis0")]
    assert [(m["UName"], m["MEMBER_TYPE"]) for m in members] == [("[Køn].[Køn].[All]", "2")]
    children = execute(excel, "SELECT {AddCalculatedMembers({[Køn].[Køn].[All].Children})} DIMENSION PROPERTIES "
                              "MEMBER_TYPE ON COLUMNS FROM [Ukraine Statistik] CELL PROPERTIES CELL_ORDINAL", EXCEL_PROPERTIES)
    assert children.fault is None, children.fault
    found = [t[0] for t in axis_tuples(children.mddataset(), "Axis0")]
    assert [(m["Caption"], m["MEMBER_TYPE"]) for m in found] == [("Kvinde", "1"), ("Mand", "1")]


def test_filter_list_search_counts_children_for_the_tree(excel: httpx.Client) -> None:
    """Searching a filter list: the matching members with their ancestors, and each one's child count."""
    mdx = ("WITH MEMBER [Measures].cChildren As 'AddCalculatedMembers([Køn].[Køn].currentmember.children).count' "
           "Set FilteredMembers As '{[Køn].[Køn].&[K]}' Select {[Measures].cChildren} on ROWS, "
           "Hierarchize(Generate(FilteredMembers, Ascendants([Køn].[Køn].currentmember))) "
           "DIMENSION PROPERTIES PARENT_UNIQUE_NAME, MEMBER_TYPE ON COLUMNS FROM [Ukraine Statistik]")
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    members = [t[0] for t in axis_tuples(md, "Axis0")]
    assert [(m["UName"], m["MEMBER_TYPE"]) for m in members] == [("[Køn].[Køn].[All]", "2"), ("[Køn].[Køn].&[K]", "1")]
    assert "PARENT_UNIQUE_NAME" not in members[0] and members[1]["PARENT_UNIQUE_NAME"] == "[Køn].[Køn].[All]"
    found = cells(md)
    assert (number(found.get(0)), number(found.get(1))) == (2, 0)


def test_top_n_value_filter_as_excel_writes_it(world: World, excel: httpx.Client) -> None:
    """Excel's "Top 2 by Indrejste" on age groups: Generate over inline-named sets in a subselect."""
    mdx = (
        "SELECT NON EMPTY Hierarchize({DrilldownLevel({[Aldersgruppe].[Aldersgruppe].[All]},,,INCLUDE_CALC_MEMBERS)}) "
        "DIMENSION PROPERTIES PARENT_UNIQUE_NAME,HIERARCHY_UNIQUE_NAME ON COLUMNS  FROM (SELECT Generate("
        "Hierarchize({[Aldersgruppe].[Aldersgruppe].[All]}) AS [XL_Filter_Set_0], TopCount(Filter(Except(DrilldownLevel("
        "[XL_Filter_Set_0].Current AS [XL_Filter_HelperSet_0], , 0), [XL_Filter_HelperSet_0]), Not IsEmpty("
        "[Measures].[Indrejste])), 2, [Measures].[Indrejste])) ON COLUMNS  FROM [Ukraine Statistik] WHERE ([Measures].[Indrejste])) "
        f"WHERE ([Measures].[Indrejste]) {EXCEL_CELL_PROPERTIES}"
    )
    answer = execute(excel, mdx, EXCEL_PROPERTIES)
    assert answer.fault is None, answer.fault
    md = answer.mddataset()
    members = [t[0] for t in axis_tuples(md, "Axis0")]
    found = cells(md)
    shown = {m["UName"].split("&[")[1].rstrip("]"): number(found.get(i)) for i, m in enumerate(members) if "&[" in m["UName"]}
    assert len(shown) == 2 and members[0]["UName"] == "[Aldersgruppe].[Aldersgruppe].[All]"
    assert number(found.get(0)) == sum(v or 0 for v in shown.values())  # the total of what is shown
    for key, value in shown.items():
        assert value == world.oracle(CATALOG, f"select sum(indrejst) from haendelser where aldersgruppe = '{key}'")
    others = ", ".join(f"'{k}'" for k in shown)
    highest_other = world.oracle(
        CATALOG, f"select coalesce(max(s), 0) from (select sum(indrejst) s from haendelser where aldersgruppe not in "
                 f"({others}) group by aldersgruppe) t")
    assert all((v or 0) >= highest_other for v in shown.values())
