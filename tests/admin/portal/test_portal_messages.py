"""The message catalog is complete: every text a template asks for exists, and the Danish formats hold."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from admin.revocation import REASONS
from admin.portal.i18n import Messages
from gateway.principal import Role

TEMPLATES = Path(__file__).resolve().parents[3] / "admin" / "portal" / "templates"


def test_every_literal_key_in_the_templates_is_in_the_danish_catalog() -> None:
    messages = Messages("da")
    used = {key for path in TEMPLATES.glob("*.html") for key in re.findall(r"""\bt\(\s*["']([a-z_.-]+)["']""", path.read_text())}
    assert len(used) > 50
    assert sorted(key for key in used if key not in messages and not key.endswith(".")) == []  # "x." ~ value: below


def test_every_computed_key_is_in_the_danish_catalog() -> None:
    messages = Messages("da")
    computed = (
        [f"role.{role.value}" for role in Role]
        + [f"status.{status}" for status in ("active", "suspended")]
        + [f"reason.{reason}" for reason in REASONS]
        + [f"level.{level}" for level in ("aggregated", "individual")]
        + [f"certificate.status.{s}" for s in ("valid", "revoked", "expired", "not_yet_valid")]
        + [f"grant.status.{s}" for s in ("active", "pending", "expired", "revoked", "awaiting_approval")]
    )
    assert [key for key in computed if key not in messages] == []


def test_dates_are_danish_time_and_format_and_numbers_group_the_danish_way() -> None:
    messages = Messages("da")
    summer = dt.datetime(2026, 7, 1, 22, 30, tzinfo=dt.UTC)
    assert messages.datetime(summer) == "02.07.2026 00:30"
    assert messages.date(None) == "–"
    assert messages.number(1234567) == "1.234.567" and messages.number(1234.5) == "1.234,50"


def test_every_refusal_code_the_control_plane_raises_has_a_danish_text() -> None:
    root = TEMPLATES.parents[2]
    sources = [*(root / "gateway" / "store").glob("*.py"), *(root / "admin").rglob("*.py")]
    codes = {code for path in sources for code in re.findall(r"""\bcode="([A-Z_]+)\"""", path.read_text())}
    assert {"LOGIN_TAKEN", "FOUR_EYES", "OPERATOR_ROLE"} <= codes
    messages = Messages("da")
    fallbacks = ("BAD_REQUEST", "INVALID", "CONFLICT", "FORBIDDEN", "NOT_FOUND")
    assert sorted(code for code in (*codes, *fallbacks) if f"error.code.{code}" not in messages) == []
