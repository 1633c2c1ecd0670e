"""The administration portal: security officers, auditors and operators in a browser.

Server-rendered (Starlette + Jinja2), no JavaScript needed, every asset served by the app. It
is a thin door over the control plane's one service layer (``gateway.store.MetadataStore`` and
``admin.*``), which the CLI calls too; the portal decides nothing the store does not.
"""

from __future__ import annotations

from admin.portal.app import Portal, create_portal

__all__ = ["Portal", "create_portal"]
