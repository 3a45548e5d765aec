"""``python -m mockserver`` runs the CLI."""

from mockserver.cli import main

main(prog_name="mockserver")
