"""The audit trail as people and other programs read it: text, CSV and JSON lines.

Client text reaches the trail verbatim (a database name, a query, a login from a certificate),
so every human-readable form escapes it here, once: a newline, carriage return, ANSI escape,
Unicode line or paragraph separator or bidi override inside a value could otherwise draw a
fake line or reorder what an auditor sees. Escapes are ``\\n``, ``\\r``, ``\\t``, ``\\xNN``
and ``\\uNNNN``. CSV is read by spreadsheets, so a text value that would start a formula
(``=``, ``+``, ``-``, ``@``, tab, carriage return) gets a leading ``'``. JSON lines are the
exact record once parsed (every unsafe character written as a JSON escape), for machines and for
recomputing hashes.
"""

from __future__ import annotations

import csv
import json
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from typing import IO

from gateway.audit.events import EXPORT_COLUMNS, AuditRecord

EXPORT_FORMATS = ("csv", "jsonl")

# Unicode categories never shown raw: controls, format characters (bidi overrides, zero-width
# joiners, the Arabic letter mark), line and paragraph separators, surrogates, private use, unassigned
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
_NAMED_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

TEXT_COLUMNS = ("SEQ", "TIME (UTC)", "LOGIN", "OPERATION", "DATABASE", "OUTCOME", "CELLS", "REASON")


def escape_text(value: str) -> str:
    """``value`` with every character that could move the cursor, start a line or reorder text escaped."""
    if value.isprintable():
        return value
    return "".join(_escape_char(char) for char in value)


def _escape_char(char: str) -> str:
    if char in _NAMED_ESCAPES:
        return _NAMED_ESCAPES[char]
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def display(value: object) -> str:
    """One value as a human-readable cell: ``-`` for none, escaped text otherwise."""
    if value is None:
        return "-"
    return escape_text(str(value))


def text_rows(records: Iterable[AuditRecord]) -> Iterator[tuple[str, ...]]:
    """The rows of ``audit list`` (and of any other human view of the trail), every cell escaped."""
    for record in records:
        event = record.event
        yield (
            str(record.seq),
            f"{event.time:%Y-%m-%d %H:%M:%S}",
            display(event.login),
            display(event.operation),
            display(event.database),
            display(event.outcome),
            display(event.cells),
            display(event.reason),
        )


def csv_cell(value: object) -> str:
    """A CSV cell a spreadsheet shows as text, never evaluates."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return str(value) if not isinstance(value, str) else value


def write_csv(out: IO[str], records: Iterable[AuditRecord]) -> int:
    writer = csv.writer(out, lineterminator="\n", quoting=csv.QUOTE_ALL)  # a bare CR inside a value stays inside it
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for record in records:
        document = record.as_dict()
        writer.writerow([csv_cell(document[column]) for column in EXPORT_COLUMNS])
        count += 1
    return count


def json_line(record: AuditRecord) -> str:
    """One record as one line of JSON: exact once parsed, and safe to print (JSON escapes the
    C0 controls itself; DEL, C1 controls, separators and bidi controls are escaped here too)."""
    text = json.dumps(record.as_dict(), ensure_ascii=False, separators=(",", ":"))
    return text if text.isprintable() else "".join(_json_escape_char(char) for char in text)


def _json_escape_char(char: str) -> str:
    if unicodedata.category(char) not in _UNSAFE_CATEGORIES:
        return char
    code = ord(char)
    if code < 0x10000:
        return f"\\u{code:04x}"
    code -= 0x10000  # outside the BMP: JSON spells it as a surrogate pair
    return f"\\u{0xD800 + (code >> 10):04x}\\u{0xDC00 + (code & 0x3FF):04x}"


def write_jsonl(out: IO[str], records: Iterable[AuditRecord]) -> int:
    count = 0
    for record in records:
        out.write(json_line(record) + "\n")
        count += 1
    return count


def write_export(out: IO[str], records: Iterable[AuditRecord], *, format: str) -> int:
    """Write ``records`` as CSV or JSON lines; return how many."""
    if format not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {format!r}; use csv or jsonl")
    return (write_csv if format == "csv" else write_jsonl)(out, records)


def text_table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> Iterator[str]:
    """Aligned plain-text lines; cells are escaped (again: escaping is idempotent)."""
    materialised = [tuple(escape_text(str(cell)) for cell in row) for row in (header, *rows)]
    widths = [max(len(row[i]) for row in materialised) for i in range(len(header))]
    for row in materialised:
        yield "  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip()
