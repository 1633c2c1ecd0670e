"""``dataadgang refresh``: only changed inputs are rebuilt, a bad file leaves the old version
serving and is reported, runs are recorded, dry runs change nothing, runs never overlap."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from gateway.cli import main
from gateway.files import LockBusyError, try_exclusive_lock
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings
from gateway.store.store import MetadataStore

AS_OF = "2024-01-31"


def _cli(home: Path, *args: str) -> Result:
    return CliRunner().invoke(main, ["--home", str(home), *args])


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A home whose drop directory holds Ukraine sources for 101, 147 and their benchmark, and the KL Databank."""
    home = tmp_path / "home"
    made = _cli(home, "generate", str(home / "drop"), "--kommune", "101", "--kommune", "147", "--area", "ukraine",
                "--area", "kl_databank", "--as-of", AS_OF, "--scale", "0.05", "--format", "csv")
    assert made.exit_code == 0, made.output
    return home


def _versions(home: Path) -> dict[str, int]:
    registry = DatabaseRegistry(home / "data")
    try:
        return {entry.name: entry.version for entry in registry.all()}
    finally:
        registry.close()


def _runs(home: Path) -> list:  # type: ignore[type-arg]
    with MetadataStore.from_settings(Settings.from_env({"DATAADGANG_HOME": str(home)})) as store:
        return store.refresh_log().runs(limit=50)


def test_a_second_run_over_the_same_drop_changes_nothing_and_says_so(home: Path) -> None:
    first = _cli(home, "refresh")
    assert first.exit_code == 0, first.output
    assert "loaded     FLIS Ukraine-101: version 1" in first.output
    assert "refresh run 1: 4 changed, 0 unchanged, 0 failed" in first.output
    assert "loaded     FLIS Ukraine Benchmark: version 1" in first.output
    before = _versions(home)
    assert before == {"FLIS KL Databank": 1, "FLIS Ukraine-101": 1, "FLIS Ukraine-147": 1, "FLIS Ukraine Benchmark": 1}

    second = _cli(home, "refresh")
    assert second.exit_code == 0, second.output
    assert "refresh run 2: nothing changed (4 databases unchanged)" in second.output
    assert _versions(home) == before
    runs = _runs(home)
    assert [(r.id, r.status, r.changed, r.unchanged, r.failed) for r in runs] == [
        (2, "unchanged", 0, 4, 0), (1, "changed", 4, 0, 0)]
    assert runs[1].rows > 0 and runs[0].rows == 0
    assert runs[1].finished_at is not None and runs[1].started_at <= runs[1].finished_at
    assert {entry["database"] for entry in runs[1].report} == set(before)


def test_only_the_database_whose_input_changed_is_rebuilt(home: Path) -> None:
    assert _cli(home, "refresh").exit_code == 0
    manifest = home / "drop" / "ukraine" / "147" / "manifest.json"
    manifest.write_text(json.dumps({"data_as_of": "2024-02-01", "source": "CPR, day 2"}), encoding="utf-8")
    again = _cli(home, "refresh")
    assert again.exit_code == 0, again.output
    assert "loaded     FLIS Ukraine-147: version 2" in again.output
    assert "unchanged  FLIS Ukraine-101 (version 1)" in again.output
    assert _versions(home) == {"FLIS KL Databank": 1, "FLIS Ukraine-101": 1, "FLIS Ukraine-147": 2, "FLIS Ukraine Benchmark": 1}
    registry = DatabaseRegistry(home / "data")
    entry = registry.get("FLIS Ukraine-147")
    registry.close()
    assert entry is not None and str(entry.data_as_of) == "2024-02-01"


