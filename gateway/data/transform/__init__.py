"""Per-area transforms: staged ``src_<table>`` tables -> the cube tables the model names."""

from __future__ import annotations

from collections.abc import Callable, Mapping

from gateway.data.transform import borger, kl_databank, ukraine, voksenhandicap

# (con, labels, *, kommune_kode, as_of, pseudonym_key, schema_dir) -> None, the same for every
# area: pseudonym_key keys the pseudonyms of a benchmark without personnumre, schema_dir is where
# reference lists kept beside the cube models live (Voksenhandicap's målgruppe codes); an area
# takes both whether it uses them or not.
Builder = Callable[..., None]


BUILDERS: Mapping[str, Builder] = {
    "ukraine": ukraine.build,
    "borger": borger.build,
    "voksenhandicap": voksenhandicap.build,
    "kl_databank": kl_databank.build,
}
