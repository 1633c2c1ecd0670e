"""The calculated-measure grammar: arithmetic over [Measure] references and nothing else."""

from __future__ import annotations

import pytest

from gateway.model.expression import (
    MAX_EXPRESSION_LENGTH,
    BinOp,
    ExpressionError,
    Neg,
    Num,
    Ref,
    is_linear,
    parse_expression,
    references,
)

KNOWN = {"Indrejste", "Udrejste", "Tilflyttede", "Pr. 10.000 (ialt)", "Ægtefælle ja"}


def test_difference_of_two_measures() -> None:
    assert parse_expression("[Indrejste] - [Udrejste]", KNOWN) == BinOp("-", Ref("Indrejste"), Ref("Udrejste"))


def test_precedence_parentheses_and_unary_minus() -> None:
    tree = parse_expression("-([Indrejste] + [Udrejste]) * 2 / 4.5", KNOWN)
    assert tree == BinOp("/", BinOp("*", Neg(BinOp("+", Ref("Indrejste"), Ref("Udrejste"))), Num(2.0)), Num(4.5))


def test_names_with_spaces_dots_digits_and_danish_letters() -> None:
    tree = parse_expression("[Pr. 10.000 (ialt)]+[Ægtefælle ja]", KNOWN)
    assert tree == BinOp("+", Ref("Pr. 10.000 (ialt)"), Ref("Ægtefælle ja"))


def test_unary_plus_is_dropped() -> None:
    assert parse_expression("+[Indrejste]", KNOWN) == Ref("Indrejste")


def test_trees_are_immutable_and_hashable() -> None:
    tree = parse_expression("[Indrejste] - 1", KNOWN)
    with pytest.raises(AttributeError):
        tree.op = "+"  # type: ignore[misc, union-attr]
    assert hash(tree) == hash(parse_expression("[Indrejste] - 1", KNOWN))


def test_references_in_first_appearance_order_without_repeats() -> None:
    tree = parse_expression("[Udrejste] + [Indrejste] - [Udrejste]", KNOWN)
    assert references(tree) == ("Udrejste", "Indrejste")


def test_without_known_names_any_reference_parses() -> None:
    assert parse_expression("[Hvad som helst]") == Ref("Hvad som helst")


@pytest.mark.parametrize(
    ("text", "linear"),
    [("[Indrejste] - [Udrejste]", True), ("-[Indrejste]", True), ("[Indrejste] * 2", False), ("[Indrejste] + 1", False)],
)
def test_linearity(text: str, linear: bool) -> None:
    assert is_linear(parse_expression(text, KNOWN)) is linear


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("__import__('os')", "unexpected character '_'"),
        ("__import__('os').system('id')", "unexpected character"),
        ("[Indrejste].real", "unexpected character 'r'"),
        ("(1).real", "unexpected character"),
        ("[Indrejste](1)", "Call is not allowed"),
        ("[Indrejste]([Udrejste])", "Call is not allowed"),
        ("[Indrejste] ** 2", "operator '**' is not allowed"),
        ("[Indrejste] // 2", "operator '//' is not allowed"),
        ("[Indrejste] % 2", "unexpected character '%'"),
        ("[Indrejste] < 2", "unexpected character '<'"),
        ("lambda: 1", "unexpected character"),
        ("'tekst'", "unexpected character"),
        ("0x10", "unexpected character 'x'"),
        ("1e3", "unexpected character 'e'"),
        ("True", "unexpected character"),
        ("Indrejste - Udrejste", "write measures in brackets"),
        ("__measure_0__", "unexpected character"),  # cannot spoof the internal placeholders
        ("[Udrejst]", "unknown measure 'Udrejst'"),
        ("[indrejste]", "unknown measure 'indrejste'"),  # references are exact
        ("[]", "empty measure reference"),
        ("[Indrejste", "unmatched"),
        ("Indrejste]", "unmatched"),
        ("[[Indrejste]]", "unmatched"),
        ("[Indrejste] -", "not a valid expression"),
        ("[Indrejste] [Udrejste]", "not a valid expression"),
        ("1.2.3", "not a valid expression"),
        ("([Indrejste]", "not a valid expression"),
        ("[Indrejste] / 0", "division by the constant 0"),
        ("", "empty"),
        ("   ", "empty"),
        ("1" + "+1" * MAX_EXPRESSION_LENGTH, "longer than"),
    ],
)
def test_rejected(text: str, problem: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, KNOWN)
    assert problem in str(caught.value)


@pytest.mark.parametrize(
    "text",
    ["-" * 1990 + "1", "(" * 500 + "[Indrejste]" + ")" * 500, "1" + "+1" * 999, "(" * 90 + "1" + ")" * 90 + "+1" * 200],
    ids=["unary", "parentheses", "long_chain", "mixed"],
)
def test_deep_nesting_is_refused_cleanly(text: str) -> None:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, KNOWN)
    assert "nested" in str(caught.value)


def test_moderate_nesting_parses() -> None:
    tree = parse_expression("(" * 50 + "[Indrejste]" + ")" * 50 + " + 1" * 50, KNOWN)
    assert references(tree) == ("Indrejste",)
