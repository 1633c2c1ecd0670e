"""The one error the PKI raises on purpose.

Internal family (not ``UserError``): a refused certificate must reach a client only as the
uniform ``AuthenticationError``; the CLI shows the text to the operator as a one-liner.
"""

from __future__ import annotations

from gateway.errors import DataadgangError


class PKIError(DataadgangError):
    """A certificate authority operation or a certificate check failed; the text says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason
