"""The metadata store: kommuner, users, certificates, grants, the identity revision, the audit chain."""

from __future__ import annotations

from gateway.store.errors import ConflictError, ForbiddenError, RecordNotFoundError, ValidationError
from gateway.store.store import MetadataStore
from gateway.store.views import Actor, CertificateView, GrantInfo, KommuneView, UserView

__all__ = [
    "Actor",
    "CertificateView",
    "ConflictError",
    "ForbiddenError",
    "GrantInfo",
    "KommuneView",
    "MetadataStore",
    "RecordNotFoundError",
    "UserView",
    "ValidationError",
]
