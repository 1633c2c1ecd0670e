"""Formatted values: Excel-style format strings, Danish separators."""

from __future__ import annotations

import pytest

from gateway.engine.format import format_value


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
