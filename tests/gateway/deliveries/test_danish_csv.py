"""CSV for Danish Excel: separator, BOM, CRLF, decimal comma, and formula injection made inert."""

from __future__ import annotations

import csv
import io

import pytest

from gateway.deliveries.danish_csv import cell_text, csv_bytes, number_text


@pytest.mark.parametrize(
    ("value", "text"),
    [(1072.0, "1072"), (12.5, "12,5"), (-0.25, "-0,25"), (1e-07, "0,0000001"), (32032889, "32032889"),
     (None, ""), (float("nan"), ""), (0.1 + 0.2, "0,30000000000000004")],
)
def test_numbers_have_a_decimal_comma_and_no_thousands_separator(value: float | None, text: str) -> None:
    assert number_text(value) == text


@pytest.mark.parametrize("dangerous", ["=1+1", "+45 1234", "-2+3", "@SUM(A1)", "\t=x", "\r=x", "=HYPERLINK(\"http://x\")"])
def test_text_a_spreadsheet_would_run_as_a_formula_gets_a_leading_quote(dangerous: str) -> None:
    assert cell_text(dangerous) == "'" + dangerous


def test_ordinary_text_and_negative_numbers_are_left_alone() -> None:
    assert cell_text("Sorø") == "Sorø"
    assert cell_text(-5) == "-5"  # a number, not text: stays a number in Excel
    assert cell_text("a=b") == "a=b"


def test_the_file_is_bom_utf8_semicolon_crlf_and_quotes_what_needs_it() -> None:
    data = b"".join(csv_bytes(["Kommune", "Værdi"], [["Sorø; Vest", 1.5], ['Navn "x"', None], ["=cmd", -2]]))
    assert data.startswith(b"\xef\xbb\xbf")
    text = data.decode("utf-8-sig")
    assert text == 'Kommune;Værdi\r\n"Sorø; Vest";1,5\r\n"Navn ""x""";\r\n\'=cmd;-2\r\n'
    assert list(csv.reader(io.StringIO(text, newline=""), delimiter=";"))[1] == ["Sorø; Vest", "1,5"]


def test_large_files_come_in_several_chunks() -> None:
    chunks = list(csv_bytes(["n"], ([i] for i in range(5000))))
    assert len(chunks) > 2
    assert b"".join(chunks).decode("utf-8-sig").count("\r\n") == 5001
