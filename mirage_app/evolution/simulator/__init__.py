"""A faithful Evolution API 2.3.x simulator: demo-mode backend and integration-test peer (SPEC §6)."""

from mirage_app.evolution.simulator.app import create_app
from mirage_app.evolution.simulator.config import Faults, SimConfig
from mirage_app.evolution.simulator.network import SimNetwork
from mirage_app.evolution.simulator.pool import PoolServer, SimulatorPool
from mirage_app.evolution.simulator.server import BackgroundServer, SimulatorServer, main, run, run_pool
from mirage_app.evolution.simulator.state import SimulatorState

__all__ = [
    "BackgroundServer",
    "Faults",
    "PoolServer",
    "SimConfig",
    "SimNetwork",
    "SimulatorPool",
    "SimulatorServer",
    "SimulatorState",
    "create_app",
    "main",
    "run",
    "run_pool",
]
