"""The simulator's shared world: registries, the clock and RNG, and webhook emission.

Every mutation happens under `lock`, the RLock of the `SimNetwork` the core belongs to (request handlers, the
control API and the delivery workers of every server of the network touch the world). Emission only queues
deliveries, so holding the lock never waits on the network.

A core can be `down` (its server crashed, see `pool.py`): its delivery worker pauses and receptions wait in
`pending`, as for an offline phone, until it comes back up; nothing is lost and nothing runs twice.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from datetime import datetime
from typing import Any

from mirage_app.core.clock import Clock
from mirage_app.evolution.simulator import envelope, payloads
from mirage_app.evolution.simulator.config import SimConfig
from mirage_app.evolution.simulator.delivery import Delivery, WebhookDispatcher
from mirage_app.evolution.simulator.ids import IdFactory
from mirage_app.evolution.simulator.models import SimHuman, SimInstance, SimMessage
from mirage_app.evolution.simulator.network import SimNetwork
from mirage_app.evolution.webhook import event_suffix, normalise_event_name


class SimCore:
    def __init__(
        self, config: SimConfig, rng: random.Random, clock: Clock, network: SimNetwork[SimCore] | None = None
    ) -> None:
        self.config = config
        self.rng = rng
        self.clock = clock
        self.ids = IdFactory(rng)
        self.network: SimNetwork[SimCore] = network or SimNetwork()
        self.lock = self.network.lock
        self.down = False
        self.instances: dict[str, SimInstance] = {}
        self.messages: list[SimMessage] = []
        self.presences: list[dict[str, Any]] = []
        self.reads: list[dict[str, Any]] = []
        self.pending: dict[str, list[Callable[[], None]]] = {}  # instance → receptions waiting for `open`
        self.emitted: deque[dict[str, Any]] = deque(maxlen=2000)  # every event, even those no webhook wants
        self.dispatcher = WebhookDispatcher(config, random.Random(rng.getrandbits(64)))

    @property
    def humans(self) -> dict[str, SimHuman]:
        return self.network.humans

    @property
    def lids(self) -> dict[str, str]:
        return self.network.lids

    def now(self) -> datetime:
        return self.clock.now()

    def chance(self, probability: float) -> bool:
        with self.lock:
            return probability > 0 and self.rng.random() < probability

    def instance(self, name: str) -> SimInstance:
        """The named instance, or Evolution's 404 envelope."""
        inst = self.instances.get(name)
        if inst is None:
            raise envelope.instance_not_found(name)
        return inst

    def lid_for(self, phone: str) -> str:
        if phone not in self.lids:
            self.lids[phone] = self.ids.lid()
        return self.lids[phone]

    def display_name(self, phone: str) -> str:
        """The pushName a message from `phone` carries."""
        if phone in self.humans:
            return self.humans[phone].name
        owner = self.network.owner_instance(phone)
        return (owner[1].profile_name if owner else None) or phone

    def emit(self, inst: SimInstance, event: str, data: Any) -> None:
        """Queue `event` for the instance webhook, honouring enabled/events/byEvents like `WebhookController`."""
        now = self.now()
        self.emitted.append({"instance": inst.name, "event": event, "data": data, "at": payloads.iso(now)})
        wh = inst.webhook
        if wh is None or not wh.enabled or normalise_event_name(event) not in wh.events:
            return
        if not wh.url.startswith(("http://", "https://")):
            return
        body: dict[str, Any] = {
            "event": event,
            "instance": inst.name,
            "data": data,
            "destination": wh.url,
            "date_time": payloads.iso(now),
        }
        if inst.has_opened and inst.jid:
            body["sender"] = inst.jid
        body["server_url"] = self.config.server_url
        body["apikey"] = inst.token if self.config.expose_apikey else None
        url = f"{wh.url}/{event_suffix(event)}" if wh.by_events else wh.url
        self.dispatcher.submit(Delivery(url=url, headers=dict(wh.headers), body=body))

    def overload(self) -> tuple[float, float]:
        """(extra latency in seconds, send failure rate) for the current instance count (see `SimConfig`)."""
        with self.lock:
            return self.config.overload(len(self.instances))

    def when_open(self, inst: SimInstance, action: Callable[[], None]) -> None:
        """Run `action` now if the instance is online, else when it next opens (a phone gets offline mail).

        A down server counts as offline: the action waits for `set_down(False)`."""
        with self.lock:
            if inst.status == "open" and not self.down:
                action()
            else:
                self.pending.setdefault(inst.name, []).append(action)

    def flush_pending(self, inst: SimInstance) -> None:
        with self.lock:
            if self.down:
                return
            for action in self.pending.pop(inst.name, []):
                action()

    def set_down(self, down: bool) -> None:
        """Crash (True) or restart (False) this server's world: the worker pauses, receptions wait.

        On restart the queued receptions of every open instance arrive, then the worker resumes."""
        with self.lock:
            if down == self.down:
                return
            self.down = down
            if down:
                self.dispatcher.pause()
                return
            for inst in list(self.instances.values()):
                if inst.status == "open":
                    self.flush_pending(inst)
        self.dispatcher.resume()
