"""`python -m mirage_app.evolution.simulator --port 8081`."""

import sys

from mirage_app.evolution.simulator.server import main

sys.exit(main())
