"""Deliveries: data leaving the gateway as files (datapakker, CSV/Parquet exports).

Every delivery is rendered from a cell set the caller's :class:`gateway.api.session.DataSession`
handed out, so access, the cell budget, disclosure control and the audit trail are the ones
every other door has. The modules here only turn cell sets into files.
"""
