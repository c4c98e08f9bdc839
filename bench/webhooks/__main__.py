"""`python -m bench.webhooks`: also the entry of the baseline server process the bench starts (`--serve-baseline`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, when run as a path

from bench.webhooks.cli import main

raise SystemExit(main())
