"""Every mistake an operator can make on the command line is one line, never a traceback,
across every command group: bad serials, unknown logins, no CA, bad dates, unreadable files,
a wrong store URL, bad settings, usage mistakes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from gateway.cli import main

LOGIN = "komb-fli-prod\\kl_pri"


def one_line_error(home: Path, *args: str, env: dict[str, str] | None = None, exit_code: int = 1) -> str:
    result = CliRunner().invoke(main, ["--home", str(home), *args], env={"DATAADGANG_METADATA_URL": "", **(env or {})})
    assert isinstance(result.exception, SystemExit), result.exception  # handled, not a crash
    assert result.exit_code == exit_code, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    assert "Traceback" not in result.output
    return lines[0]


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    runner = CliRunner()
    for args in (["kommune", "onboard", "101"], ["user", "add", "--kommune", "101", "--login", LOGIN]):
        result = runner.invoke(main, ["--home", str(home), *args], env={"DATAADGANG_METADATA_URL": ""})
        assert result.exit_code == 0, result.output
    return home


CASES: dict[str, tuple[list[str], dict[str, str], int, str]] = {
    # name: (arguments, environment, exit code, text the line must contain)
    "bad serial": (["user", "cert", "revoke", "zz", "--reason", "superseded"], {}, 2, "not a hexadecimal serial number"),
    "bad reason": (["user", "cert", "revoke", "AB", "--reason", "lost"], {}, 2, "'lost' is not one of"),
    "unknown login": (["user", "cert", "list", "nobody\\here"], {}, 1, "no user 'nobody\\here'"),
    "unknown login, issue": (["user", "cert", "issue", "nobody\\here"], {}, 1, "no user"),
    "missing CA": (["pki", "list"], {}, 1, "run `dataadgang pki init` first"),
    "missing CA, check": (["pki", "check"], {}, 1, "pki init"),
    "unknown serial, revoke": (["user", "cert", "revoke", "ABCDEF", "--reason", "superseded"], {}, 1, "pki init"),
    "bad date, grant": (["grant", "add", LOGIN, "ukraine", "--purpose", "x", "--to", "tomorrow"], {}, 1, "not an ISO date"),
    "bad date, audit": (["audit", "list", "--since", "last week"], {}, 1, "not an ISO date"),
    "bad date, build-demo": (["build-demo", "--as-of", "2024-13-01"], {}, 2, "is not a date"),
    "unreadable source directory": (["load", "ukraine", "/nonexistent/src", "--kommune", "101"], {}, 1, "/nonexistent/src"),
    "export into a missing directory": (["audit", "export", "--format", "csv", "--out", "/nonexistent/x.csv"], {}, 1,
                                        "No such file or directory"),
    "store URL nonsense": (["user", "list"], {"DATAADGANG_METADATA_URL": "not a url"}, 1, "metadata store: Could not parse"),
    "store unreachable": (["kommune", "list"], {"DATAADGANG_METADATA_URL": "postgresql+psycopg://nobody@127.0.0.1:1/x"}, 1,
                          "metadata store: connection failed"),
    "bad number setting": (["kommune", "list"], {"DATAADGANG_PORT": "eighty"}, 1, "DATAADGANG_PORT must be a whole number"),
    "unreadable passphrase file": (["pki", "list"], {"DATAADGANG_TLS_KEY_PASSPHRASE_FILE": "/nonexistent/secret"}, 1,
                                   "DATAADGANG_TLS_KEY_PASSPHRASE_FILE: cannot read /nonexistent/secret"),
    "unknown demo kommune": (["demo", "--no-serve", "--kommune", "999"], {}, 2, "not a kommune code: 999"),
    "missing option": (["user", "add", "--login", "x\\y"], {}, 2, "Missing option '--kommune'"),
    "unknown command": (["pki", "issue"], {}, 2, "No such command 'issue'"),
    "serve without a certificate": (["serve"], {}, 1, "No server certificate"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_mistake_is_one_line(home: Path, case: str) -> None:
    args, env, exit_code, text = CASES[case]
    assert text in one_line_error(home, *args, env=env, exit_code=exit_code)


def test_a_schema_directory_that_does_not_exist_is_one_line(home: Path, tmp_path: Path) -> None:
    message = one_line_error(home, "grant", "add", LOGIN, "ukraine", "--purpose", "x",
                             env={"DATAADGANG_SCHEMA_DIR": str(tmp_path / "nowhere")})
    assert "the schema directory does not exist" in message


def test_a_refused_issue_leaves_no_ca_behind(home: Path) -> None:
    assert "no user" in one_line_error(home, "user", "cert", "issue", "nobody\\here")
    assert not (home / "ca").exists()
