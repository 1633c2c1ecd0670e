"""``python -m gateway.cli``: the same as the ``dataadgang`` console script."""

from gateway.cli import main

main()
