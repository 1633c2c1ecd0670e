"""The streamed zip: readable by zipfile and by the unzip tool, the same bytes for the same version."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import zipfile
from pathlib import Path

from gateway.deliveries.zipstream import zip_chunks

WHEN = dt.datetime(2025, 11, 30, 6, 15, tzinfo=dt.UTC)


def _content(n: int) -> list[bytes]:
    return [f"række {i};{i * 7}\r\n".encode() for i in range(n)]


def test_a_streamed_zip_holds_every_file_intact() -> None:
    chunks = list(zip_chunks([("a.csv", _content(20000)), ("b.csv", [b"x"])], modified=WHEN))
    assert len(chunks) > 3  # sent piece by piece, not built whole
    with zipfile.ZipFile(io.BytesIO(b"".join(chunks))) as archive:
        assert archive.testzip() is None
        assert archive.read("a.csv") == b"".join(_content(20000))
        assert archive.read("b.csv") == b"x"
        assert archive.getinfo("a.csv").date_time == (2025, 11, 30, 6, 15, 0)


def test_one_version_zips_to_the_same_bytes() -> None:
    first = b"".join(zip_chunks([("a.csv", _content(100))], modified=WHEN))
    second = b"".join(zip_chunks([("a.csv", _content(100))], modified=WHEN))
    assert first == second


def test_the_unzip_tool_reads_it(tmp_path: Path) -> None:
    path = tmp_path / "p.zip"
    path.write_bytes(b"".join(zip_chunks([("DSA-101-844.csv", _content(50))], modified=WHEN)))
    result = subprocess.run(["unzip", "-t", str(path)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
