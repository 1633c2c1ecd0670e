"""The principal: who is behind a verified client certificate, as the data path sees it."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import Enum


class Role(str, Enum):
    USER = "user"
    SECURITY_OFFICER = "security_officer"
    AUDITOR = "auditor"
    OPERATOR = "operator"


@dataclass(frozen=True, slots=True)
class Principal:
    """Resolved from the SHA-256 fingerprint of the leaf certificate, never from its CN.

    Immutable and request-scoped: the identity step builds it, the access step reads it.
    Grants are not carried here; access looks them up at request time so that an expired
    or revoked grant stops working on the very next request.
    """

    user_id: int
    login: str  # e.g. 'komb-fli-prod\\kl_pri'
    kommune_kode: str  # three digits, e.g. '101'
    roles: frozenset[Role]
    cert_fingerprint: str  # lowercase hex SHA-256 of the DER leaf certificate
    cert_serial: int
    cert_not_after: dt.datetime  # timezone-aware UTC
