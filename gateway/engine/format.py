"""Formatted cell values: Excel-style format strings, written with Danish separators.

The model states formats the way Excel and SSAS do (``#,##0``, ``#,##0.00``, ``0.0%``,
``pos;neg;zero`` sections, ``"quoted"`` and ``\\x`` literals); here ``,`` means "group
thousands" and ``.`` the decimal point, and the output uses ``.`` for thousands and ``,`` for
decimals as a Danish reader expects: ``1.234,5``. Rounding is half away from zero, as in Excel.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache, partial

THOUSANDS = "."
DECIMAL = ","
NAMED = {"standard": "#,##0.00", "fixed": "0.00", "percent": "0.00%"}
_PLACEHOLDERS = "0#?"


@dataclass(frozen=True, slots=True)
class _Section:
    prefix: str
    suffix: str
    min_integer_digits: int
    grouping: bool
    min_decimals: int
    max_decimals: int
    percent: bool
    scale_thousands: int  # trailing commas: each divides by 1,000
    has_digits: bool = True  # False for a text-only section ("ingen")


def format_value(value: int | float | None, format_string: str) -> str:
    """``value`` written as ``format_string`` says; empty text for an empty cell."""
    if value is None:
        return ""
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return str(value)
    name = (format_string or "").strip()
    if name.casefold() in ("", "general"):
        return _general(value)
    sections = _sections(NAMED.get(name.casefold(), name))
    number = Decimal(value) if isinstance(value, int) else Decimal(str(value))
    if number < 0 and len(sections) >= 2:
        return _render(sections[1], -number, sign="")
    if number == 0 and len(sections) >= 3:
        return _render(sections[2], number, sign="")
    return _render(sections[0], abs(number), sign="-" if number < 0 else "")


@lru_cache(maxsize=256)
def formatter(format_string: str) -> Callable[[int | float | None], str]:
    """:func:`format_value` for one format string, parsed once: a cell set formats hundreds of
    values with a handful of formats. Whole numbers in a plain one-section format (``#,##0``,
    the common count) go straight to the digits; everything else takes the general path."""
    name = (format_string or "").strip()
    if name.casefold() in ("", "general"):
        return partial(format_value, format_string=format_string)
    sections = _sections(NAMED.get(name.casefold(), name))
    first = sections[0]
    if len(sections) == 1 and first.has_digits and not first.percent and not first.scale_thousands:
        return partial(_whole_or_general, section=first, format_string=format_string)
    return partial(format_value, format_string=format_string)


def _whole_or_general(value: int | float | None, *, section: _Section, format_string: str) -> str:
    if type(value) is not int:
        return format_value(value, format_string)
    if section.grouping and section.min_integer_digits <= 1 and not section.min_decimals:
        digits = f"{value:,}".replace(",", THOUSANDS)  # what _render_whole writes, at C speed
        return ("-" if value < 0 else "") + section.prefix + digits.lstrip("-") + section.suffix
    return _render_whole(section, -value if value < 0 else value, sign="-" if value < 0 else "")


def _general(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    text = f"{value:.10g}"
    if "e" in text:
        return text.replace(".", DECIMAL)
    return text.replace(".", DECIMAL)


def _render(section: _Section, number: Decimal, *, sign: str) -> str:
    if not section.has_digits:
        return section.prefix
    if section.has_digits and not section.percent and not section.scale_thousands and _is_whole(number):
        return _render_whole(section, int(number), sign=sign)
    if section.percent:
        number *= 100
    if section.scale_thousands:
        number /= Decimal(1000) ** section.scale_thousands
    rounded = number.quantize(Decimal(1).scaleb(-section.max_decimals), rounding=ROUND_HALF_UP)
    if rounded == 0:
        sign = ""
    text = f"{rounded:f}"
    integer, _, fraction = text.partition(".")
    integer = integer.lstrip("0")
    integer = integer.rjust(section.min_integer_digits, "0")
    if section.grouping:
        integer = _group(integer)
    fraction = fraction[: section.max_decimals]
    while len(fraction) > section.min_decimals and fraction.endswith("0"):
        fraction = fraction[:-1]
    body = integer + (DECIMAL + fraction if fraction else "")
    return sign + section.prefix + (body or "0") + section.suffix


def _group(integer: str) -> str:
    """Digits in groups of three from the right: ``1234567`` → ``1.234.567``."""
    head = len(integer) % 3 or 3
    return THOUSANDS.join([integer[:head], *(integer[i : i + 3] for i in range(head, len(integer), 3))])


def _is_whole(number: Decimal) -> bool:
    return number == number.to_integral_value()


def _render_whole(section: _Section, number: int, *, sign: str) -> str:
    """Fast path for whole numbers (most cells): no rounding needed."""
    if number == 0:
        sign = ""
    integer = str(number) if number else ""
    integer = integer.rjust(section.min_integer_digits, "0")
    if section.grouping:
        integer = _group(integer)
    body = integer + (DECIMAL + "0" * section.min_decimals if section.min_decimals else "")
    return sign + section.prefix + (body or "0") + section.suffix


@lru_cache(maxsize=256)
def _sections(format_string: str) -> tuple[_Section, ...]:
    return tuple(_parse_section(part) for part in _split(format_string, ";"))


def _tokens(text: str) -> list[tuple[str, str]]:
    """(kind, text): 'lit' for literal text, 'sym' for a format symbol."""
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(text):
        char = text[position]
        if char == '"':
            end = text.find('"', position + 1)
            end = len(text) if end < 0 else end
            tokens.append(("lit", text[position + 1 : end]))
            position = end + 1
        elif char == "\\" and position + 1 < len(text):
            tokens.append(("lit", text[position + 1]))
            position += 2
        elif char in _PLACEHOLDERS + ",.%;":
            tokens.append(("sym", char))
            position += 1
        else:
            tokens.append(("lit", char))
            position += 1
    return tokens


def _split(text: str, separator: str) -> list[str]:
    parts, current, quoted = [], [], False
    for char in text:
        if char == '"':
            quoted = not quoted
        if char == separator and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
    parts.append("".join(current))
    return parts


def _parse_section(text: str) -> _Section:
    tokens = _tokens(text)
    places = [i for i, (kind, char) in enumerate(tokens) if kind == "sym" and char in _PLACEHOLDERS]
    percent = any(kind == "sym" and char == "%" for kind, char in tokens)
    if not places:
        literal = "".join(char for kind, char in tokens if kind == "lit" or char == "%")
        return _Section(literal, "", 1, False, 0, 0, percent, 0, has_digits=False)
    first, last = places[0], places[-1]
    prefix = "".join(char for kind, char in tokens[:first] if kind == "lit" or char == "%")
    trailing = tokens[last + 1 :]
    scale = 0
    while scale < len(trailing) and trailing[scale] == ("sym", ","):
        scale += 1
    suffix = "".join(char for kind, char in trailing[scale:] if kind == "lit" or char == "%")
    pattern = [char for kind, char in tokens[first : last + 1] if kind == "sym"]
    integer_part, fraction_part = pattern, []
    if "." in pattern:
        point = pattern.index(".")
        integer_part, fraction_part = pattern[:point], pattern[point + 1 :]
    return _Section(
        prefix=prefix,
        suffix=suffix,
        min_integer_digits=integer_part.count("0"),
        grouping="," in integer_part,
        min_decimals=fraction_part.count("0"),
        max_decimals=sum(fraction_part.count(c) for c in _PLACEHOLDERS),
        percent=percent,
        scale_thousands=scale,
    )
