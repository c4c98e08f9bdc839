"""`python -m bench.capacity`: also the entry of the simulator pool process the bench starts (`--serve-sim`)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # the project root, when run as a path

from bench.capacity.cli import main

raise SystemExit(main())
