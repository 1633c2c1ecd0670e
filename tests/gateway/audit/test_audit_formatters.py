"""Client text in the trail cannot forge what an auditor reads: every human form escapes it."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import json
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit import AuditRecord, request_event
from gateway.audit.formatters import TEXT_COLUMNS, csv_cell, escape_text, text_rows, text_table, write_csv, write_jsonl

T0 = dt.datetime(2025, 3, 1, 12, 0, tzinfo=dt.UTC)

# a fake line that would look like a served read of another kommune's database
FORGED_LINE = "2  2025-03-01 12:00:00  komb-fli-prod\\k147_x  execute  FLIS Ukraine-147  served  12  -"

ATTACKS = {
    "newline": "FLIS Ukraine-101\n" + FORGED_LINE,
    "carriage return": "FLIS Ukraine-101\r" + FORGED_LINE,
    "crlf": "x\r\n" + FORGED_LINE,
    "ansi erase line": "FLIS Ukraine-101\x1b[2K\x1b[1G" + FORGED_LINE,
    "ansi colour": "\x1b[32mserved\x1b[0m",
    "line separator": "FLIS Ukraine-101\u2028" + FORGED_LINE,
    "paragraph separator": "FLIS Ukraine-101\u2029" + FORGED_LINE,
    "next line (C1)": "FLIS Ukraine-101\x85" + FORGED_LINE,
    "bidi override": "FLIS Ukraine-\u202e741",
    "bidi isolate": "\u2066FLIS Ukraine-147\u2069",
    "vertical tab / form feed": "a\x0bb\x0cc",
    "backspace": "FLIS Ukraine-147\x08\x08\x08101",
}


def _record(seq: int = 1, **fields: object) -> AuditRecord:
    values: dict[str, object] = {"client_address": "10.0.0.1", "operation": "execute", "outcome": "denied",
                                 "database": "FLIS Ukraine-101", "reason": "r", "time": T0}
    values.update(fields)
    return AuditRecord(seq=seq, event=request_event(None, **values), prev_hash="0" * 64, hash="1" * 64)  # type: ignore[arg-type]


def _is_safe(text: str) -> bool:
    return all(unicodedata.category(c) not in {"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"} for c in text)


@pytest.mark.parametrize("value", ATTACKS.values(), ids=ATTACKS.keys())
def test_escaped_text_has_no_character_that_moves_the_cursor_or_reorders(value: str) -> None:
    escaped = escape_text(value)
    assert _is_safe(escaped)
    assert len(escaped.splitlines()) == 1


@given(st.text())
def test_escaping_any_text_leaves_one_safe_line_and_is_idempotent(value: str) -> None:
    escaped = escape_text(value)
    assert _is_safe(escaped) and len(escaped.splitlines()) <= 1
    assert escape_text(escaped) == escaped


def test_readable_text_passes_unchanged() -> None:
    for value in ("komb-fli-prod\\kl_pri", "FLIS Voksne Handicappede Benchmark", "Ærø Ø å", "a b"):
        assert escape_text(value) == value
    assert escape_text("a\nb\u202ec\x1b") == "a\\nb\\u202ec\\x1b"


@pytest.mark.parametrize("field", ["database", "login", "query", "reason", "client_address", "operation"])
@pytest.mark.parametrize("value", ATTACKS.values(), ids=ATTACKS.keys())
def test_a_text_listing_keeps_one_line_per_event(field: str, value: str) -> None:
    record = _record(**{field: value}) if field != "login" else _record()
    if field == "login":  # a login comes from a principal: set it the way a resolved one would be
        record = dataclasses.replace(record, event=dataclasses.replace(record.event, login=value))
    lines = list(text_table(TEXT_COLUMNS, list(text_rows([record, _record(2)]))))
    assert len(lines) == 3
    assert all(_is_safe(line) for line in lines)
    assert not any(line.startswith("2  2025-03-01 12:00:00  komb-fli-prod") for line in lines)


@pytest.mark.parametrize("value", ["=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1"])
def test_csv_cells_that_would_start_a_formula_are_neutralised(value: str) -> None:
    assert csv_cell(value) == "'" + value
    out = io.StringIO()
    write_csv(out, [_record(database=value, query=value)])
    row = next(csv.DictReader(io.StringIO(out.getvalue())))
    assert row["database"] == "'" + value and row["query"] == "'" + value
    assert row["seq"] == "1" and row["cells"] == ""


def test_the_json_lines_export_is_the_exact_record() -> None:
    value = "".join(ATTACKS.values()) + "\x7f\U000e0001 Ærø"
    out = io.StringIO()
    write_jsonl(out, [_record(database=value)])
    assert len(out.getvalue().splitlines()) == 1 and _is_safe(out.getvalue().rstrip("\n"))
    assert json.loads(out.getvalue())["database"] == value
    assert "Ærø" in out.getvalue()  # readable letters stay as they are
