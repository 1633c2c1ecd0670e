"""The one SOAP writer: envelopes, rowsets (Discover, Tabular, DMV), mddatasets and faults.

Responses are built as text with every value escaped here and nowhere else (an answer of a
few thousand cells is written several times faster than through an element tree); the tests
parse every kind with lxml. Characters XML 1.0 cannot carry are dropped, so a caption or a
client's own text can never make a response unreadable.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from gateway.mdx.result import MdxAxis, MdxResult, MemberInfo
from gateway.xmla.soap import SOAP_ENV, XMLA

ROWSET = "urn:schemas-microsoft-com:xml-analysis:rowset"
MDDATASET = "urn:schemas-microsoft-com:xml-analysis:mddataset"
EMPTY = "urn:schemas-microsoft-com:xml-analysis:empty"
XSD = "http://www.w3.org/2001/XMLSchema"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SQL = "urn:schemas-microsoft-com:xml-sql"
ENGINE = "http://schemas.microsoft.com/analysisservices/2003/engine"
FAULT_SOURCE = "dataadgang"

_INVALID_XML = re.compile("[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;"})


def escape(value: object) -> str:
    """Text for an element or a double-quoted attribute."""
    text = str(value)
    if _INVALID_XML.search(text):
        text = _INVALID_XML.sub("", text)
    return text.translate(_ESCAPES)


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a rowset: its name and XSD type (``string``, ``int``, ``boolean``, ...)."""

    name: str
    type: str = "string"
    description: str = ""


# -- envelope --------------------------------------------------------------------------------
def envelope(body: str, *, session_id: str | None = None) -> bytes:
    header = f'<Session xmlns="{XMLA}" SessionId="{escape(session_id)}"/>' if session_id else ""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<soap:Envelope xmlns:soap="{SOAP_ENV}"><soap:Header>{header}</soap:Header>'
        f"<soap:Body>{body}</soap:Body></soap:Envelope>"
    ).encode()


def discover_response(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> str:
    return f'<DiscoverResponse xmlns="{XMLA}"><return>{rowset(columns, rows)}</return></DiscoverResponse>'


def execute_response(content: str) -> str:
    return f'<ExecuteResponse xmlns="{XMLA}"><return>{content}</return></ExecuteResponse>'


def empty_root() -> str:
    """What an Execute without a statement answers (BeginSession, EndSession, keep-alive)."""
    return f'<root xmlns="{EMPTY}"/>'


def fault(code: str, message: str, *, error_code: int) -> bytes:
    """A SOAP 1.1 fault; ``detail/Error`` carries the text as SSAS clients read it (Description)."""
    text = escape(message)
    body = (
        f"<soap:Fault><faultcode>soap:{escape(code)}</faultcode><faultstring>{text}</faultstring>"
        f'<detail><Error ErrorCode="{error_code}" Description="{text}" Source="{FAULT_SOURCE}" HelpFile=""/>'
        "</detail></soap:Fault>"
    )
    return envelope(body)


# -- rowsets ---------------------------------------------------------------------------------
def rowset(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]]) -> str:
    """``<root>`` in the rowset namespace: its XSD schema, then one ``<row>`` per row.

    A column whose value is None is left out of its row (XMLA's way of saying NULL).
    """
    parts = [
        f'<root xmlns="{ROWSET}" xmlns:xsd="{XSD}" xmlns:xsi="{XSI}">',
        _rowset_schema(columns),
    ]
    tags = [(column.name, _xml_name(column.name)) for column in columns]
    for row in rows:
        parts.append("<row>")
        for name, tag in tags:
            value = row.get(name)
            if value is None:
                continue
            if isinstance(value, list | tuple):  # a repeated column (ProviderType, Restrictions)
                parts.extend(_nested(tag, item) for item in value)
            else:
                parts.append(f"<{tag}>{_value_text(value)}</{tag}>")
        parts.append("</row>")
    parts.append("</root>")
    return "".join(parts)


def _nested(tag: str, item: Any) -> str:
    if isinstance(item, Mapping):
        inner = "".join(f"<{_xml_name(k)}>{_value_text(v)}</{_xml_name(k)}>" for k, v in item.items() if v is not None)
        return f"<{tag}>{inner}</{tag}>"
    return f"<{tag}>{_value_text(item)}</{tag}>"


def _rowset_schema(columns: Sequence[Column]) -> str:
    elements = "".join(
        f'<xsd:element sql:field="{escape(c.name)}" name="{_xml_name(c.name)}" type="xsd:{c.type}" minOccurs="0"/>'
        for c in columns
    )
    return (
        f'<xsd:schema targetNamespace="{ROWSET}" xmlns:sql="{SQL}" elementFormDefault="qualified">'
        '<xsd:element name="root"><xsd:complexType><xsd:sequence minOccurs="0" maxOccurs="unbounded">'
        '<xsd:element name="row" type="row"/></xsd:sequence></xsd:complexType></xsd:element>'
        f'<xsd:complexType name="row"><xsd:sequence>{elements}</xsd:sequence></xsd:complexType>'
        "</xsd:schema>"
    )


