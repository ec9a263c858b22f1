"""``python -m agentdur``: the same as the ``agentdur`` command."""

from ._cli import main

raise SystemExit(main())
