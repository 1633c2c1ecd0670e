"""A zip written while it is sent: no temporary file, memory bounded by one chunk.

``zipfile`` writes to a stream it cannot seek by putting each entry's sizes and CRC in a
data descriptor after the data, which every unzip tool reads. Entry times come from the data
version, so one version always zips to the same bytes (its ETag stays honest).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from collections.abc import Iterable, Iterator


class _Sink:
    """A write-only file object that hands what was written to the generator below."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        data = b"".join(self.parts)
        self.parts.clear()
        return data


def zip_chunks(files: Iterable[tuple[str, Iterable[bytes]]], *, modified: dt.datetime | None) -> Iterator[bytes]:
    """Yield the zip of ``files`` (name, content chunks) piece by piece."""
    stamp = (modified or dt.datetime(1980, 1, 1, tzinfo=dt.UTC)).astimezone(dt.UTC).timetuple()[:6]
    sink = _Sink()
    with zipfile.ZipFile(sink, mode="w", compression=zipfile.ZIP_DEFLATED) as archive:  # type: ignore[arg-type]
        for name, content in files:
            info = zipfile.ZipInfo(name, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            with archive.open(info, mode="w", force_zip64=True) as entry:
                for chunk in content:
                    entry.write(chunk)
                    if sink.position and sink.parts:
                        yield sink.take()
            yield sink.take()
    yield sink.take()
