"""Message catalogs: every UI text by key, one YAML file per language (``messages/<lang>.yaml``).

Danish is the users' language and the only catalog today; another language is one more file
with the same keys (a test checks that every key a template uses is in the catalog). Dates are
shown in Danish time and format, numbers with Danish digit grouping; the formats are catalog
entries too.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

from gateway.errors import UserError

CATALOG_DIR = Path(__file__).resolve().parent / "messages"


class Messages:
    def __init__(self, language: str = "da") -> None:
        with (CATALOG_DIR / f"{language}.yaml").open(encoding="utf-8") as handle:
            loaded = yaml.safe_load(handle)
        if not isinstance(loaded, dict) or not all(isinstance(v, str) for v in loaded.values()):
            raise ValueError(f"message catalog {language}.yaml must map keys to texts")
        self.language = language
        self._texts: dict[str, str] = loaded
        self._zone = ZoneInfo(self._texts["format.timezone"])

    def __call__(self, key: str, **values: object) -> str:
        """The text for ``key``; a missing key is a bug and raises (tests catch it)."""
        text = self._texts[key]
        return text.format(**values) if values else text

    def __contains__(self, key: str) -> bool:
        return key in self._texts

    def error(self, error: UserError) -> str:
        """A refusal in the users' language: the error's own code (``error.code.LOGIN_TAKEN``),
        else its class's (``error.code.INVALID``). The English message stays for the CLI and logs."""
        for code in (error.code, type(error).code, UserError.code):
            key = f"error.code.{code}"
            if key in self._texts:
                return self._texts[key]
        raise KeyError(f"error.code.{UserError.code}")

    def datetime(self, value: dt.datetime | None) -> str:
        if value is None:
            return self._texts["format.none"]
        return value.astimezone(self._zone).strftime(self._texts["format.datetime"])

    def date(self, value: dt.datetime | None) -> str:
        if value is None:
            return self._texts["format.none"]
        return value.astimezone(self._zone).strftime(self._texts["format.date"])

    def number(self, value: int | float) -> str:
        grouped = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
        separator, decimal = self._texts["format.thousands"], self._texts["format.decimal"]
        return grouped.replace(",", "\0").replace(".", decimal).replace("\0", separator)
