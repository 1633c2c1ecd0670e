"""docs/mdx.md names every function the binder implements (a doc kept honest by a test)."""

from __future__ import annotations

from pathlib import Path

from gateway.mdx.bind import _FUNCTIONS

DOC = (Path(__file__).resolve().parents[3] / "docs" / "mdx.md").read_text(encoding="utf-8").casefold()


def test_every_supported_function_is_documented() -> None:
    missing = [name for name in _FUNCTIONS if f"{name}(" not in DOC]
    assert not missing, f"docs/mdx.md does not mention: {missing}"
