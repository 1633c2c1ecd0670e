"""The audit trail: one event per request, written before the answer leaves, sealed outside the database.

How a door records a request (the same for GraphQL, XMLA, downloads and identity refusals)::

    event = request_event(principal, client_address=..., operation="execute", outcome="served",
                          database=canonical_name, query=..., request_id=...)
    await broker.record(event)   # raises AuditWriteError: answer 503 and nothing else

Modules: ``events`` (the record and its constructors), ``chain`` (the keyed hash chain in the
metadata database), ``keys`` and ``checkpoints`` (the seal kept outside it), ``log`` (append,
read, verify), ``broker`` (group commit, periodic checkpoints), ``verify``, ``formatters``
(text/CSV/JSONL with client text escaped).
"""

from __future__ import annotations

# The store first: it writes admin events through this package's modules, which in turn read
# the store's tables; importing it here settles that order whichever package is imported first.
import gateway.store  # noqa: F401
from gateway.audit.events import (
    EXPORT_COLUMNS,
    OUTCOMES,
    AuditEvent,
    AuditRecord,
    Outcome,
    admin_event,
    operator_event,
    request_event,
)
from gateway.audit.keys import AuditKeyError, AuditKeys
from gateway.audit.checkpoints import AuditSeal, Checkpoint, CheckpointLog
from gateway.audit.chain import ChainLink
from gateway.audit.verify import TrailCheck
from gateway.audit.log import AuditLog, AuditWriteError
from gateway.audit.broker import AuditBroker

__all__ = [
    "EXPORT_COLUMNS",
    "OUTCOMES",
    "AuditBroker",
    "AuditEvent",
    "AuditKeyError",
    "AuditKeys",
    "AuditLog",
    "AuditRecord",
    "AuditSeal",
    "AuditWriteError",
    "ChainLink",
    "Checkpoint",
    "CheckpointLog",
    "Outcome",
    "TrailCheck",
    "admin_event",
    "operator_event",
    "request_event",
]
