"""After every CRL publish, tell whoever serves it: the publish hook.

nginx reads ``ssl_crl`` only when it (re)loads its configuration, so a revocation reaches
nginx only after a reload. ``DATAADGANG_CRL_PUBLISH_HOOK`` names a command (split like a shell
would, run without one) that the CA runs after each publish, e.g.
``sudo -n /usr/sbin/nginx -s reload`` or ``systemctl reload nginx``. The CA reads it itself, so no caller can forget it. Where systemd
runs the show, ``deploy/systemd/dataadgang-crl-reload.path`` does the same without a setting.
"""

from __future__ import annotations

import os
import shlex
import subprocess
from collections.abc import Mapping
from pathlib import Path

from admin.pki.errors import PKIError

HOOK_ENV = "DATAADGANG_CRL_PUBLISH_HOOK"
HOOK_TIMEOUT_SECONDS = 60


class PublishHookError(PKIError):
    """The CRL was published, but the hook that should pass it on failed."""


def publish_hook_from_env(env: Mapping[str, str] | None = None) -> tuple[str, ...]:
    text = (os.environ if env is None else env).get(HOOK_ENV, "").strip()
    try:
        return tuple(shlex.split(text))
    except ValueError as error:
        raise PKIError(f"{HOOK_ENV} is not a command line: {error}") from None


def run_publish_hook(command: tuple[str, ...], crl_path: Path) -> None:
    """Run the hook (if any); PublishHookError naming the command's first line of output when it fails."""
    if not command:
        return
    try:
        finished = subprocess.run(
            list(command),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=HOOK_TIMEOUT_SECONDS,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise PublishHookError(f"CRL published to {crl_path}, but {HOOK_ENV} could not run: {error}") from None
    if finished.returncode != 0:
        output = (finished.stderr or finished.stdout).strip().splitlines()
        detail = f": {output[-1]}" if output else ""
        raise PublishHookError(
            f"CRL published to {crl_path}, but {HOOK_ENV} exited with {finished.returncode}{detail}"
        )
