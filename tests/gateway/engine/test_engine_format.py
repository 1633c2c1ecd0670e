"""Formatted values: Excel-style format strings, Danish separators."""

from __future__ import annotations

import pytest

from gateway.engine.format import format_value, formatter


@pytest.mark.parametrize(
    ("value", "fmt", "expected"),
    [
        (1234.5, "#,##0.0", "1.234,5"),
        (1234567, "#,##0", "1.234.567"),
        (-1234, "#,##0", "-1.234"),
        (107 / 90, "#,##0.00", "1,19"),
        (0.125, "0.0%", "12,5%"),
        (2.5, "#,##0", "3"),  # half away from zero, as Excel
        (-2.5, "#,##0", "-3"),
        (0.5, "#.##", ",5"),
        (3, "0.00", "3,00"),
        (1.5, "0.0#", "1,5"),
        (1.256, "0.0#", "1,26"),
        (-4, "#,##0;(#,##0)", "(4)"),
        (0, "#,##0;-#,##0;\"ingen\"", "ingen"),
        (1500000, "#,##0.0,, \"mio.\"", "1,5 mio."),
        (42, "0 \"kr.\"", "42 kr."),
        (1234.5, "Standard", "1.234,50"),
        (1234.5, "General", "1234,5"),
        (7, "", "7"),
        (-0.001, "0.00", "0,00"),
        (None, "#,##0", ""),
    ],
)
def test_format_value(value: float | int | None, fmt: str, expected: str) -> None:
    assert format_value(value, fmt) == expected


FORMATS = ["#,##0", "#,###", "0", "000", "#,##0.0", "#,##0.00", "0.0%", "#,##0;(#,##0)", '#,##0;-#,##0;"ingen"',
           '#,##0.0,, "mio."', '0 "kr."', '"ca. "#,##0', "Standard", "General", "", "00,000"]
VALUES = [0, 1, -1, 7, 12, 999, 1000, -1000, 1234567, -1234567, 10**15, 0.0, 2.5, -2.5, 1234.5, 107 / 90, None]


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_formatter_made_once_writes_what_format_value_writes(fmt: str) -> None:
    """The cell set formats through a parsed-once formatter (with a fast path for whole numbers):
    it must write exactly what format_value writes, for every kind of value."""
    write = formatter(fmt)
    for value in VALUES:
        assert write(value) == format_value(value, fmt), (value, fmt)
