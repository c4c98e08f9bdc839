"""A faithful Evolution API 2.3.x simulator: demo-mode backend and integration-test peer (SPEC §6)."""

from mirage_app.evolution.simulator.app import create_app
from mirage_app.evolution.simulator.config import Faults, SimConfig
from mirage_app.evolution.simulator.server import BackgroundServer, SimulatorServer, main, run
from mirage_app.evolution.simulator.state import SimulatorState

__all__ = [
    "BackgroundServer",
    "Faults",
    "SimConfig",
    "SimulatorServer",
    "SimulatorState",
    "create_app",
    "main",
    "run",
]
