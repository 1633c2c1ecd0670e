"""Per-area transforms: staged ``src_<table>`` tables -> the cube tables the model names."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gateway.data.transform import borger, kl_databank, ukraine, voksenhandicap

Builder = Callable[..., None]  # (con, labels, *, kommune_kode, as_of, pseudonym_key) -> None

BUILDERS: Mapping[str, Builder] = {
    "ukraine": ukraine.build,
    "borger": borger.build,
    "voksenhandicap": voksenhandicap.build,
    "kl_databank": kl_databank.build,
}
