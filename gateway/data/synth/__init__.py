"""Deterministic synthetic source files for every area (``dataadgang generate``).

Layout written: ``<out>/<area>/<kode>/`` and ``<out>/<area>/benchmark/``, each a source
directory ``dataadgang load`` accepts as-is, with a ``manifest.json`` naming data-as-of.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from gateway.data.layout import AREAS
from gateway.data.synth import borger, kl_databank, ukraine, voksenhandicap
from gateway.data.synth.common import GenerateOptions, connect, create_kommuner

__all__ = ["GenerateOptions", "generate", "SourceDir"]

_GENERATORS = {"ukraine": ukraine.generate, "borger": borger.generate,
               "voksenhandicap": voksenhandicap.generate, "kl_databank": kl_databank.generate}


def expected_dirs(options: GenerateOptions, areas: Sequence[str], kommune_codes: Sequence[str]) -> int:
    """How many source directories :func:`generate` writes (for a progress bar)."""
    wanted = [k for k in kommune_codes if options.wants(k)]
    per_area = {"ukraine": len(wanted) + 1, "borger": len(wanted) + 1, "voksenhandicap": len(wanted) + 1, "kl_databank": 1}
    return sum(per_area[a] for a in areas)


SourceDir = tuple[str, str | None, Path]  # (area, kommune_kode or None for benchmark, directory)


def generate(
    out: Path,
    options: GenerateOptions,
    *,
    areas: Sequence[str] = AREAS,
    tick: Callable[[], None] = lambda: None,
) -> list[SourceDir]:
    """Write source files for ``areas``; the same options give byte-identical files."""
    unknown = [a for a in areas if a not in _GENERATORS]
    if unknown:
        raise ValueError(f"unknown area(s): {', '.join(unknown)}")
    con = connect()
    try:
        create_kommuner(con)
        written: list[SourceDir] = []
        for area in areas:
            for directory in _GENERATORS[area](con, out, options, tick):
                written.append((area, None if directory.name == "benchmark" else directory.name, directory))
        return written
    finally:
        con.close()
