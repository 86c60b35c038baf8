"""`python -m searchapp`: the `searchapp` command (how a server starts its watcher)."""

from .cli import main

main(prog_name="searchapp")
