"""``python -m gateway`` runs the command line, like the ``care-gateway`` script."""

from gateway.cli import main

raise SystemExit(main())
