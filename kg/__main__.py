"""``python -m kg`` runs the ``yibao`` command line."""

from kg.cli import main

main()
