"""`SimulatorState`: one simulated Evolution server's world, its route operations and the test/control API."""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from dataclasses import asdict
from typing import Any, Concatenate, ParamSpec, TypeVar

from mirage_app.core.clock import Clock, system_clock
from mirage_app.evolution.simulator import payloads
from mirage_app.evolution.simulator.config import Faults, SimConfig
from mirage_app.evolution.simulator.core import SimCore
from mirage_app.evolution.simulator.edits import Edits
from mirage_app.evolution.simulator.groups import Groups
from mirage_app.evolution.simulator.lifecycle import Lifecycle
from mirage_app.evolution.simulator.messaging import Messaging
from mirage_app.evolution.simulator.models import SimMessage
from mirage_app.evolution.simulator.network import SimNetwork
from mirage_app.evolution.simulator.proxy import SimProxies
from mirage_app.evolution.simulator.reactions import Reactions
from mirage_app.evolution.simulator.rich import RichMessaging
from mirage_app.evolution.simulator.status import Status

P = ParamSpec("P")
R = TypeVar("R")


def forward(attribute: str, method: Callable[Concatenate[Any, P], R]) -> Callable[Concatenate[Any, P], R]:
    """Expose `method` of the object held in `attribute`, keeping its signature and docstring."""

    @functools.wraps(method)
    def call(self: Any, *args: P.args, **kwargs: P.kwargs) -> R:
        return method(getattr(self, attribute), *args, **kwargs)

    return call


class SimulatorState:
    """Thread-safe and in-memory. `rng` (default `Random(config.seed)`) drives every random choice.

    States built on one `network` are servers of one WhatsApp network: their numbers reach each other."""

    def __init__(
        self,
        config: SimConfig | None = None,
        *,
        rng: random.Random | None = None,
        clock: Clock | None = None,
        network: SimNetwork[SimCore] | None = None,
    ) -> None:
        self.config = config or SimConfig()
        rng = rng or random.Random(self.config.seed)
        self.core = SimCore(self.config, rng, clock or system_clock, network)
        self.lifecycle = Lifecycle(self.core)
        self.messaging = Messaging(self.core)
        self.rich = RichMessaging(self.core, self.messaging)
        self.reactions = Reactions(self.core, self.messaging)
        self.status = Status(self.core, self.messaging)
        self.edits = Edits(self.core, self.messaging)
        self.groups = Groups(self.core, self.messaging)
        self.proxies = SimProxies(self.core)

    scan = forward("lifecycle", Lifecycle.scan)
    rotate_qr = forward("lifecycle", Lifecycle.rotate_qr)
    drop_connection = forward("lifecycle", Lifecycle.drop_connection)
    add_human = forward("messaging", Messaging.add_human)
    inject_inbound = forward("messaging", Messaging.inject_inbound)

    @property
    def faults(self) -> Faults:
        return self.config.faults

    @property
    def network(self) -> SimNetwork[SimCore]:
        return self.core.network

    @property
    def is_down(self) -> bool:
        return self.core.down

    def set_faults(self, **changes: Any) -> Faults:
        """Change fault knobs at runtime (see `Faults`); unknown names or bad values raise ValueError."""
        with self.core.lock:
            self.config.faults.update(changes)
            return self.config.faults

    def wait_idle(self, timeout: float = 5.0) -> bool:
        """Wait until every scheduled receipt, reply and webhook delivery (with retries) is done."""
        return self.core.dispatcher.wait_idle(timeout)

    def messages(self, instance: str | None = None, *, from_me: bool | None = None) -> list[SimMessage]:
        """The message log, optionally for one instance and one direction (`from_me=True`: its sends)."""
        with self.core.lock:
            return [
                m
                for m in self.core.messages
                if (instance is None or m.instance == instance) and (from_me is None or m.from_me == from_me)
            ]

    def events(self, instance: str | None = None, event: str | None = None) -> list[dict[str, Any]]:
        """Every emitted event (whether or not a webhook wanted it), oldest first."""
        with self.core.lock:
            return [
                e
                for e in self.core.emitted
                if (instance is None or e["instance"] == instance) and (event is None or e["event"] == event)
            ]

    def snapshot(self) -> dict[str, Any]:
        """A JSON-able dump for `GET /_sim/state` and debugging."""
        core = self.core
        with core.lock:
            return {
                "config": {k: v for k, v in asdict(self.config).items() if k != "faults"},
                "faults": asdict(self.config.faults),
                "down": core.down,
                "instances": [
                    {
                        "name": inst.name,
                        "instanceId": inst.instance_id,
                        "token": inst.token,
                        "status": inst.status,
                        "phone": inst.phone,
                        "profileName": inst.profile_name,
                        "qrCount": inst.qr_count,
                        "webhook": payloads.webhook_row(inst.webhook) if inst.webhook else None,
                        "pendingReceptions": len(core.pending.get(inst.name, [])),
                    }
                    for inst in core.instances.values()
                ],
                "humans": [asdict(human) for human in core.humans.values()],
                "messages": [asdict(m) | {"at": payloads.iso(m.at)} for m in core.messages[-200:]],
                "presences": core.presences[-200:],
                "reads": core.reads[-200:],
                "events": list(core.emitted)[-200:],
                "webhookAttempts": [asdict(a) for a in list(core.dispatcher.attempts)[-200:]],
            }

    def close(self) -> None:
        """Stop the delivery worker; queued deliveries are dropped."""
        self.core.dispatcher.close()