def _xml_name(name: str) -> str:
    """A column name as an element name, encoded as SQL Server does (``Fra kommune`` → ``Fra_x0020_kommune``)."""
    out = []
    for index, char in enumerate(name):
        ok = char.isalpha() or char == "_" or (index > 0 and (char.isdigit() or char in "-."))
        out.append(char if ok else f"_x{ord(char):04X}_")
    return "".join(out) or "_"


def _value_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).replace(tzinfo=None).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, dt.date):
        return value.isoformat() + "T00:00:00"
    if isinstance(value, float):
        return repr(value) if value == value else "NaN"
    return escape(value)


# -- mddataset -------------------------------------------------------------------------------
# The member properties every tuple member carries, and their XMLA element names and types.
_STANDARD_MEMBER = (("UName", "MEMBER_UNIQUE_NAME", "string"), ("Caption", "MEMBER_CAPTION", "string"),
                    ("LName", "LEVEL_UNIQUE_NAME", "string"), ("LNum", "LEVEL_NUMBER", "int"),
                    ("DisplayInfo", "DISPLAY_INFO", "unsignedInt"))
_STANDARD_NAMES = {"MEMBER_UNIQUE_NAME", "MEMBER_CAPTION", "LEVEL_UNIQUE_NAME", "LEVEL_NUMBER", "DISPLAY_INFO"}
# DIMENSION PROPERTIES a client may ask for beyond the standard ones: (type, value of a member)
_EXTRA_MEMBER_PROPERTIES: dict[str, tuple[str, Any]] = {
    "PARENT_UNIQUE_NAME": ("string", lambda m: m.parent_unique_name),
    "HIERARCHY_UNIQUE_NAME": ("string", lambda m: m.hierarchy_unique_name),  # Excel 2010+ asks on every axis
    "PARENT_LEVEL": ("unsignedInt", lambda m: max(m.level_number - 1, 0) if m.parent_unique_name else None),
    "PARENT_COUNT": ("unsignedInt", lambda m: 1 if m.parent_unique_name else 0),
    "CHILDREN_CARDINALITY": ("unsignedInt", lambda m: m.children_cardinality),
    "MEMBER_NAME": ("string", lambda m: m.caption),
    "MEMBER_KEY": ("string", lambda m: m.key if m.key is not None else m.caption),
    "MEMBER_TYPE": ("int", lambda m: 3 if m.is_measure else 2 if m.is_all else 1),
    "MEMBER_VALUE": ("string", lambda m: m.caption),
}
_CELL_PROPERTIES = {  # name -> (element, xsd type or None when the value's own type is used)
    "VALUE": ("Value", None),
    "FORMATTED_VALUE": ("FmtValue", "string"),
    "FORMAT_STRING": ("FormatString", "string"),
    "CELL_ORDINAL": ("CellOrdinal", "unsignedInt"),
}


def _member_properties(axis: MdxAxis) -> list[tuple[str, str, str]]:
    """(element, property name, xsd type) for each property of the axis' members, standard first."""
    found = list(_STANDARD_MEMBER)
    for asked in axis.properties:
        name = asked.rsplit(".", 1)[-1].strip("[]").upper()
        if name in _STANDARD_NAMES or name not in _EXTRA_MEMBER_PROPERTIES:
            continue
        element = _xml_name(name)
        if all(e != element for e, _, _ in found):
            found.append((element, name, _EXTRA_MEMBER_PROPERTIES[name][0]))
    return found


