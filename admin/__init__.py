"""dataadgang control plane: PKI operations, later the security officers' portal."""
