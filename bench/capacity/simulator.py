"""The simulated Evolution servers, in a process of their own (`--serve-sim`), so that their CPU is counted apart
from Mirage's and from the bench's."""

from __future__ import annotations

import argparse

from bench.capacity.plan import ACK_DELAYS_S, CAPACITY, HOST, SIM_KEY


def serve_sim(args: argparse.Namespace) -> int:
    import mirage_app.evolution.simulator.app as sim_app
    from mirage_app.evolution.simulator.config import SimConfig
    from mirage_app.evolution.simulator.pool import SimulatorPool

    factor = args.factor
    if args.typing == "hold":
        original = sim_app._typing

        async def compressed(state, delay_ms):  # Evolution's hold for the typing time, divided by the factor
            await original(state, delay_ms / factor if delay_ms else delay_ms)

        sim_app._typing = compressed
    config = SimConfig.demo(
        global_key=SIM_KEY,
        seed=args.seed,
        qr_wait_s=0.0,
        honour_delay=args.typing == "hold",
        ack_delays_s=tuple(d / factor for d in ACK_DELAYS_S),
        auto_humans=False,
    )
    ports = [int(p) for p in args.serve_sim.split(",")]
    pool = SimulatorPool(len(ports), config=config, capacity=CAPACITY, host=HOST, ports=ports, log_level="warning")
    pool.serve()
    return 0
