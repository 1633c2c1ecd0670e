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
