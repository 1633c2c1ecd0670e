"""Our own certificate authority: issue, renew, revoke, publish CRLs."""
