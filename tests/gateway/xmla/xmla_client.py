"""Requests shaped as XMLA clients send them, and lxml readers for the answers.

The envelopes follow what MSOLAP (Excel, Power BI Desktop) puts on the wire: a SOAP 1.1
envelope, the XMLA namespace on Discover/Execute, session headers with mustUnderstand, the
engine namespace's Version header, and PropertyList/RestrictionList in the body.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

import httpx
from lxml import etree

SOAP = "http://schemas.xmlsoap.org/soap/envelope/"
XMLA = "urn:schemas-microsoft-com:xml-analysis"
ROWSET = "urn:schemas-microsoft-com:xml-analysis:rowset"
MDDATASET = "urn:schemas-microsoft-com:xml-analysis:mddataset"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
NS = {"soap": SOAP, "x": XMLA, "r": ROWSET, "md": MDDATASET, "xsi": XSI}
DENIAL = "Either the user, '{login}', does not have access to the '{database}' database, or the database does not exist."


def header(*, begin: bool = False, session: str | None = None, end: str | None = None, caps: bool = False) -> str:
    parts = ['<Version Sequence="922" xmlns="http://schemas.microsoft.com/analysisservices/2003/engine/2"/>']
    if begin:
        parts.append(f'<BeginSession soap:mustUnderstand="1" xmlns="{XMLA}"/>')
    if session:
        parts.append(f'<Session SessionId="{escape(session)}" soap:mustUnderstand="1" xmlns="{XMLA}"/>')
    if end:
        parts.append(f'<EndSession SessionId="{escape(end)}" soap:mustUnderstand="1" xmlns="{XMLA}"/>')
    if caps:
        parts.append('<ProtocolCapabilities xmlns="http://schemas.microsoft.com/analysisservices/2003/engine">'
                     "<Capability>sx</Capability><Capability>xpress</Capability></ProtocolCapabilities>")
    return "".join(parts)


def _list(tag: str, values: Mapping[str, str | Sequence[str]]) -> str:
    out = []
    for name, value in values.items():
        for item in [value] if isinstance(value, str) else value:
            out.append(f"<{name}>{escape(item)}</{name}>")
    return f"<{tag}>{''.join(out)}</{tag}>"


def discover_body(request_type: str, restrictions: Mapping[str, str | Sequence[str]] | None = None,
                  properties: Mapping[str, str] | None = None, **head: object) -> str:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Header>{header(**head)}</soap:Header><soap:Body>'  # type: ignore[arg-type]
        f'<Discover xmlns="{XMLA}"><RequestType>{request_type}</RequestType>'
        f"<Restrictions>{_list('RestrictionList', restrictions or {})}</Restrictions>"
        f"<Properties>{_list('PropertyList', properties or {})}</Properties></Discover></soap:Body></soap:Envelope>"
    )


def execute_body(statement: str, properties: Mapping[str, str] | None = None, **head: object) -> str:
    return (
        f'<soap:Envelope xmlns:soap="{SOAP}"><soap:Header>{header(**head)}</soap:Header><soap:Body>'  # type: ignore[arg-type]
        f'<Execute xmlns="{XMLA}"><Command><Statement>{escape(statement)}</Statement></Command>'
        f"<Properties>{_list('PropertyList', properties or {})}</Properties><Parameters/></Execute>"
        "</soap:Body></soap:Envelope>"
    )


@dataclass
class Answer:
    response: httpx.Response
    root: etree._Element

    @property
    def fault(self) -> str | None:
        found = self.root.find("soap:Body/soap:Fault", NS)
        return None if found is None else found.findtext("faultstring")

    @property
    def fault_description(self) -> str | None:
        error = self.root.find("soap:Body/soap:Fault/detail/Error", NS)
        return None if error is None else error.get("Description")

    @property
    def session_id(self) -> str | None:
        found = self.root.find("soap:Header/x:Session", NS)
        return None if found is None else found.get("SessionId")

    def rows(self) -> list[dict[str, str]]:
        """The rowset of a Discover (or Tabular/DMV Execute) answer: one dict per row."""
        rows = self.root.findall(".//r:root/r:row", NS)
        assert rows is not None
        return [{etree.QName(c).localname: (c.text or "") for c in row} for row in rows]

    def rowset_columns(self) -> list[str]:
        schema_rows = self.root.findall(
            ".//r:root/{http://www.w3.org/2001/XMLSchema}schema/{http://www.w3.org/2001/XMLSchema}complexType"
            "[@name='row']/{http://www.w3.org/2001/XMLSchema}sequence/{http://www.w3.org/2001/XMLSchema}element",
            NS,
        )
        return [e.get("name") for e in schema_rows]

    def mddataset(self) -> etree._Element:
        found = self.root.find("soap:Body/x:ExecuteResponse/x:return/md:root", NS)
        assert found is not None, etree.tostring(self.root)[:2000]
        return found


def post(client: httpx.Client, body: str, *, path: str = "/xmla", action: str = "Discover") -> Answer:
    response = client.post(
        path,
        content=body.encode(),
        headers={
            "content-type": "text/xml",
            "SOAPAction": f'"urn:schemas-microsoft-com:xml-analysis:{action}"',
            "X-Transport-Caps-Negotiation-Flags": "0,1,1,1,1",
            "User-Agent": "MSOLAP",
        },
    )
    root = etree.fromstring(response.content)
    assert root.tag == f"{{{SOAP}}}Envelope", response.text[:500]
    assert root.find("soap:Body", NS) is not None
    return Answer(response, root)


def discover(client: httpx.Client, request_type: str, restrictions: Mapping[str, str | Sequence[str]] | None = None,
             properties: Mapping[str, str] | None = None, **head: object) -> Answer:
    return post(client, discover_body(request_type, restrictions, properties, **head))


def execute(client: httpx.Client, statement: str, properties: Mapping[str, str] | None = None,
            **head: object) -> Answer:
    return post(client, execute_body(statement, properties, **head), action="Execute")


def axis_tuples(md: etree._Element, name: str) -> list[list[dict[str, str]]]:
    """The tuples of one axis of an mddataset: per tuple, per member, its properties."""
    axis = md.find(f"md:Axes/md:Axis[@name='{name}']", NS)
    assert axis is not None, f"no axis {name}"
    return [
        [{etree.QName(p).localname: (p.text or "") for p in member} | {"Hierarchy": member.get("Hierarchy", "")}
         for member in tuple_]
        for tuple_ in axis.findall("md:Tuples/md:Tuple", NS)
    ]


def cells(md: etree._Element) -> dict[int, dict[str, str]]:
    """Ordinal -> the cell's properties (``Value`` also with its ``type``); missing ordinals are empty."""
    found: dict[int, dict[str, str]] = {}
    for cell in md.findall("md:CellData/md:Cell", NS):
        properties = {etree.QName(p).localname: (p.text or "") for p in cell}
        value = cell.find("md:Value", NS)
        if value is not None:
            properties["type"] = value.get(f"{{{XSI}}}type", "")
        found[int(cell.get("CellOrdinal"))] = properties
    return found


def number(cell: dict[str, str] | None) -> float | None:
    return None if cell is None or "Value" not in cell else float(cell["Value"])
