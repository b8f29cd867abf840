"""`python -m ingest PATH...` is `lotse ingest PATH...`."""

import sys

from assistant.cli import main

sys.exit(main(["ingest", *sys.argv[1:]]))