def test_a_refused_file_leaves_the_old_version_serving_and_is_reported(home: Path) -> None:
    assert _cli(home, "refresh").exit_code == 0
    events = home / "drop" / "ukraine" / "147" / "haendelser.csv"
    lines = events.read_text(encoding="utf-8").splitlines()
    lines[3] = "20x2" + lines[3][4:]  # row 4 (the header is row 1): not a date
    events.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (home / "drop" / "ukraine" / "101" / "manifest.json").write_text('{"data_as_of": "2024-02-01"}', encoding="utf-8")

    result = _cli(home, "refresh")
    assert result.exit_code == 1
    assert "FAILED     FLIS Ukraine-147: " in result.output and "haendelser.csv, row 4" in result.output
    assert "(the current version keeps serving)" in result.output
    assert "loaded     FLIS Ukraine-101: version 2" in result.output  # the others go on
    assert "1 changed, 2 unchanged, 1 failed" in result.output
    assert _versions(home)["FLIS Ukraine-147"] == 1
    registry = DatabaseRegistry(home / "data")
    with registry.connect("FLIS Ukraine-147") as connection:  # the old version still answers
        assert connection.execute(sa.text("SELECT count(*) FROM haendelser")).scalar_one() > 0
    registry.close()
    (run, *_) = _runs(home)
    assert (run.status, run.changed, run.failed) == ("partial", 1, 1)
    status = _cli(home, "refresh", "status")
    assert status.exit_code == 0
    line = next(x for x in status.output.splitlines() if x.startswith("FLIS Ukraine-147"))
    assert "v1" in line and "failed: " in line and "row 4" in line
    as_json = json.loads(_cli(home, "refresh", "status", "--json").output)
    state = next(d for d in as_json["databases"] if d["name"] == "FLIS Ukraine-147")
    assert state["last_status"] == "failed" and state["version"] == 1


def test_a_dry_run_validates_but_swaps_and_records_nothing(home: Path) -> None:
    events = home / "drop" / "ukraine" / "147" / "haendelser.csv"
    text = events.read_text(encoding="utf-8").splitlines()
    events.write_text("\n".join([*text, "not,a,valid,row"]) + "\n", encoding="utf-8")
    result = _cli(home, "refresh", "--dry-run")
    assert result.exit_code == 1, result.output
    assert "would load FLIS Ukraine-101" in result.output and "valid" in result.output
    assert "FAILED     FLIS Ukraine-147" in result.output
    assert "would load FLIS Ukraine Benchmark" in result.output
    assert "dry run: 3 would change, 0 unchanged, 1 failed" in result.output
    assert _versions(home) == {}
    assert _runs(home) == []


def test_directories_that_name_no_database_are_reported(home: Path) -> None:
    (home / "drop" / "ukraine" / "999").mkdir()
    (home / "drop" / "ukraine" / "999" / "haendelser.csv").write_text("x\n", encoding="utf-8")
    (home / "drop" / "kl_databank" / "101").mkdir()  # the KL Databank has no kommune databases
    (home / "drop" / "kl_databank" / "101" / "x.csv").write_text("x\n", encoding="utf-8")
    (home / "drop" / "vejr").mkdir()
    (home / "drop" / ".uploading").mkdir()  # hidden: ignored
    (home / "drop" / "ukraine" / "101" / "haendelser.csv.partial").write_text("half", encoding="utf-8")  # ignored
    result = _cli(home, "refresh")
    assert result.exit_code == 1
    assert "ukraine/999: not a database of ukraine (expected a kommune code or 'benchmark')" in result.output
    assert "kl_databank/101: not a database of kl_databank (expected 'benchmark')" in result.output
    assert "vejr: not a data area" in result.output
    assert "4 changed" in result.output  # the good ones still load
    assert "FLIS Ukraine-101: version 1" in result.output


def test_a_missing_drop_directory_is_a_clear_error(tmp_path: Path) -> None:
    result = _cli(tmp_path / "home", "refresh", "--drop", str(tmp_path / "nowhere"))
    assert result.exit_code == 1
    assert "the drop directory" in result.output and "does not exist" in result.output
    assert "Traceback" not in result.output


def test_a_refresh_while_another_holds_the_lock_changes_nothing(home: Path) -> None:
    (home / "data").mkdir(parents=True)
    with try_exclusive_lock(home / "data" / ".refresh.lock"):
        result = _cli(home, "refresh")
    assert result.exit_code == 75
    assert "another refresh is running" in result.output
    assert _versions(home) == {} and _runs(home) == []


