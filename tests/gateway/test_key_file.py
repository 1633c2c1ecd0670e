"""Secret key files (disclosure key, pseudonym key): made once (0600), then the same for every process."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from gateway.key_file import load_or_create
from gateway.settings import Settings


def test_the_key_is_made_once_private_and_then_read_back(tmp_path: Path) -> None:
    path = tmp_path / "home" / "disclosure.key"
    first = load_or_create(path)
    assert len(first) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert load_or_create(path) == first


def test_processes_racing_to_make_it_all_get_the_same_key(tmp_path: Path) -> None:
    path = tmp_path / "disclosure.key"
    with ThreadPoolExecutor(8) as pool:
        keys = set(pool.map(lambda _: load_or_create(path), range(16)))
    assert len(keys) == 1


@pytest.mark.parametrize(("text", "problem"), [("not hex\n", "hexadecimal"), ("abcd\n", "at least 16 bytes")])
def test_a_broken_key_file_is_refused_not_replaced(tmp_path: Path, text: str, problem: str) -> None:
    path = tmp_path / "disclosure.key"
    path.write_text(text, encoding="ascii")
    with pytest.raises(ValueError, match=problem):
        load_or_create(path)
    assert path.read_text(encoding="ascii") == text


def test_the_key_file_is_under_the_home_unless_configured(tmp_path: Path) -> None:
    settings = Settings.from_env({"DATAADGANG_HOME": str(tmp_path)})
    assert settings.resolved_disclosure_key_file == tmp_path / "disclosure.key"
    elsewhere = tmp_path / "secrets" / "dk"
    configured = Settings.from_env({"DATAADGANG_HOME": str(tmp_path), "DATAADGANG_DISCLOSURE_KEY_FILE": str(elsewhere)})
    assert configured.resolved_disclosure_key_file == elsewhere