def mddataset(result: MdxResult) -> str:
    axes = list(result.axes) + ([result.slicer] if result.slicer is not None else [])
    properties = {axis.name: _member_properties(axis) for axis in axes}
    cell_properties = [p for p in result.cell_properties if p in _CELL_PROPERTIES and p != "CELL_ORDINAL"]
    if "VALUE" not in cell_properties:
        cell_properties.insert(0, "VALUE")
    parts = [f'<root xmlns="{MDDATASET}" xmlns:xsd="{XSD}" xmlns:xsi="{XSI}">', "<OlapInfo><CubeInfo><Cube>"]
    parts.append(f"<CubeName>{escape(result.cube)}</CubeName>")
    if result.data_as_of is not None:
        parts.append(f'<LastDataUpdate xmlns="{ENGINE}">{_value_text(result.data_as_of)}</LastDataUpdate>')
    parts.append("</Cube></CubeInfo><AxesInfo>")
    for axis in axes:
        parts.append(f'<AxisInfo name="{axis.name}">')
        for hierarchy in axis.hierarchies:
            unique = escape(hierarchy.unique_name)
            parts.append(f'<HierarchyInfo name="{unique}">')
            for element, name, kind in properties[axis.name]:
                parts.append(f'<{element} name="{unique}.[{name}]" type="xsd:{kind}"/>')
            parts.append("</HierarchyInfo>")
        parts.append("</AxisInfo>")
    parts.append("</AxesInfo><CellInfo>")
    for name in cell_properties:
        element, _ = _CELL_PROPERTIES[name]
        parts.append(f'<{element} name="{name}"/>')
    parts.append("</CellInfo></OlapInfo><Axes>")
    for axis in axes:
        parts.append(f'<Axis name="{axis.name}"><Tuples>')
        chosen = properties[axis.name]
        written: dict[MemberInfo, str] = {}  # a member recurs in many tuples: write it once
        for members in axis.tuples:
            parts.append("<Tuple>")
            for member in members:
                text = written.get(member)
                if text is None:
                    text = written[member] = _member(member, chosen)
                parts.append(text)
            parts.append("</Tuple>")
        parts.append("</Tuples></Axis>")
    parts.append("</Axes><CellData>")
    parts.extend(_cells(result, cell_properties))
    parts.append("</CellData></root>")
    return "".join(parts)


def _member(member: MemberInfo, chosen: list[tuple[str, str, str]]) -> str:
    values = {
        "MEMBER_UNIQUE_NAME": member.unique_name,
        "MEMBER_CAPTION": member.caption,
        "LEVEL_UNIQUE_NAME": member.level_unique_name,
        "LEVEL_NUMBER": member.level_number,
        "DISPLAY_INFO": member.display_info,
    }
    parts = [f'<Member Hierarchy="{escape(member.hierarchy_unique_name)}">']
    for element, name, _ in chosen:
        value = values[name] if name in values else _EXTRA_MEMBER_PROPERTIES[name][1](member)
        if value is not None:
            parts.append(f"<{element}>{escape(value)}</{element}>")
    parts.append("</Member>")
    return "".join(parts)


def _cells(result: MdxResult, cell_properties: list[str]) -> Iterable[str]:
    """Only cells with a value: a client reads a missing ordinal as an empty cell."""
    formatted = "FORMATTED_VALUE" in cell_properties
    format_string = "FORMAT_STRING" in cell_properties
    for cell in result.cells:
        value = cell.value
        if value is None:
            continue
        if isinstance(value, bool) or isinstance(value, int):
            kind = "xsd:int" if -(2**31) <= value < 2**31 else "xsd:long"
            text = str(int(value))
        else:
            kind, text = "xsd:double", repr(float(value))
        out = f'<Cell CellOrdinal="{cell.ordinal}"><Value xsi:type="{kind}">{text}</Value>'
        if formatted:
            out += f"<FmtValue>{escape(cell.formatted_value)}</FmtValue>"
        if format_string:
            out += f"<FormatString>{escape(cell.format_string)}</FormatString>"
        yield out + "</Cell>"


def mddataset_as_rowset(result: MdxResult) -> tuple[list[Column], list[dict[str, Any]]]:
    """``Format=Tabular`` for an MDX query: the flattened rowset SSAS returns.

    One column per row-axis hierarchy (the members' captions) and one per column tuple (the
    cells), named by unique names as SSAS names them (``[Tid].[Tid].[Måned].[MEMBER_CAPTION]``,
    ``[Measures].[Indrejste]``).
    """
    columns_axis = result.axes[0] if result.axes else None
    rows_axis = result.axes[1] if len(result.axes) > 1 else None
    row_tuples = rows_axis.tuples if rows_axis is not None else ((),)
    column_tuples = columns_axis.tuples if columns_axis is not None else ((),)
    columns: list[Column] = []
    if rows_axis is not None:
        for hierarchy in rows_axis.hierarchies:
            columns.append(Column(f"{hierarchy.unique_name}.[MEMBER_CAPTION]"))
    value_names = [".".join(m.unique_name for m in members) or "Value" for members in column_tuples]
    columns.extend(Column(name, "double") for name in value_names)
    rows: list[dict[str, Any]] = []
    width = len(column_tuples)
    for row_index, members in enumerate(row_tuples):
        row: dict[str, Any] = {}
        for hierarchy, member in zip(rows_axis.hierarchies if rows_axis else (), members):
            row[f"{hierarchy.unique_name}.[MEMBER_CAPTION]"] = member.caption
        for column_index, name in enumerate(value_names):
            row[name] = result.cells[row_index * width + column_index].value
        rows.append(row)
    return columns, rows
