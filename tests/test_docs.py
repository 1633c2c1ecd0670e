"""Docs that tests keep honest: every setting and every CLI command is in the README."""

from __future__ import annotations

import re
from pathlib import Path

import click

from gateway.cli import main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _settings_in_code() -> set[str]:
    names: set[str] = set()
    for path in [*ROOT.joinpath("gateway").rglob("*.py"), *ROOT.joinpath("admin").rglob("*.py")]:
        names.update(re.findall(r"\"(DATAADGANG_[A-Z_]+)\"", path.read_text(encoding="utf-8")))
    return names


def _settings_table() -> set[str]:
    section = README.split("## Settings", 1)[1].split("\n## ", 1)[0]
    return set(re.findall(r"^\| `(DATAADGANG_[A-Z_]+)`", section, flags=re.MULTILINE))


def test_every_setting_the_code_reads_is_in_the_readme_table() -> None:
    missing = _settings_in_code() - _settings_table()
    assert not missing, f"settings read by the code but not documented in README.md: {sorted(missing)}"


def test_the_readme_documents_no_setting_the_code_does_not_read() -> None:
    stale = _settings_table() - _settings_in_code()
    assert not stale, f"README.md documents settings nothing reads: {sorted(stale)}"


def _commands(group: click.Group, prefix: str = "dataadgang") -> list[str]:
    found = []
    for name, command in group.commands.items():
        path = f"{prefix} {name}"
        if isinstance(command, click.Group):
            found.extend(_commands(command, path))
        else:
            found.append(path)
    return found


def test_every_cli_command_is_in_the_readme() -> None:
    flat = re.sub(r"\s+", " ", README)
    missing = []
    for command in _commands(main):
        *parents, leaf = command.split(" ")
        # 'dataadgang user suspend|activate' documents both; so does 'grant revoke 7 ; ... grant list'
        parent = " ".join(parents)
        pattern = re.escape(parent) + r" (?:[a-z-]+\|)*" + re.escape(leaf) + r"\b"
        if not re.search(pattern, flat):
            missing.append(command)
    assert not missing, f"CLI commands not mentioned in README.md: {missing}"


# Calls whose string arguments are error codes a client can receive.
_CODE_CALLS = {"RequestRejected", "error", "error_body", "error_entry"}
_CODE = re.compile(r"^[A-Z][A-Z_]+[A-Z]$")


def _codes_in_code() -> set[str]:
    """Every error code the gateway can answer with: ``code = "..."`` class attributes and
    conditional assignments, and the code arguments of the error-body and rejection calls."""
    import ast

    codes: set[str] = set()

    def constants(node: ast.AST) -> set[str]:
        return {n.value for n in ast.walk(node) if isinstance(n, ast.Constant) and isinstance(n.value, str) and _CODE.match(n.value)}

    control_plane = ("store", "cli", "data")  # their errors go to operators, never to an API client
    for path in ROOT.joinpath("gateway").rglob("*.py"):
        if path.relative_to(ROOT / "gateway").parts[0] in control_plane:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets):
                codes |= constants(node.value)
            elif isinstance(node, ast.Call):
                name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                if name in _CODE_CALLS:
                    codes |= set().union(*(constants(arg) for arg in node.args)) if node.args else set()
    return codes


def _codes_in_readme() -> set[str]:
    section = README.split("**Errors**", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"`([A-Z][A-Z_]+[A-Z])`", section)) - _settings_in_code()


def test_the_readme_lists_exactly_the_error_codes_the_code_answers_with() -> None:
    in_code, in_readme = _codes_in_code(), _codes_in_readme()
    assert {"ACCESS_DENIED", "OPERATION_NOT_ALLOWED", "METHOD_NOT_ALLOWED"} <= in_code  # the scan finds codes
    assert not in_code - in_readme, f"error codes missing from README's error list: {sorted(in_code - in_readme)}"
    assert not in_readme - in_code, f"README lists error codes nothing answers with: {sorted(in_readme - in_code)}"
