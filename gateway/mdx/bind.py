"""Evaluate an MDX statement's names and set expressions against the caller's cube model.

Every name is looked up in the (already pruned) cube model and the dimension tables; nothing a
client wrote reaches SQL except as a key compared with values the database returned. Set
functions work on member lists read by :class:`gateway.mdx.members.MemberReader`; functions
that need cell values (Filter, TopCount, Order, NonEmpty, calculated measures) batch their
coordinates through :func:`gateway.mdx.cells.compute_cells`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from gateway.engine.resolve import LevelRef
from gateway.errors import NotFoundError, QueryError
from gateway.mdx import ast
from gateway.mdx.cells import Coordinate, RunQuery, compute_cells
from gateway.mdx.errors import MdxUnsupportedError
from gateway.mdx.members import ALL_LEVEL_NAME, ALL_NAME, HierarchyRef, MdxMember, MemberReader, Restriction, measure_member
from gateway.mdx.result import MEASURES_HIERARCHY
from gateway.mdx.values import (
    AllLevelValue,
    DimensionValue,
    HierarchyValue,
    LevelValue,
    MdxTuple,
    SetValue,
    TupleValue,
    Value,
)
from gateway.model.types import Cube, bracket

MAX_SET_SIZE = 500_000
MAX_CALCULATION_DEPTH = 16
CALCULATED_FORMAT = "#,##0.00"
Context = dict[str, MdxMember]
Fetch = Callable[[Coordinate], Any]


class Binder:
    """Binds one statement: WITH definitions, subselect restrictions, WHERE context, axis sets."""

    def __init__(self, cube: Cube, reader: MemberReader, run: RunQuery) -> None:
        self.cube = cube
        self.reader = reader
        self.run = run
        self.restrictions: list[Restriction] = []
        self.context: Context = {}
        self._set_definitions: dict[str, ast.Expr] = {}
        self._sets: dict[str, SetValue] = {}
        self._calculated: dict[str, tuple[MdxMember, ast.Expr | None]] = {}
        self._aliases: dict[str, SetValue] = {}  # ``set AS [name]`` inside an expression, as evaluated last
        self._currents: dict[str, MdxTuple] = {}  # ``[name].Current`` while Generate walks an aliased set
        self.default_measure = measure_member(cube.measures[0]) if cube.measures else None

    # -- statement parts ------------------------------------------------------------------------
    def define(self, select: ast.Select) -> None:
        for definition in select.sets:
            self._set_definitions[_key(definition.name)] = definition.expression
        for member in select.members:
            self._define_member(member)

    def restrict(self, subselect: ast.Select) -> None:
        """A subselect keeps only the members on its axes (and WHERE): Excel's pivot filters."""
        if isinstance(subselect.source, ast.Select):
            self.restrict(subselect.source)
        for axis in subselect.axes:
            self._add_restrictions(self.as_set(self.evaluate(axis.expression)))
        if subselect.where is not None:
            self._add_restrictions(self.as_set(self.evaluate(subselect.where)))

    def slice(self, where: ast.Expr | None) -> None:
        """The WHERE clause: one member per hierarchy, or a set aggregated per hierarchy."""
        if where is None:
            return
        tuples = self.as_set(self.evaluate(where)).tuples
        if not tuples:
            raise QueryError("The WHERE clause is an empty set.")
        if len(tuples) == 1:
            for member in tuples[0]:
                self._put(self.context, member, "the WHERE clause")
            return
        for name, members in _by_hierarchy(tuples, "WHERE").items():
            if name == MEASURES_HIERARCHY:
                if len(members) > 1:
                    raise MdxUnsupportedError("WHERE with several measures")
                self.context[name] = members[0]
            else:
                self.context[name] = self._aggregate_member(members, f"{name}.[Slicer]")

    def axis_set(self, expression: ast.Expr) -> SetValue:
        found = self.as_set(self.evaluate(expression))
        shapes = {tuple(m.hierarchy_name for m in t) for t in found.tuples}
        if len(shapes) > 1:
            raise QueryError("The tuples of an axis must name the same hierarchies in the same order.")
        return found

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, node: ast.Expr | None, current: Context | None = None) -> Value:
        if node is None:
            raise QueryError("An argument is missing.")
        if isinstance(node, ast.Name):
            return self._name(node, current)
        if isinstance(node, ast.SetLiteral):
            tuples: list[MdxTuple] = []
            for item in node.items:
                tuples.extend(self.as_set(self.evaluate(item, current)).tuples)
            return _bounded(tuples)
        if isinstance(node, ast.TupleLiteral):
            values = [self.evaluate(item, current) for item in node.items]
            if any(isinstance(v, SetValue | LevelValue) for v in values):
                return self._crossjoin([self.as_set(v) for v in values])
            members: list[MdxMember] = []
            for value in values:
                members.extend(self.as_tuple(value))
            _check_distinct(members)
            return TupleValue(tuple(members))
        if isinstance(node, ast.Call):
            return self._call(node.function, node.args, current)
        if isinstance(node, ast.Method):
            target = self.evaluate(node.target, current)
            return self._method(target, node.function, node.args, current)
        if isinstance(node, ast.Binary) and node.op in ("*", "+", "-"):
            left = self.evaluate(node.left, current)
            right = self.evaluate(node.right, current)
            if _is_settish(left) and _is_settish(right):
                a, b = self.as_set(left), self.as_set(right)
                if node.op == "*":
                    return self._crossjoin([a, b])
                if node.op == "+":
                    return _bounded(_distinct(a.tuples + b.tuples))
                return _bounded(tuple(t for t in _distinct(a.tuples) if t not in set(b.tuples)))
            raise MdxUnsupportedError(node.op, "Arithmetic belongs in calculated members and Filter conditions.")
        if isinstance(node, ast.Range):
            return self._range(self.as_member(self.evaluate(node.first, current)),
                               self.as_member(self.evaluate(node.last, current)))
        if isinstance(node, ast.Number):
            return node.value
        if isinstance(node, ast.Unary) and node.op in ("-", "+") and isinstance(node.operand, ast.Number):
            return -node.operand.value if node.op == "-" else node.operand.value
        if isinstance(node, ast.String):
            return node.value
        if isinstance(node, ast.Null):
            return None
        if isinstance(node, ast.Alias):
            found = self.as_set(self.evaluate(node.expression, current))
            self._aliases[_key(node.name)] = found
            return found
        raise MdxUnsupportedError(_describe(node), "It is allowed only inside calculated members and Filter conditions.")

    def as_set(self, value: Value) -> SetValue:
        if isinstance(value, SetValue):
            return value
        if isinstance(value, LevelValue):
            return SetValue(tuple((m,) for m in self.reader.level(value.ref)))
        if isinstance(value, AllLevelValue):
            return SetValue(((self.reader.all_member(value.hierarchy),),))
        if isinstance(value, TupleValue | MdxMember | HierarchyValue | DimensionValue):
            return SetValue((self.as_tuple(value),))
        raise QueryError(f"A set was expected, not {_kind(value)}.")

    def as_tuple(self, value: Value) -> MdxTuple:
        if isinstance(value, TupleValue):
            return value.members
        if isinstance(value, SetValue) and len(value.tuples) == 1:
            return value.tuples[0]
        return (self.as_member(value),)

    def as_member(self, value: Value) -> MdxMember:
        if isinstance(value, MdxMember):
            return value
        if isinstance(value, TupleValue) and len(value.members) == 1:
            return value.members[0]
        if isinstance(value, SetValue) and len(value.tuples) == 1 and len(value.tuples[0]) == 1:
            return value.tuples[0][0]
        if isinstance(value, DimensionValue):
            value = self._only_hierarchy(value)
        if isinstance(value, HierarchyValue):
            return self._default_member(value.ref)
        raise QueryError(f"A member was expected, not {_kind(value)}.")

    # -- names ----------------------------------------------------------------------------------
    def _name(self, name: ast.Name, current: Context | None) -> Value:
        key = _key(name)
        if key in self._aliases:
            return self._aliases[key]
        current_of = _current_of(name)
        if current_of is not None:
            if current_of not in self._currents:
                raise QueryError(f"'{name.source()}' is used outside a Generate over that set.")
            members = self._currents[current_of]
            return members[0] if len(members) == 1 else TupleValue(members)
        if key in self._set_definitions:
            return self._named_set(key)
        calculated = self._calculated.get(key)
        if calculated is not None:
            return calculated[0]
        segments = list(name.segments)
        head = segments[0]
        value: Value
        if head.text.casefold() == "measures" and not head.key:
            value, rest = self._measures(name, segments)
        else:
            dimension = self.cube.dimension(head.text) if not head.key else None
            if dimension is None:
                raise NotFoundError(f"The name '{name.source()}' was not found in the cube '{self.cube.name}'.")
            value, rest = DimensionValue(dimension), segments[1:]
            if rest and rest[0].quoted:
                hierarchy = next((h for h in dimension.hierarchies if h.name == rest[0].text), None)
                if hierarchy is not None:
                    value, rest = HierarchyValue(HierarchyRef(dimension, hierarchy)), rest[1:]
        for segment in rest:
            value = self._step(value, segment, name, current)
        return value

    def _measures(self, name: ast.Name, segments: list[ast.Segment]) -> tuple[Value, list[ast.Segment]]:
        if len(segments) > 1 and segments[1].quoted:
            measure = self.cube.measure(segments[1].text)
            if measure is None:
                raise NotFoundError(f"The measure '{name.source()}' was not found in the cube '{self.cube.name}'.")
            return measure_member(measure), segments[2:]
        return HierarchyValue(None), segments[1:]

    def _step(self, value: Value, segment: ast.Segment, name: ast.Name, current: Context | None) -> Value:
        """Apply one more name part: a hierarchy/level/member name, a key, or a property like Members."""

        def missing() -> NotFoundError:
            return NotFoundError(f"The name '{name.source()}' was not found in the cube '{self.cube.name}'.")

        if not segment.quoted and not segment.key:
            return self._method(value, segment.text, (), current)
        if isinstance(value, DimensionValue):
            value = self._only_hierarchy(value)
        if isinstance(value, HierarchyValue):
            hierarchy = value.ref
            if hierarchy is None:
                raise missing()
            if segment.key:
                if len(hierarchy.hierarchy.levels) != 1:
                    raise missing()
                return self._lookup(hierarchy.level(0), segment.text, missing)
            level = next((i for i, lv in enumerate(hierarchy.hierarchy.levels) if lv.name == segment.text), None)
            if level is not None:
                return LevelValue(hierarchy.level(level))
            if segment.text == ALL_LEVEL_NAME:
                return AllLevelValue(hierarchy)
            if segment.text.casefold() in (ALL_NAME.casefold(), f"all {hierarchy.hierarchy.name}".casefold()):
                return self.reader.all_member(hierarchy)
            return self._by_caption(self.reader.level(hierarchy.level(0), restricted=False), segment.text, missing)
        if isinstance(value, AllLevelValue) and segment.text.casefold() in (
            ALL_NAME.casefold(), f"all {value.hierarchy.hierarchy.name}".casefold()
        ):
            return self.reader.all_member(value.hierarchy)
        if isinstance(value, LevelValue):
            if segment.key:
                return self._lookup(value.ref, segment.text, missing)
            return self._by_caption(self.reader.level(value.ref, restricted=False), segment.text, missing)
        if isinstance(value, MdxMember) and value.hierarchy is not None and value.depth < value.hierarchy.bottom:
            below = value.hierarchy.level(value.depth + 1)
            if segment.key:
                child = self._lookup(below, segment.text, missing)
                if not value.is_ancestor_of(child):
                    raise missing()
                return child
            children = tuple(m for m in self.reader.level(below, restricted=False) if value.is_ancestor_of(m))
            return self._by_caption(children, segment.text, missing)
        raise missing()

    def _lookup(self, ref: LevelRef, key: str, missing: Callable[[], NotFoundError]) -> MdxMember:
        found = self.reader.lookup(ref, key)
        if found is None:
            raise missing()
        return found

    @staticmethod
    def _by_caption(members: Sequence[MdxMember], caption: str, missing: Callable[[], NotFoundError]) -> MdxMember:
        found = next((m for m in members if m.caption == caption), None)
        if found is None:
            raise missing()
        return found

    def _only_hierarchy(self, value: DimensionValue) -> HierarchyValue:
        hierarchies = value.dimension.hierarchies
        if len(hierarchies) != 1:
            raise QueryError(f"The dimension '{value.dimension.name}' has several hierarchies; name one.")
        return HierarchyValue(HierarchyRef(value.dimension, hierarchies[0]))

    def _default_member(self, hierarchy: HierarchyRef | None) -> MdxMember:
        if hierarchy is None:
            if self.default_measure is None:
                raise QueryError(f"The cube '{self.cube.name}' has no measures.")
            return self.default_measure
        return self.reader.all_member(hierarchy)

    def _named_set(self, key: str) -> SetValue:
        found = self._sets.get(key)
        if found is None:
            expression = self._set_definitions.pop(key)  # a set naming itself is then unknown
            try:
                found = self._sets[key] = self.as_set(self.evaluate(expression))
            finally:
                self._set_definitions[key] = expression
        return found

    def _define_member(self, definition: ast.MemberDefinition) -> None:
        segments = definition.name.segments
        caption = segments[-1].text
        format_string = CALCULATED_FORMAT
        for prop, expression in definition.properties:
            if prop == "FORMAT_STRING" and isinstance(expression, ast.String):
                format_string = expression.value
        unique_name = ".".join(bracket(s.text) for s in segments)
        if segments[0].text.casefold() == "measures" and len(segments) == 2:
            member = MdxMember(unique_name, caption, None, calculated=unique_name, format_string=format_string)
            self._calculated[_key(definition.name)] = (member, definition.expression)
            return
        expression = definition.expression
        if not (isinstance(expression, ast.Call) and expression.function.casefold() == "aggregate" and expression.args):
            raise MdxUnsupportedError(
                "WITH MEMBER", "Calculated members outside [Measures] must be Aggregate({members})."
            )
        members = [m for t in self.as_set(self.evaluate(expression.args[0])).tuples for m in t]
        self._calculated[_key(definition.name)] = (self._aggregate_member(members, unique_name, caption), None)

    # -- member properties and methods ----------------------------------------------------------
    def _method(self, target: Value, function: str, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
        name = function.casefold()
        if isinstance(target, DimensionValue) and name not in ("name", "uniquename"):
            target = self._only_hierarchy(target)
        if name in ("members", "allmembers"):
            if isinstance(target, LevelValue | AllLevelValue):
                return self.as_set(target)
            if isinstance(target, HierarchyValue):
                return self._hierarchy_members(target.ref, calculated=name == "allmembers")
        if name == "children" and isinstance(target, MdxMember):
            return SetValue(tuple((c,) for c in self.reader.children(target)))
        if name == "parent" and isinstance(target, MdxMember):
            parent = self.reader.parent(target)
            if parent is None:
                raise QueryError(f"The member '{target.unique_name}' has no parent.")
            return parent
        if name in ("firstchild", "lastchild") and isinstance(target, MdxMember):
            children = self.reader.children(target)
            if not children:
                raise QueryError(f"The member '{target.unique_name}' has no children.")
            return children[0] if name == "firstchild" else children[-1]
        if name == "siblings" and isinstance(target, MdxMember):
            parent = self.reader.parent(target)
            return SetValue(((target,),) if parent is None else tuple((c,) for c in self.reader.children(parent)))
        if name == "currentmember" and isinstance(target, HierarchyValue):
            hierarchy_name = MEASURES_HIERARCHY if target.ref is None else target.ref.unique_name
            found = (current or {}).get(hierarchy_name) or self.context.get(hierarchy_name)
            return found if found is not None else self._default_member(target.ref)
        if name == "defaultmember" and isinstance(target, HierarchyValue):
            return self._default_member(target.ref)
        if name == "level" and isinstance(target, MdxMember) and target.level is not None:
            return LevelValue(target.level)
        if name == "level" and isinstance(target, MdxMember) and target.is_all and target.hierarchy is not None:
            return AllLevelValue(target.hierarchy)
        if name == "hierarchy" and isinstance(target, AllLevelValue):
            return HierarchyValue(target.hierarchy)
        if name == "hierarchy" and isinstance(target, MdxMember | LevelValue):
            ref = target.ref if isinstance(target, LevelValue) else target.level
            hierarchy = target.hierarchy if isinstance(target, MdxMember) else None
            if isinstance(target, LevelValue) and ref is not None:
                hierarchy = HierarchyRef(ref.dimension, ref.hierarchy)
            return HierarchyValue(hierarchy)
        if name in _MEMBER_TEXT and not args and isinstance(target, MdxMember):
            return target.caption if _MEMBER_TEXT[name] == "caption" else target.unique_name
        if name == "count" and not args and _is_settish(target):
            return len(self.as_set(target).tuples)
        if name == "item" and len(args) == 1:
            index = self.evaluate(args[0], current)
            if not isinstance(index, int) or isinstance(index, bool):
                raise MdxUnsupportedError("Item", "Item takes a position number.")
            items: tuple[Any, ...] = (
                self.as_set(target).tuples if isinstance(target, SetValue) else self.as_tuple(target)
            )
            if not 0 <= index < len(items):
                raise QueryError(f"Item({index}) is outside the {len(items)} items.")
            item = items[index]
            return TupleValue(item) if isinstance(item, tuple) else item
        raise MdxUnsupportedError(f".{function}", f"It cannot be applied to {_kind(target)}.")

    def _hierarchy_members(self, hierarchy: HierarchyRef | None, *, calculated: bool) -> SetValue:
        if hierarchy is None:
            members = [measure_member(m) for m in self.cube.measures]
            if calculated:
                members += [m for m, e in self._calculated.values() if m.is_measure]
            return SetValue(tuple((m,) for m in members))
        found: list[MdxMember] = [self.reader.all_member(hierarchy)]
        for depth in range(len(hierarchy.hierarchy.levels)):
            found.extend(self.reader.level(hierarchy.level(depth)))
        found.sort(key=_sort_key)
        return _bounded(tuple((m,) for m in found))

    # -- functions ------------------------------------------------------------------------------
    def _call(self, function: str, args: tuple[ast.Expr | None, ...], current: Context | None) -> Value:
        handler = _FUNCTIONS.get(function.casefold())
        if handler is None:
            raise MdxUnsupportedError(function)
        return handler(self, args, current)

    def _arg_set(self, args: Sequence[ast.Expr | None], index: int, current: Context | None) -> SetValue:
        if index >= len(args) or args[index] is None:
            raise QueryError("A set argument is missing.")
        return self.as_set(self.evaluate(args[index], current))

    def _crossjoin(self, sets: Sequence[SetValue]) -> SetValue:
        size = math.prod(len(s.tuples) for s in sets)
        if size > MAX_SET_SIZE:
            raise QueryError(f"The crossjoin would hold {size:,} tuples; at most {MAX_SET_SIZE:,} are allowed.")
        result = []
        for combination in itertools.product(*(s.tuples for s in sets)):
            members = [m for t in combination for m in t]
            _check_distinct(members)
            result.append(tuple(members))
        return SetValue(tuple(result))

    def _range(self, first: MdxMember, last: MdxMember) -> SetValue:
        if first.hierarchy is None or first.level is None or first.level != last.level:
            raise QueryError("A range ':' needs two members of one level.")
        members = self.reader.level(first.level)
        try:
            start, end = members.index(first), members.index(last)
        except ValueError:
            return SetValue(())
        return SetValue(tuple((m,) for m in members[min(start, end) : max(start, end) + 1]))

    def _aggregate_member(self, members: Sequence[MdxMember], unique_name: str, caption: str = "Aggregate") -> MdxMember:
        """One member standing for several of one hierarchy; its cells aggregate their rows."""
        hierarchies = {m.hierarchy_name for m in members}
        if len(hierarchies) != 1 or MEASURES_HIERARCHY in hierarchies:
            raise MdxUnsupportedError("Aggregate", "It takes members of one hierarchy other than [Measures].")
        restriction = self.restriction_of(members)  # () when the All member is among them: no restriction
        return MdxMember(unique_name, caption, members[0].hierarchy, -1, aggregate=restriction)

    def restriction_of(self, members: Sequence[MdxMember]) -> tuple[Restriction, ...]:
        """Members of one hierarchy as a row restriction at the finest level among them; () for All."""
        if any(m.depth < 0 and not m.aggregate for m in members):
            return ()
        restrictions: list[Restriction] = []
        plain = [m for m in members if not m.aggregate]
        for member in members:
            if member.aggregate:
                if len(members) > 1:
                    raise MdxUnsupportedError("Aggregate", "An aggregated member cannot be combined with others.")
                return member.aggregate
        if not plain:
            return ()
        hierarchy = plain[0].hierarchy
        assert hierarchy is not None
        depth = max(m.depth for m in plain)
        keys: set[str] = set()
        for member in plain:
            keys.update(d.path[-1] for d in self.reader.descendants_at(member, depth))
        restrictions.append((hierarchy.level(depth), frozenset(keys)))
        return tuple(restrictions)

    def _add_restrictions(self, found: SetValue) -> None:
        if not found.tuples:
            raise QueryError("A filter (subselect) keeps no members, so there is nothing to show; widen the filter.")
        for name, members in _by_hierarchy(found.tuples, "subselect").items():
            if name == MEASURES_HIERARCHY:
                continue
            for restriction in self.restriction_of(members):
                self.restrictions.append(restriction)
                self.reader.restrictions.setdefault(restriction[0].dimension.name, []).append(restriction)
                self.reader.forget()

    @staticmethod
    def _put(context: Context, member: MdxMember, where: str) -> None:
        if member.hierarchy_name in context:
            raise QueryError(f"The hierarchy '{member.hierarchy_name}' appears more than once in {where}.")
        context[member.hierarchy_name] = member

    # -- values ---------------------------------------------------------------------------------
    def coordinate(self, *tuples: MdxTuple, base: Mapping[str, MdxMember] | None = None) -> Context:
        context = dict(self.context if base is None else base)
        for members in tuples:
            for member in members:
                context[member.hierarchy_name] = member
        if MEASURES_HIERARCHY not in context:
            context[MEASURES_HIERARCHY] = self._default_member(None)
        return context

    def cell_values(self, coordinates: Sequence[Context]) -> list[Any]:
        """Values of whole coordinates; calculated measures are evaluated from their parts."""
        if all(c[MEASURES_HIERARCHY].calculated is None for c in coordinates):
            return compute_cells(
                self.cube, coordinates, run=self.run, restrictions=self.restrictions, level_size=self.reader.known_size,
                level_keys=self.reader.known_keys,
            )
        needed: dict[frozenset[MdxMember], Context] = {}

        def record(coordinate: Coordinate) -> None:
            needed.setdefault(_coordinate_key(coordinate), dict(coordinate))
            return None

        for coordinate in coordinates:
            self._cell(coordinate, record, 0)
        base = list(needed.values())
        found = compute_cells(
            self.cube, base, run=self.run, restrictions=self.restrictions, level_size=self.reader.known_size,
            level_keys=self.reader.known_keys,
        )
        values = {key: value for key, value in zip(needed, found)}
        return [self._cell(c, lambda c2: values.get(_coordinate_key(c2)), 0) for c in coordinates]

    def _cell(self, coordinate: Coordinate, fetch: Fetch, depth: int) -> Any:
        measure = coordinate[MEASURES_HIERARCHY]
        if measure.calculated is None:
            return fetch(coordinate)
        if depth > MAX_CALCULATION_DEPTH:
            raise QueryError(f"The calculated member '{measure.unique_name}' refers to itself.")
        expression = self._calculated[measure.calculated.casefold()][1]
        return self.scalar(expression, dict(coordinate), fetch, depth + 1)

    def scalar(self, node: ast.Expr | None, context: Context, fetch: Fetch, depth: int = 0) -> Any:
        """A number, string or truth value at a coordinate; ``fetch`` reads a cell."""
        if node is None:
            raise QueryError("An argument is missing.")
        if isinstance(node, ast.Number | ast.String):
            return node.value
        if isinstance(node, ast.Null):
            return None
        if isinstance(node, ast.Unary):
            value = self.scalar(node.operand, context, fetch, depth)
            if node.op == "NOT":
                return not _truth(value)
            if node.op == "-":
                return None if value is None else -_number(value)
            return value
        if isinstance(node, ast.Binary):
            return self._binary(node, context, fetch, depth)
        if isinstance(node, ast.Call) and node.function.casefold() == "isempty" and len(node.args) == 1:
            return self.scalar(node.args[0], context, fetch, depth) is None
        if isinstance(node, ast.Call) and node.function.casefold() == "iif" and len(node.args) == 3:
            condition = _truth(self.scalar(node.args[0], context, fetch, depth))
            yes = self.scalar(node.args[1], context, fetch, depth)
            no = self.scalar(node.args[2], context, fetch, depth)
            return yes if condition else no
        if isinstance(node, ast.Call) and node.function.casefold() in _TEXT_FUNCTIONS:
            function = _TEXT_FUNCTIONS[node.function.casefold()]
            return function(*(self.scalar(a, context, fetch, depth) for a in node.args))
        if isinstance(node, ast.Call) and node.function.casefold() not in _FUNCTIONS:
            raise MdxUnsupportedError(node.function)
        value = self.evaluate(node, context)
        if isinstance(value, int | float | str | bool) or value is None:
            return value
        members = self.as_tuple(value)
        cell = dict(context)
        for member in members:
            cell[member.hierarchy_name] = member
        return self._cell(cell, fetch, depth)

    def _binary(self, node: ast.Binary, context: Context, fetch: Fetch, depth: int) -> Any:
        left = self.scalar(node.left, context, fetch, depth)
        right = self.scalar(node.right, context, fetch, depth)
        op = node.op
        if op in ("AND", "OR", "XOR"):
            a, b = _truth(left), _truth(right)
            return a and b if op == "AND" else (a or b if op == "OR" else a != b)
        if op in ("=", "<>", "<", ">", "<=", ">="):
            if isinstance(left, str) or isinstance(right, str):
                a2, b2 = ("" if left is None else str(left)), ("" if right is None else str(right))
            else:
                a2, b2 = _number(left or 0), _number(right or 0)  # an empty cell compares as 0, as in SSAS
            return {"=": a2 == b2, "<>": a2 != b2, "<": a2 < b2, ">": a2 > b2, "<=": a2 <= b2, ">=": a2 >= b2}[op]
        if op in ("+", "-"):
            if left is None and right is None:
                return None
            a3, b3 = _number(left or 0), _number(right or 0)
            return a3 + b3 if op == "+" else a3 - b3
        if op == "*":
            return None if left is None or right is None else _number(left) * _number(right)
        if op == "/":
            if left is None or right is None or _number(right) == 0:
                return None
            return _number(left) / _number(right)
        raise MdxUnsupportedError(op)

    def tuple_values(self, found: SetValue, expression: ast.Expr | None, current: Context | None) -> list[Any]:
        """The value of ``expression`` (default: the current measure) at every tuple of a set."""
        contexts = [self.coordinate(t, base=current or self.context) for t in found.tuples]
        if expression is None:
            return self.cell_values(contexts)
        needed: dict[frozenset[MdxMember], Context] = {}

        def record(coordinate: Coordinate) -> None:
            needed.setdefault(_coordinate_key(coordinate), dict(coordinate))
            return None

        for context in contexts:
            self.scalar(expression, context, record)
        found_values = self.cell_values(list(needed.values()))
        values = {key: value for key, value in zip(needed, found_values)}
        return [self.scalar(expression, c, lambda c2: values.get(_coordinate_key(c2))) for c in contexts]


# -- set functions ------------------------------------------------------------------------------
def _hierarchize(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    found = binder._arg_set(args, 0, current)
    post = len(args) > 1 and _flag(args[1]) == "POST"
    return SetValue(tuple(sorted(found.tuples, key=lambda t: tuple(_sort_key(m, post) for m in t))))


def _identity(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    return binder._arg_set(args, 0, current)


def _drilldown_level(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    """``DrilldownLevel(set [, [level] [, [index]]] [, INCLUDE_CALC_MEMBERS])``: Excel 2010+ sends
    ``DrilldownLevel({...},,,INCLUDE_CALC_MEMBERS)``."""
    args = _without_flags(args, "DrilldownLevel", first=1, most=4, allowed=_CALC_FLAGS)[0]
    found = binder._arg_set(args, 0, current)
    place = _drill_place(binder, found, _arg(args, 1), _arg(args, 2), current, "DrilldownLevel")
    if place is None:
        return found
    position = place[0]
    return _drill_at(found, place, lambda members, member: _replaced(members, position, binder.reader.children(member)))


def _drilldown_level_top(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    """``DrilldownLevelTop(set, count [, [level] [, [value]]] [, INCLUDE_CALC_MEMBERS])``: only the
    ``count`` children with the highest ``value`` (in their order without one) are added."""
    args = _without_flags(args, "DrilldownLevelTop", first=2, most=5, allowed=_CALC_FLAGS)[0]
    found = binder._arg_set(args, 0, current)
    count = _count_arg(binder, args, current, "DrilldownLevelTop")
    place = _drill_place(binder, found, _arg(args, 2), None, current, "DrilldownLevelTop")
    if place is None:
        return found
    position, expression = place[0], _arg(args, 3)

    def top(members: MdxTuple, member: MdxMember) -> tuple[MdxTuple, ...]:
        drilled = _replaced(members, position, binder.reader.children(member))
        if expression is None:
            return drilled[:count]
        values = binder.tuple_values(SetValue(drilled), expression, current)
        return tuple(t for t, _ in _ranked(list(zip(drilled, values)), descending=True)[:count])

    return _drill_at(found, place, top)


def _drill_place(
    binder: Binder,
    found: SetValue,
    level_arg: ast.Expr | None,
    index_arg: ast.Expr | None,
    current: Context | None,
    function: str,
) -> tuple[int, int] | None:
    """Which tuple position to drill and the depth whose members are drilled (the deepest present
    unless a level names it); None when the level's hierarchy is not in the set."""
    if not found.tuples:
        return None
    position = 0
    target: int | None = None
    if level_arg is not None:
        level = binder.evaluate(level_arg, current)
        if isinstance(level, AllLevelValue):
            hierarchy, depth = level.hierarchy.unique_name, -1
        elif isinstance(level, LevelValue):
            hierarchy, depth = HierarchyRef(level.ref.dimension, level.ref.hierarchy).unique_name, level.ref.depth
        else:
            raise QueryError(f"{function}'s level argument must be a level.")
        names = [m.hierarchy_name for m in found.tuples[0]]
        if hierarchy not in names:
            return None
        position, target = names.index(hierarchy), depth
    elif index_arg is not None:
        index = binder.evaluate(index_arg, current)
        if not isinstance(index, int) or isinstance(index, bool) or not 0 <= index < len(found.tuples[0]):
            raise QueryError(f"{function}'s index is outside the tuples.")
        position = index
    if target is None:
        target = max(t[position].depth for t in found.tuples)
    return position, target


def _drill_at(
    found: SetValue, place: tuple[int, int], drilled: Callable[[MdxTuple, MdxMember], tuple[MdxTuple, ...]]
) -> SetValue:
    position, target = place
    present = set(found.tuples)
    result: list[MdxTuple] = []
    for members in found.tuples:
        result.append(members)
        member = members[position]
        if member.depth == target and not member.is_measure:
            result.extend(t for t in drilled(members, member) if t not in present)
    return _bounded(tuple(result))


def _replaced(members: MdxTuple, position: int, children: Sequence[MdxMember]) -> tuple[MdxTuple, ...]:
    return tuple(members[:position] + (child,) + members[position + 1 :] for child in children)


def _drilldown_member(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    """``DrilldownMember(set, members [, [hierarchy]] [, [RECURSIVE]] [, INCLUDE_CALC_MEMBERS])``.

    A tuple holding one of ``members`` is drilled at that member, or, with a target hierarchy, at
    its member of that hierarchy: Excel's "expand all" on nested fields sends
    ``DrilldownMember(CrossJoin(outer, {inner All}), outer members, [inner hierarchy])``.
    """
    args, flags = _without_flags(args, "DrilldownMember", first=2, most=5, allowed=_CALC_FLAGS | {"RECURSIVE"})
    if any(a is not None for a in args[3:]):
        raise QueryError("DrilldownMember takes a set, the members to drill, a hierarchy and the flags RECURSIVE, INCLUDE_CALC_MEMBERS.")
    found = binder._arg_set(args, 0, current)
    targets = {m for t in binder._arg_set(args, 1, current).tuples for m in t}
    recursive = "RECURSIVE" in flags
    hierarchy = _hierarchy_arg(binder, _arg(args, 2), current, "DrilldownMember")
    present = set(found.tuples)
    result: list[MdxTuple] = []

    def position_of(members: MdxTuple) -> int | None:
        if hierarchy is None:
            return next((p for p, m in enumerate(members) if m in targets), None)
        if not any(m in targets for m in members):
            return None
        return next((p for p, m in enumerate(members) if m.hierarchy_name == hierarchy), None)

    def add(members: MdxTuple, depth: int) -> None:
        result.append(members)
        position = position_of(members) if depth == 0 or recursive else None
        if position is None:
            return
        for drilled in _replaced(members, position, binder.reader.children(members[position])):
            if drilled not in present:
                present.add(drilled)
                add(drilled, depth + 1)

    for members in found.tuples:
        add(members, 0)
    return _bounded(tuple(result))


def _hierarchy_arg(binder: Binder, node: ast.Expr | None, current: Context | None, function: str) -> str | None:
    if node is None:
        return None
    value = binder.evaluate(node, current)
    if isinstance(value, DimensionValue):
        value = binder._only_hierarchy(value)
    if not isinstance(value, HierarchyValue):
        raise QueryError(f"{function}'s third argument must be a hierarchy, not {_kind(value)}.")
    return value.ref.unique_name if value.ref is not None else MEASURES_HIERARCHY


def _except(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    first = binder._arg_set(args, 0, current)  # first: it may name a set (AS) that the second uses
    removed = {_names(t) for t in binder._arg_set(args, 1, current).tuples}
    return SetValue(tuple(t for t in _distinct(first.tuples) if _names(t) not in removed))


def _names(members: MdxTuple) -> tuple[str, ...]:
    return tuple(m.unique_name for m in members)


def _intersect(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    """Tuples of the first set, in its order, that the second holds, as the second holds them:
    ``Intersect(DrilldownLevel(...), [VisualTotals set])`` keeps the visual totals (Excel's pattern)."""
    kept = {_names(t): t for t in binder._arg_set(args, 1, current).tuples}
    first = _distinct(binder._arg_set(args, 0, current).tuples)
    return SetValue(tuple(kept[_names(t)] for t in first if _names(t) in kept))


def _union(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    tuples: tuple[MdxTuple, ...] = ()
    for index in range(len(args)):
        tuples += binder._arg_set(args, index, current).tuples
    return _bounded(_distinct(tuples))


def _distinct_set(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    return SetValue(_distinct(binder._arg_set(args, 0, current).tuples))


def _crossjoin(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    return binder._crossjoin([binder._arg_set(args, i, current) for i in range(len(args))])


def _filter(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    found = binder._arg_set(args, 0, current)
    if len(args) != 2:
        raise QueryError("Filter takes a set and a condition.")
    values = binder.tuple_values(found, args[1], current)
    return SetValue(tuple(t for t, keep in zip(found.tuples, values) if _truth(keep)))


def _non_empty(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    found = binder._arg_set(args, 0, current)
    measures: tuple[MdxTuple, ...] = ((),)
    if len(args) > 1 and args[1] is not None:
        measures = binder._arg_set(args, 1, current).tuples
    contexts = [binder.coordinate(t, m, base=current or binder.context) for t in found.tuples for m in measures]
    values = binder.cell_values(contexts)
    width = len(measures)
    return SetValue(
        tuple(t for i, t in enumerate(found.tuples) if any(v is not None for v in values[i * width : (i + 1) * width]))
    )


def _count_arg(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None, function: str) -> int:
    count = binder.evaluate(args[1], current) if len(args) > 1 else None
    if not isinstance(count, int | float) or isinstance(count, bool) or count < 0:
        raise QueryError(f"{function} needs a count that is a number of at least 0.")
    return int(count)


def _top_count(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None, *, top: bool = True) -> Value:
    function = "TopCount" if top else "BottomCount"
    found = binder._arg_set(args, 0, current)
    count = _count_arg(binder, args, current, function)
    if len(args) < 3 or args[2] is None:
        return SetValue(found.tuples[:count])
    values = binder.tuple_values(found, args[2], current)
    ranked = _ranked(list(zip(found.tuples, values)), descending=top)
    return SetValue(tuple(t for t, _ in ranked[:count]))


def _bottom_count(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    return _top_count(binder, args, current, top=False)


def _order(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    found = binder._arg_set(args, 0, current)
    if len(args) < 2:
        raise QueryError("Order takes a set and a value to sort by.")
    flag = _flag(args[2]) if len(args) > 2 and args[2] is not None else "ASC"
    if flag not in ("ASC", "DESC", "BASC", "BDESC"):
        raise QueryError("Order's third argument must be ASC, DESC, BASC or BDESC.")
    values = binder.tuple_values(found, args[1], current)
    pairs = list(zip(found.tuples, values))
    descending = flag in ("DESC", "BDESC")
    if flag in ("BASC", "BDESC"):
        return SetValue(tuple(t for t, _ in _ranked(pairs, descending=descending)))
    # ASC/DESC keep the hierarchy: siblings are sorted among themselves, parents stay first.
    firsts = [t[0] for t in found.tuples]
    if len({m.depth for m in firsts}) > 1:
        raise MdxUnsupportedError("Order ASC/DESC", "On a set mixing levels, use BASC or BDESC.")
    groups: dict[tuple[str, ...], list[tuple[MdxTuple, Any]]] = {}
    for members, value in pairs:
        groups.setdefault(members[0].path[:-1], []).append((members, value))
    return SetValue(tuple(t for group in groups.values() for t, _ in _ranked(group, descending=descending)))


def _head(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    found = binder._arg_set(args, 0, current)
    count = _count_arg(binder, args, current, "Head") if len(args) > 1 else 1
    return SetValue(found.tuples[:count])


def _tail(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    found = binder._arg_set(args, 0, current)
    count = _count_arg(binder, args, current, "Tail") if len(args) > 1 else 1
    return SetValue(found.tuples[len(found.tuples) - count :] if count else ())


def _descendants(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    if len(args) > 3:
        raise QueryError("Descendants takes a member or set, a level or distance, and a flag.")
    starts = [t[0] for t in binder._arg_set(args, 0, current).tuples if len(t) == 1]
    flag = _flag(args[2]) if len(args) > 2 and args[2] is not None else None
    result: list[MdxMember] = []
    for start in starts:
        if start.hierarchy is None:
            raise QueryError("Descendants needs a member of a hierarchy other than [Measures].")
        bottom = start.hierarchy.bottom
        if len(args) < 2 or args[1] is None:
            target, flag = start.depth, flag or "SELF_AND_AFTER"
        else:
            level = binder.evaluate(args[1], current)
            if isinstance(level, LevelValue):
                target = level.ref.depth
            elif isinstance(level, int) and not isinstance(level, bool):
                target = start.depth + level
            else:
                raise QueryError("Descendants' second argument must be a level or a distance.")
            flag = flag or "SELF"
        depths = {
            "SELF": [target],
            "AFTER": list(range(target + 1, bottom + 1)),
            "BEFORE": list(range(start.depth, target)),
            "BEFORE_AND_AFTER": [d for d in range(start.depth, bottom + 1) if d != target],
            "SELF_AND_AFTER": list(range(target, bottom + 1)),
            "SELF_AND_BEFORE": list(range(start.depth, target + 1)),
            "SELF_BEFORE_AFTER": list(range(start.depth, bottom + 1)),
            "LEAVES": [bottom],
        }.get(flag)
        if depths is None:
            raise QueryError(f"Descendants does not know the flag '{flag}'.")
        found: list[MdxMember] = []
        for depth in depths:
            if depth == -1:
                found.append(start)
            elif depth >= 0:
                found.extend(binder.reader.descendants_at(start, depth))
        result.extend(sorted(found, key=_sort_key))
    return _bounded(tuple((m,) for m in result))


def _ascendants(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    member: MdxMember | None = binder.as_member(binder.evaluate(args[0] if args else None, current))
    result = []
    while member is not None:
        result.append((member,))
        member = binder.reader.parent(member)
    return SetValue(tuple(result))


def _visual_totals(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    """Parents in the set show the total of their descendants in the set, not of all their rows."""
    found = binder._arg_set(args, 0, current)
    if any(len(t) != 1 for t in found.tuples):
        raise MdxUnsupportedError("VisualTotals", "It is supported on sets of one hierarchy.")
    members = [t[0] for t in found.tuples]
    result = []
    for member in members:
        below = [m for m in members if member.is_ancestor_of(m)]
        leaves = [m for m in below if not any(m.is_ancestor_of(o) for o in below)]
        if not leaves:
            result.append((member,))
            continue
        restriction = binder.restriction_of(leaves)
        result.append((MdxMember(member.unique_name, member.caption, member.hierarchy, member.depth, member.path,
                                 member.sort, member.children, aggregate=restriction),))
    return SetValue(tuple(result))


def _generate(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    """``Generate(set, set expression [, ALL])``: the expression once per tuple of the set, with that
    tuple as the current members; Excel's filter list asks ``Generate(members, Ascendants(...CurrentMember))``."""
    args, flags = _without_flags(args, "Generate", first=2, most=3, allowed=frozenset({"ALL"}))
    if len(args) < 2 or args[1] is None or (len(args) > 2 and args[2] is not None):
        raise MdxUnsupportedError("Generate", "It is supported as Generate(set, set expression [, ALL]).")
    found = binder._arg_set(args, 0, current)
    alias = _key(args[0].name) if isinstance(args[0], ast.Alias) else None
    tuples: list[MdxTuple] = []
    for members in found.tuples:
        context = dict(current or binder.context)
        for member in members:
            context[member.hierarchy_name] = member
        if alias is not None:
            binder._currents[alias] = members
        try:
            tuples.extend(binder.as_set(binder.evaluate(args[1], context)).tuples)
        finally:
            binder._currents.pop(alias or "", None)
        if len(tuples) > MAX_SET_SIZE:
            _bounded(tuples)  # refuses it
    return _bounded(tuple(tuples) if "ALL" in flags else _distinct(tuples))


def _aggregate(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    members = [m for t in binder._arg_set(args, 0, current).tuples for m in t]
    return binder._aggregate_member(members, "[Aggregate]")


def _non_empty_crossjoin(binder: Binder, args: Sequence[ast.Expr | None], current: Context | None) -> Value:
    joined = binder._crossjoin([binder._arg_set(args, i, current) for i in range(len(args))])
    values = binder.cell_values([binder.coordinate(t, base=current or binder.context) for t in joined.tuples])
    return SetValue(tuple(t for t, v in zip(joined.tuples, values) if v is not None))


_FUNCTIONS: dict[str, Callable[[Binder, Sequence[ast.Expr | None], Context | None], Value]] = {
    "hierarchize": _hierarchize,
    "addcalculatedmembers": _identity,
    "stripcalculatedmembers": _identity,
    "drilldownlevel": _drilldown_level,
    "drilldownmember": _drilldown_member,
    "drilldownleveltop": _drilldown_level_top,
    "except": _except,
    "intersect": _intersect,
    "union": _union,
    "distinct": _distinct_set,
    "crossjoin": _crossjoin,
    "nonemptycrossjoin": _non_empty_crossjoin,
    "filter": _filter,
    "nonempty": _non_empty,
    "topcount": _top_count,
    "bottomcount": _bottom_count,
    "order": _order,
    "head": _head,
    "tail": _tail,
    "descendants": _descendants,
    "ascendants": _ascendants,
    "visualtotals": _visual_totals,
    "aggregate": _aggregate,
    "generate": _generate,
}


# -- helpers ------------------------------------------------------------------------------------
def _by_hierarchy(tuples: Sequence[MdxTuple], where: str) -> dict[str, list[MdxMember]]:
    """The distinct members of each hierarchy in a set that must be a crossjoin of them (as Excel
    sends filters): restricting each hierarchy separately then means exactly the set."""
    found: dict[str, dict[MdxMember, None]] = {}
    for members in tuples:
        for member in members:
            found.setdefault(member.hierarchy_name, {})[member] = None
    if math.prod(len(members) for members in found.values()) != len(set(tuples)):
        raise MdxUnsupportedError(f"{where} set of tuples", "Give one set per hierarchy (a crossjoin of them).")
    return {name: list(members) for name, members in found.items()}


# Member properties Excel's label filters read, as ``[h].CurrentMember.member_caption``.
_MEMBER_TEXT = {"member_caption": "caption", "name": "caption", "member_name": "caption",
                "uniquename": "unique_name", "unique_name": "unique_name", "member_unique_name": "unique_name"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise QueryError(f"Text was expected, not {value!r}.")


def _whole(value: Any) -> int:
    number = _number(value)
    if number != int(number) or number < 0:
        raise QueryError(f"A whole number of at least 0 was expected, not {value!r}.")
    return int(number)


def _instr(*args: Any) -> int:
    """VBA's ``InStr([start,] text, sought)``: 1-based position, 0 when absent (Excel's "contains")."""
    if len(args) == 2:
        args = (1, *args)
    if len(args) != 3:
        raise QueryError("InStr takes a start, a text and the text sought.")
    start = _whole(args[0])
    if start < 1:
        raise QueryError("InStr's start is 1 or more.")
    return _text(args[1]).find(_text(args[2]), start - 1) + 1


def _two(function: str, apply: Callable[[str, int], Any]) -> Callable[..., Any]:
    def text_function(*args: Any) -> Any:
        if len(args) != 2:
            raise QueryError(f"{function} takes a text and a length.")
        return apply(_text(args[0]), _whole(args[1]))

    return text_function


def _one(function: str, apply: Callable[[str], Any]) -> Callable[..., Any]:
    def text_function(*args: Any) -> Any:
        if len(args) != 1:
            raise QueryError(f"{function} takes one text.")
        return apply(_text(args[0]))

    return text_function


def _mid(*args: Any) -> str:
    if len(args) not in (2, 3):
        raise QueryError("Mid takes a text, a start and optionally a length.")
    text, start = _text(args[0]), _whole(args[1])
    if start < 1:
        raise QueryError("Mid's start is 1 or more.")
    return text[start - 1 :] if len(args) == 2 else text[start - 1 : start - 1 + _whole(args[2])]


# The text functions of Excel's label filters (begins/ends with, contains), in calculations only.
_TEXT_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "left": _two("Left", lambda text, n: text[:n]),
    "right": _two("Right", lambda text, n: text[len(text) - n :] if n else ""),
    "mid": _mid,
    "instr": _instr,
    "len": _one("Len", len),
    "ucase": _one("UCase", str.upper),
    "lcase": _one("LCase", str.lower),
}


def _current_of(name: ast.Name) -> str | None:
    """``[XL_Filter_Set_0].Current``: the key of the set whose current tuple is meant."""
    last = name.segments[-1]
    if len(name.segments) > 1 and not last.quoted and not last.key and last.text.casefold() == "current":
        return _key(ast.Name(name.segments[:-1]))
    return None


def _key(name: ast.Name) -> str:
    """How WITH names are matched: by their parts, case-insensitively, quoted or not."""
    return ".".join(bracket(s.text) for s in name.segments).casefold()


def _coordinate_key(coordinate: Coordinate) -> frozenset[MdxMember]:
    return frozenset(coordinate.values())


def _sort_key(member: MdxMember, post: bool = False) -> tuple[Any, ...]:
    if member.hierarchy is None:
        return ()
    if member.depth < 0:
        return ((2,),) if post else ()
    return member.sort + ((2,),) if post else member.sort


def _distinct(tuples: Sequence[MdxTuple]) -> tuple[MdxTuple, ...]:
    return tuple(dict.fromkeys(tuples))


def _bounded(tuples: Sequence[MdxTuple]) -> SetValue:
    if len(tuples) > MAX_SET_SIZE:
        raise QueryError(f"A set holds more than {MAX_SET_SIZE:,} tuples.")
    return SetValue(tuple(tuples))


def _check_distinct(members: Sequence[MdxMember]) -> None:
    names = [m.hierarchy_name for m in members]
    if len(set(names)) != len(names):
        raise QueryError("A tuple names the same hierarchy more than once.")


def _is_settish(value: Value) -> bool:
    return isinstance(value, SetValue | TupleValue | MdxMember | LevelValue | AllLevelValue)


_CALC_FLAGS = frozenset({"INCLUDE_CALC_MEMBERS"})  # no server calculated members here: it adds nothing


def _arg(args: Sequence[ast.Expr | None], index: int) -> ast.Expr | None:
    return args[index] if index < len(args) else None


def _without_flags(
    args: Sequence[ast.Expr | None], function: str, *, first: int, most: int, allowed: frozenset[str]
) -> tuple[tuple[ast.Expr | None, ...], frozenset[str]]:
    """The arguments with flag keywords from position ``first`` on taken out (left as omitted), and
    the flags: optional arguments may be empty (``f(s,,,FLAG)``) and the flags come last."""
    if len(args) > most:
        raise QueryError(f"{function} takes at most {most} arguments.")
    positional: list[ast.Expr | None] = list(args)
    flags: set[str] = set()
    for index in range(first, len(args)):
        word = _flag_word(args[index])
        if word is not None and word in allowed:
            flags.add(word)
            positional[index] = None
        elif word is not None and word in _KNOWN_FLAGS:
            raise QueryError(f"{function} does not take the flag {word}; it takes {', '.join(sorted(allowed))}.")
    return tuple(positional), frozenset(flags)


_KNOWN_FLAGS = _CALC_FLAGS | {"ALL", "RECURSIVE", "POST", "PRE", "ASC", "DESC", "BASC", "BDESC", "SELF", "AFTER", "BEFORE",
                              "BEFORE_AND_AFTER", "SELF_AND_AFTER", "SELF_AND_BEFORE", "SELF_BEFORE_AFTER", "LEAVES"}


def _flag_word(node: ast.Expr | None) -> str | None:
    """A bare keyword such as ``RECURSIVE`` (not ``[RECURSIVE]``, which names a member or set)."""
    if isinstance(node, ast.Name) and len(node.segments) == 1 and not node.segments[0].quoted and not node.segments[0].key:
        return node.segments[0].text.upper()
    return None


def _flag(node: ast.Expr | None) -> str:
    if isinstance(node, ast.Name) and len(node.segments) == 1:
        return node.segments[0].text.upper()
    if isinstance(node, ast.String):
        return node.value.upper()
    raise QueryError("A flag (such as POST, RECURSIVE, DESC) was expected.")


def _truth(value: Any) -> bool:
    """MDX truth: an empty cell is false, as are 0 and the empty string."""
    return value is not None and bool(value)


def _number(value: Any) -> float | int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return value
    raise QueryError(f"A number was expected, not {value!r}.")


def _ranked(pairs: list[tuple[MdxTuple, Any]], *, descending: bool) -> list[tuple[MdxTuple, Any]]:
    present = [p for p in pairs if p[1] is not None]
    present.sort(key=lambda p: _number(p[1]) if not isinstance(p[1], str) else p[1], reverse=descending)
    return present + [p for p in pairs if p[1] is None]


def _describe(node: object) -> str:
    if isinstance(node, ast.Binary | ast.Unary):
        return node.op
    return type(node).__name__


def _kind(value: Value) -> str:
    if isinstance(value, SetValue):
        return "a set"
    if isinstance(value, TupleValue):
        return "a tuple"
    if isinstance(value, MdxMember):
        return f"the member '{value.unique_name}'"
    if isinstance(value, LevelValue):
        return f"the level '{value.ref.unique_name}'"
    if isinstance(value, AllLevelValue):
        return f"the level '{value.hierarchy.all_level_unique_name}'"
    if isinstance(value, HierarchyValue):
        return "a hierarchy"
    if isinstance(value, DimensionValue):
        return f"the dimension '{value.dimension.name}'"
    return "a value" if value is not None else "null"
