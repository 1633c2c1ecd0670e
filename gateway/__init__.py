"""dataadgang: a secure multi-tenant data access gateway (the data plane and its shared core)."""

__version__ = "0.1.0"
