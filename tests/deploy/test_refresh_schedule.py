"""The refresh's schedules in deploy/: both run ``dataadgang refresh`` before 12:00 Danish time,
and the cron line's shell really runs a refresh with the environment file it sources."""

from __future__ import annotations

import configparser
import subprocess
import sys
from pathlib import Path

from gateway.settings import Settings
from gateway.store.store import MetadataStore

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
SERVICE = DEPLOY / "systemd" / "dataadgang-refresh.service"
TIMER = DEPLOY / "systemd" / "dataadgang-refresh.timer"
CRON = DEPLOY / "cron" / "dataadgang-refresh"
INSTALLED = "/opt/dataadgang/.venv/bin/dataadgang"


def _unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(path.read_text(encoding="utf-8"))
    return parser


def _cron_entry() -> tuple[str, str, str, str]:
    """(minute, hour, user, command) of the one schedule line."""
    lines = [line for line in CRON.read_text(encoding="utf-8").splitlines() if line and not line.startswith("#")]
    assert lines[0] == "CRON_TZ=Europe/Copenhagen"
    minute, hour, _dom, _month, _dow, user, command = lines[1].split(None, 6)
    return minute, hour, user, command


def test_the_timer_runs_the_refresh_service_before_noon_danish_time() -> None:
    timer = _unit(TIMER)
    calendar = timer["Timer"]["OnCalendar"]
    assert calendar.endswith(" Europe/Copenhagen")
    hours = [int(h) for h in calendar.split()[1].split(":")[0].split(",")]
    assert hours and max(hours) < 12
    assert timer["Timer"]["Persistent"] == "true"  # a machine that was off at 06:00 catches up at boot
    service = _unit(SERVICE)["Service"]
    assert service["Type"] == "oneshot"  # systemd never starts it while the last run is still going
    assert service["ExecStart"] == f"{INSTALLED} refresh"
    assert service["EnvironmentFile"] == "/etc/dataadgang/env"


def test_cron_has_the_same_schedule_and_command() -> None:
    minute, hour, user, command = _cron_entry()
    assert minute == "0" and [int(h) for h in hour.split(",")] == [6, 9]
    assert user == "dataadgang"
    assert f"exec {INSTALLED} refresh " in command


def test_the_cron_command_runs_a_refresh_with_the_sourced_environment(tmp_path: Path) -> None:
    home = tmp_path / "home"
    (tmp_path / "drop").mkdir()
    env_file = tmp_path / "env"
    env_file.write_text(f"DATAADGANG_HOME={home}\nDATAADGANG_DROP_DIR={tmp_path / 'drop'}\n", encoding="utf-8")
    log = tmp_path / "refresh.log"
    _, _, _, command = _cron_entry()
    command = (command.replace("/etc/dataadgang/env", str(env_file))
               .replace(INSTALLED, f"{sys.executable} -m gateway.cli")
               .replace("/var/log/dataadgang/refresh.log", str(log)))
    result = subprocess.run(["/bin/sh", "-c", command], capture_output=True, text=True, timeout=120, check=False,
                            env={"PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, log.read_text(encoding="utf-8") if log.exists() else result.stderr
    assert "nothing changed" in log.read_text(encoding="utf-8")
    with MetadataStore.from_settings(Settings.from_env({"DATAADGANG_HOME": str(home)})) as store:
        (run,) = store.refresh_log().runs()
    assert run.status == "unchanged" and run.drop_dir == str(tmp_path / "drop")
