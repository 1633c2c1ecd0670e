"""Unique names → model objects. Anything not in the model is a NotFoundError naming it.

Only the model decides what exists: a client's text is compared with model names and never
used itself. Member keys are checked against the dimension table later (``members.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.engine.names import ParsedName, level_unique_name, parse_unique_name
from gateway.errors import NotFoundError, QueryError
from gateway.model.types import Cube, Dimension, Hierarchy, Level, Measure


@dataclass(frozen=True, slots=True)
class LevelRef:
    """A level located in its cube: the dimension (for the table) and hierarchy (for names)."""

    dimension: Dimension
    hierarchy: Hierarchy
    level: Level

    @property
    def depth(self) -> int:
        """0 for the top level of the hierarchy (there is no All level)."""
        return self.hierarchy.levels.index(self.level)

    @property
    def unique_name(self) -> str:
        return level_unique_name(self.dimension, self.hierarchy, self.level)


@dataclass(frozen=True, slots=True)
class MemberRef:
    """A member name resolved to its level; ``key`` is the client's key text, not yet checked."""

    level: LevelRef
    key: str


def find_cube(cubes: tuple[Cube, ...] | list[Cube], name: str) -> Cube:
    cube = next((c for c in cubes if c.name == name), None)
    if cube is None:
        raise NotFoundError(f"The cube '{name}' was not found.")
    return cube


def resolve_measure(cube: Cube, name: str) -> Measure:
    """``[Measures].[X]`` or plain ``X``."""
    parsed = _parse(name, "measure")
    parts = parsed.parts
    measure = None
    if parsed.key is None:
        if len(parts) == 2 and parts[0].casefold() == "measures":
            measure = cube.measure(parts[1])
        elif len(parts) == 1:
            measure = cube.measure(parts[0])
    if measure is None:
        raise NotFoundError(f"The measure '{name}' was not found in the cube '{cube.name}'.")
    return measure


def resolve_level(cube: Cube, name: str) -> LevelRef:
    """``[Dim].[Hier].[Level]``, or ``[Dim].[Level]`` / ``[Dim].[Hier]`` when that is unambiguous."""
    parsed = _parse(name, "level")
    if parsed.key is not None:
        raise QueryError(f"'{name}' names a member where a level was expected.")
    return _level_from_parts(cube, parsed.parts, name)


def resolve_member(cube: Cube, name: str) -> MemberRef:
    """``[Dim].[Hier].[Level].&[key]`` or the short ``[Dim].[Hier].&[key]`` of a one-level hierarchy."""
    parsed = _parse(name, "member")
    if parsed.key is None:
        raise QueryError(f"'{name}' names no member key (expected '.&[key]' at the end).")
    return MemberRef(_level_from_parts(cube, parsed.parts, name, what="member"), parsed.key)


def _parse(name: str, what: str) -> ParsedName:
    if not isinstance(name, str):
        raise QueryError(f"A {what} name must be text.")
    return parse_unique_name(name)


def _level_from_parts(cube: Cube, parts: tuple[str, ...], name: str, *, what: str = "level") -> LevelRef:
    def missing() -> NotFoundError:
        return NotFoundError(f"The {what} '{name}' was not found in the cube '{cube.name}'.")

    if len(parts) not in (2, 3):
        raise missing()
    dimension = cube.dimension(parts[0])
    if dimension is None:
        raise missing()
    if len(parts) == 3:
        hierarchy = next((h for h in dimension.hierarchies if h.name == parts[1]), None)
        level = None if hierarchy is None else next((lv for lv in hierarchy.levels if lv.name == parts[2]), None)
        if hierarchy is None or level is None:
            raise missing()
        return LevelRef(dimension, hierarchy, level)
    matches = [
        LevelRef(dimension, h, lv) for h in dimension.hierarchies for lv in h.levels if lv.name == parts[1]
    ]
    if not matches:
        matches = [
            LevelRef(dimension, h, h.levels[0])
            for h in dimension.hierarchies
            if h.name == parts[1] and len(h.levels) == 1
        ]
    if not matches:
        raise missing()
    if len(matches) > 1:
        raise QueryError(f"The {what} '{name}' is ambiguous; give the hierarchy: [Dimension].[Hierarchy].[Level].")
    return matches[0]
