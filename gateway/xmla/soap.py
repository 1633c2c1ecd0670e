"""Read one XMLA SOAP request: the envelope, its session headers and the Discover/Execute body.

lxml parses with entities, DTDs and network access off, so a request cannot make the server
read a file, call a URL or expand a billion laughs; the body size is bounded before it is
read (the endpoint's job). Everything a client can get wrong here is an :class:`XmlaClientError`
whose text is safe to show.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from lxml import etree

SOAP_ENV = "http://schemas.xmlsoap.org/soap/envelope/"
XMLA = "urn:schemas-microsoft-com:xml-analysis"
# SSAS's own header extensions (Version, ProtocolCapabilities, ...): read or ignored, never refused
ENGINE_NAMESPACES = frozenset(
    {
        "http://schemas.microsoft.com/analysisservices/2003/engine",
        "http://schemas.microsoft.com/analysisservices/2003/engine/2",
        "http://schemas.microsoft.com/analysisservices/2003/engine/2/2",
        "http://schemas.microsoft.com/analysisservices/2003/engine/3",
    }
)
MAX_RESTRICTION_VALUES = 100

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, dtd_validation=False, huge_tree=False, remove_comments=True
)


class XmlaClientError(Exception):
    """The request is not a usable XMLA request; the text names what is wrong."""

    def __init__(self, message: str, *, code: str = "Client") -> None:
        super().__init__(message)
        self.code = code  # the SOAP faultcode's local part: Client, MustUnderstand, VersionMismatch


@dataclass(frozen=True, slots=True)
class SessionHeader:
    """What the request says about its XMLA session."""

    begin: bool = False  # <BeginSession/>: open one and answer with its id
    session_id: str | None = None  # <Session SessionId="..."/>: continue it
    end_id: str | None = None  # <EndSession SessionId="..."/>: close it


@dataclass(frozen=True, slots=True)
class XmlaRequest:
    method: Literal["Discover", "Execute"]
    session: SessionHeader
    properties: Mapping[str, str]  # PropertyList, names as sent (XMLA property names are case-sensitive)
    request_type: str | None = None  # Discover: DISCOVER_..., MDSCHEMA_..., DBSCHEMA_...
    restrictions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)  # Discover
    statement: str | None = None  # Execute: the MDX or DMV text ('' for the empty statement)


def parse_request(body: bytes) -> XmlaRequest:
    if not body.strip():
        raise XmlaClientError("The request body is empty; send a SOAP envelope with Discover or Execute.")
    try:
        root = etree.fromstring(body, _PARSER)
    except etree.XMLSyntaxError as error:
        raise XmlaClientError(f"The request is not well-formed XML: {_first_line(str(error))}") from None
    if root.tag != f"{{{SOAP_ENV}}}Envelope":
        if etree.QName(root).localname == "Envelope":
            raise XmlaClientError("Only SOAP 1.1 envelopes are understood.", code="VersionMismatch")
        raise XmlaClientError("The request is not a SOAP envelope.")
    header = root.find(f"{{{SOAP_ENV}}}Header")
    body_element = root.find(f"{{{SOAP_ENV}}}Body")
    if body_element is None:
        raise XmlaClientError("The SOAP envelope has no Body.")
    session = _read_header(header)
    calls = [child for child in body_element if isinstance(child.tag, str)]
    if len(calls) != 1:
        raise XmlaClientError("The SOAP Body must hold exactly one Discover or Execute element.")
    call = calls[0]
    if call.tag == f"{{{XMLA}}}Discover":
        request_type = _text(call.find(f"{{{XMLA}}}RequestType"))
        if not request_type:
            raise XmlaClientError("Discover has no RequestType.")
        return XmlaRequest(
            method="Discover",
            session=session,
            properties=_properties(call),
            request_type=request_type.strip(),
            restrictions=_restrictions(call),
        )
    if call.tag == f"{{{XMLA}}}Execute":
        command = call.find(f"{{{XMLA}}}Command")
        statement_element = command.find(f"{{{XMLA}}}Statement") if command is not None else None
        if command is not None and statement_element is None and any(isinstance(c.tag, str) for c in command):
            name = etree.QName(next(c for c in command if isinstance(c.tag, str))).localname
            raise XmlaClientError(f"The command '{name}' is not supported: this server only reads (Statement).")
        return XmlaRequest(
            method="Execute",
            session=session,
            properties=_properties(call),
            statement=_text(statement_element) if statement_element is not None else "",
        )
    raise XmlaClientError(f"'{etree.QName(call).localname}' is not an XMLA method; use Discover or Execute.")


def _read_header(header: etree._Element | None) -> SessionHeader:
    """The session headers. SSAS's own headers (Version, ProtocolCapabilities offering binary XML
    or compression) are accepted and need no answer: every response says plain XML."""
    begin = False
    session_id = end_id = None
    if header is None:
        return SessionHeader()
    for element in header:
        if not isinstance(element.tag, str):
            continue
        name = etree.QName(element)
        if name.namespace == XMLA and name.localname == "BeginSession":
            begin = True
        elif name.namespace == XMLA and name.localname == "Session":
            session_id = _session_id(element, "Session")
        elif name.namespace == XMLA and name.localname == "EndSession":
            end_id = _session_id(element, "EndSession")
        elif name.namespace in ENGINE_NAMESPACES:
            continue
        elif _must_understand(element):
            raise XmlaClientError(f"The SOAP header '{name.localname}' is marked mustUnderstand and is not understood.",
                                  code="MustUnderstand")
    return SessionHeader(begin=begin, session_id=session_id, end_id=end_id)


def _must_understand(element: etree._Element) -> bool:
    return (element.get(f"{{{SOAP_ENV}}}mustUnderstand") or "").strip() in ("1", "true")


def _session_id(element: etree._Element, name: str) -> str:
    value = (element.get("SessionId") or "").strip()
    if not value:
        raise XmlaClientError(f"The {name} header has no SessionId.")
    return value


def _properties(call: etree._Element) -> dict[str, str]:
    properties: dict[str, str] = {}
    container = call.find(f"{{{XMLA}}}Properties")
    if container is None:
        return properties
    for property_list in container:
        if not isinstance(property_list.tag, str):
            continue
        for element in property_list:
            if isinstance(element.tag, str):
                properties[etree.QName(element).localname] = _text(element)
    return properties


def _restrictions(call: etree._Element) -> dict[str, tuple[str, ...]]:
    """Each restriction's values; a name given more than once means any of its values."""
    found: dict[str, list[str]] = {}
    container = call.find(f"{{{XMLA}}}Restrictions")
    if container is None:
        return {}
    for restriction_list in container:
        if not isinstance(restriction_list.tag, str):
            continue
        for element in restriction_list:
            if not isinstance(element.tag, str):
                continue
            values = found.setdefault(etree.QName(element).localname, [])
            nested = [c for c in element if isinstance(c.tag, str)]  # <Value>..</Value> lists
            values.extend(_text(c) for c in nested) if nested else values.append(_text(element))
            if len(values) > MAX_RESTRICTION_VALUES:
                raise XmlaClientError(f"The restriction '{etree.QName(element).localname}' has too many values.")
    return {name: tuple(values) for name, values in found.items()}


def _text(element: etree._Element | None) -> str:
    if element is None:
        return ""
    return "".join(element.itertext())


def _first_line(text: str) -> str:
    return text.splitlines()[0][:200] if text else "syntax error"
