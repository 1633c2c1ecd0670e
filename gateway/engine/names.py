"""XMLA unique names: ``[Tid].[Tid].[Måned].&[2022-03]`` parsed into parts, and formatted back.

Parsing only splits text; it never decides what a name means. Meaning comes from looking the
parts up in the cube model (``plan.py``), so a name that is not in the model is simply unknown.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache

from gateway.errors import QueryError
from gateway.model.types import Dimension, Hierarchy, Level, bracket

MAX_NAME_LENGTH = 1000


@dataclass(frozen=True, slots=True)
class ParsedName:
    """Bracketed parts in order; ``key`` is the text after ``.&`` of a member name, if any."""

    parts: tuple[str, ...]
    key: str | None = None


def parse_unique_name(text: str) -> ParsedName:
    """Split ``[A].[B].&[k]`` into parts; ``]]`` inside brackets stands for one ``]``.

    A bare word without brackets (``Indrejste``) is accepted as a single part, so measures may
    be named plainly. Malformed text raises QueryError naming the text. Every query names the
    same few levels and measures again, so parsed names are kept (bounded: at most
    ``MAX_NAME_LENGTH`` characters each; errors are not kept).
    """
    if not isinstance(text, str) or not text.strip():
        raise QueryError("An empty name was given.")
    return _parse(text)


@lru_cache(maxsize=4096)
def _parse(text: str) -> ParsedName:
    if len(text) > MAX_NAME_LENGTH:
        raise QueryError(f"A name is longer than {MAX_NAME_LENGTH} characters.")
    source = text.strip()
    if not source.startswith("["):
        return ParsedName((source,))
    parts: list[str] = []
    key: str | None = None
    position = 0
    while True:
        is_key = source.startswith("&[", position)
        if is_key:
            position += 1
        if position >= len(source) or source[position] != "[":
            raise QueryError(f"The name {text!r} is not a valid unique name.")
        value, position = _read_bracketed(source, position, text)
        if is_key:
            key = value
        else:
            parts.append(value)
        if position == len(source):
            break
        if key is not None or source[position] != ".":
            raise QueryError(f"The name {text!r} is not a valid unique name.")
        position += 1
    if not parts:
        raise QueryError(f"The name {text!r} is not a valid unique name.")
    return ParsedName(tuple(parts), key)


def _read_bracketed(source: str, start: int, original: str) -> tuple[str, int]:
    """Read ``[...]`` from ``start``; returns the unquoted text and the position after it."""
    out: list[str] = []
    position = start + 1
    while position < len(source):
        char = source[position]
        if char == "]":
            if source.startswith("]]", position):
                out.append("]")
                position += 2
                continue
            return "".join(out), position + 1
        out.append(char)
        position += 1
    raise QueryError(f"The name {original!r} has an unclosed '['.")


def key_text(value: object) -> str:
    """A member key as text, the same on every database (ints, dates, strings, booleans)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(int(value)) if value == value.to_integral_value() else str(value)
    return str(value)


def hierarchy_unique_name(dimension: Dimension, hierarchy: Hierarchy) -> str:
    return bracket(dimension.name) + "." + bracket(hierarchy.name)


def level_unique_name(dimension: Dimension, hierarchy: Hierarchy, level: Level) -> str:
    return hierarchy_unique_name(dimension, hierarchy) + "." + bracket(level.name)


def member_unique_name(dimension: Dimension, hierarchy: Hierarchy, level: Level, key: str) -> str:
    """Full form with the level, short form ``[Køn].[Køn].&[K]`` for a one-level hierarchy."""
    if len(hierarchy.levels) == 1:
        return hierarchy_unique_name(dimension, hierarchy) + ".&" + bracket(key)
    return level_unique_name(dimension, hierarchy, level) + ".&" + bracket(key)
