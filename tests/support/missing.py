"""One rule for a real part a test needs (PostgreSQL, nginx, openssl, Chromium, the OIDC provider):
missing fails under ``CI=true`` (``scripts/setup --test`` installs everything), and skips visibly
on a laptop without it."""

from __future__ import annotations

import os
from typing import NoReturn

import pytest


def missing_part(message: str) -> NoReturn:
    if os.environ.get("CI") == "true":
        pytest.fail(message)
    pytest.skip(message)