@pytest.mark.slow
def test_two_refresh_processes_never_overlap(tmp_path: Path) -> None:
    """Two real processes: the second, started while the first holds the lock, refuses at once."""
    home = tmp_path / "home"
    made = _cli(home, "generate", str(home / "drop"), "--kommune", "101", "--kommune", "147", "--kommune", "751",
                "--area", "ukraine", "--as-of", AS_OF, "--scale", "2", "--format", "csv")
    assert made.exit_code == 0, made.output
    (home / "data").mkdir(parents=True)
    env = {**os.environ, "DATAADGANG_HOME": str(home)}
    command = [sys.executable, "-m", "gateway.cli", "refresh"]
    first = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:  # wait until the first process holds the lock, then freeze it there
            try:
                with try_exclusive_lock(home / "data" / ".refresh.lock"):
                    pass
            except LockBusyError:
                first.send_signal(signal.SIGSTOP)
                break
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.001)
        second = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60, check=False)
        assert second.returncode == 75, second.stdout + second.stderr
        assert "another refresh is running" in second.stderr
    finally:
        first.send_signal(signal.SIGCONT)
    out, err = first.communicate(timeout=120)
    assert first.returncode == 0, out + err
    assert "4 changed" in out  # three kommuner and their benchmark
    runs = _runs(home)
    assert len(runs) == 1 and runs[0].status == "changed"


@pytest.mark.slow
def test_a_run_stopped_by_sigterm_is_recorded_as_stopped_and_the_next_run_finishes_the_work(tmp_path: Path) -> None:
    home = tmp_path / "home"
    made = _cli(home, "generate", str(home / "drop"), "--kommune", "101", "--kommune", "147", "--kommune", "751",
                "--area", "ukraine", "--as-of", AS_OF, "--scale", "2", "--format", "csv")
    assert made.exit_code == 0, made.output
    (home / "data").mkdir(parents=True)
    env = {**os.environ, "DATAADGANG_HOME": str(home)}
    run = subprocess.Popen([sys.executable, "-m", "gateway.cli", "refresh"], env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 60
    engine = sa.create_engine(f"sqlite:///{home / 'metadata.sqlite'}")
    try:
        while True:  # stop it once its run is on record, as systemd does when a run overstays
            try:
                with engine.connect() as connection:
                    running = connection.execute(sa.text("SELECT count(*) FROM refresh_runs")).scalar_one()
            except sa.exc.OperationalError:
                running = 0  # the store is not migrated yet
            if running:
                run.send_signal(signal.SIGTERM)
                break
            assert run.poll() is None, run.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.002)
    finally:
        engine.dispose()
    run.communicate(timeout=60)
    assert run.returncode == 128 + signal.SIGTERM
    (stopped,) = _runs(home)
    assert stopped.status == "failed" and stopped.finished_at is not None
    assert any("the run stopped after" in str(entry.get("error")) for entry in stopped.report)
    assert not list((home / "data").rglob("*.partial*"))  # no half-built version left behind
    again = _cli(home, "refresh")
    assert again.exit_code == 0, again.output
    assert set(_versions(home)) == {"FLIS Ukraine-101", "FLIS Ukraine-147", "FLIS Ukraine-751", "FLIS Ukraine Benchmark"}


def test_the_input_hash_follows_content_and_names_and_ignores_uploads_in_progress(tmp_path: Path) -> None:
    from gateway.data.refresh import input_hash

    source = tmp_path / "101"
    source.mkdir()
    (source / "haendelser.csv").write_bytes(b"a,b\n1,2\n")
    first = input_hash(source)
    (source / "haendelser.csv.partial").write_bytes(b"half an upload")
    (source / ".hidden").write_bytes(b"x")
    assert input_hash(source) == first
    (source / "haendelser.csv").write_bytes(b"a,b\n1,3\n")
    assert input_hash(source) != first
    (source / "haendelser.csv").write_bytes(b"a,b\n1,2\n")
    assert input_hash(source) == first
    (source / "haendelser.csv").rename(source / "other.csv")
    assert input_hash(source) != first


def test_a_run_reports_its_progress_per_database(home: Path) -> None:
    from gateway.data.refresh import refresh

    settings = Settings.from_env({"DATAADGANG_HOME": str(home)})
    steps: list[str] = []
    totals: list[int] = []
    advanced: list[int] = []
    with MetadataStore.from_settings(settings) as store:
        store.migrate()
        report = refresh(settings, store.refresh_log(), drop_dir=home / "drop", started_by="test",
                         on_start=totals.append, step=steps.append, advance=lambda: advanced.append(1))
    assert totals == [4] and len(advanced) == 4 and report.status == "changed"
    for database in ("FLIS KL Databank", "FLIS Ukraine-101", "FLIS Ukraine-147", "FLIS Ukraine Benchmark"):
        mine = [s for s in steps if s.startswith(f"{database}: ")]
        assert f"{database}: checking for changes" in mine
        assert any("building cube tables" in s for s in mine) and any("writing the new version" in s for s in mine)
