"""Migration scripts, applied in order by MetadataStore.migrate()."""
