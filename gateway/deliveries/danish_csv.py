"""CSV as Excel in a Danish locale opens it by double-click, and as KL Databank publishes it.

- Delimiter ``;``: Danish Windows has ``,`` as the decimal separator, so Excel's list separator
  (what it splits a double-clicked ``.csv`` on) is ``;``. A ``,``-separated file opens as one
  column there, and a tab-separated ``.csv`` is not split at all.
- Encoding UTF-8 *with* a byte-order mark: without it Excel reads the file as Windows-1252 and
  shows ``Udtr\u00c3\u00a6ksdato`` for ``Udtræksdato``; with it both Excel and every CSV library
  (``utf-8-sig``) read æøå right. Lines end in CRLF (RFC 4180).
- Numbers: decimal comma, no thousands separator (``1072``, ``12,5``), what Danish Excel parses
  as a number. Dates ``dd-mm-yyyy`` (the KL Databank layout).
- Text cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab, CR)
  get a leading ``'`` (OWASP's advice against CSV injection). Numbers are never text here, so
  a negative number stays a number.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal

BOM = "\ufeff"
DELIMITER = ";"
LINE_END = "\r\n"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
ROWS_PER_CHUNK = 2000

Cell = str | int | float | None


def number_text(value: int | float | None) -> str:
    """``1072.0`` -> ``1072``; ``12.5`` -> ``12,5``; None -> empty (an empty cell)."""
    if value is None:
        return ""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return ""
        if value.is_integer():
            return str(int(value))
        return format(Decimal(repr(value)), "f").replace(".", ",")
    return str(value)


def text_cell(value: str) -> str:
    """A text cell made inert: a leading ``'`` when a spreadsheet would read a formula."""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def cell_text(value: Cell) -> str:
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, bool):
        return str(int(value))
    return number_text(value)


def csv_chunks(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[str]:
    """The whole file as text chunks (BOM and header first), a few thousand rows at a time."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=DELIMITER, lineterminator=LINE_END, quoting=csv.QUOTE_MINIMAL)
    buffer.write(BOM)
    writer.writerow([text_cell(name) for name in header])
    for count, row in enumerate(rows, start=1):
        writer.writerow([cell_text(value) for value in row])
        if count % ROWS_PER_CHUNK == 0:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[Cell]]) -> Iterator[bytes]:
    for chunk in csv_chunks(header, rows):
        yield chunk.encode("utf-8")
