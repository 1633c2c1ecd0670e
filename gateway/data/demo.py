"""The demo data set: synthetic source files for all 98 kommuner and every area, loaded.

``build_demo_data`` is what ``dataadgang build-demo`` (and the lead's ``dataadgang demo``)
call. Loads run on a few threads: DuckDB does the work outside the GIL.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta
from pathlib import Path

from gateway.data.layout import AREAS
from gateway.data.loader import LoadRequest, load_database
from gateway.data.progress import progress_bar
from gateway.data.synth import GenerateOptions, expected_dirs, generate
from gateway.model.kommuner import load_kommuner
from gateway.model.load import load_catalog
from gateway.registry import DatabaseRegistry
from gateway.settings import Settings

DEFAULT_SEED = 2022


def default_as_of() -> date:
    """Yesterday: the Ukraine report is updated each morning with the previous day's data."""
    return date.today() - timedelta(days=1)


def build_demo_data(
    settings: Settings,
    *,
    seed: int = DEFAULT_SEED,
    scale: float = 1.0,
    progress: bool = True,
    as_of: date | None = None,
    kommuner: Sequence[str] | None = None,
    areas: Sequence[str] = AREAS,
    workers: int | None = None,
) -> list[str]:
    """Generate and load the demo databases into ``settings.data_dir``; returns their names."""
    options = GenerateOptions(seed=seed, as_of=as_of or default_as_of(), scale=scale,
                              kommuner=tuple(kommuner) if kommuner else None)
    registry = DatabaseRegistry.from_settings(settings)
    catalog = load_catalog(settings.schema_dir)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix="demo-sources-", dir=settings.data_dir))
    try:
        codes = [k.kode for k in load_kommuner()]
        with progress_bar(progress) as bar:
            task = bar.add_task("Generating source files", total=expected_dirs(options, areas, codes))
            sources = generate(scratch, options, areas=areas, tick=lambda: bar.advance(task))
            task = bar.add_task("Loading databases", total=len(sources))

            def load(source: tuple[str, str | None, Path]) -> str:
                area, kode, directory = source
                request = LoadRequest(area, kode, directory)
                result = load_database(request, schema_dir=settings.schema_dir, registry=registry,
                                       model=catalog.areas[area])
                bar.advance(task)
                return result.database.name

            with ThreadPoolExecutor(max_workers=workers or max(2, min(4, os.cpu_count() or 2))) as pool:
                names = list(pool.map(load, sources))
        return names
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
        registry.close()
