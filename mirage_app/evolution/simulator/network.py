"""`SimNetwork`: the WhatsApp network that the simulated Evolution servers of one process share.

A number is linked to one instance on one server, yet any number can write to any other, so the phone
registry, the external humans and the @lid mapping live here instead of in a server. Every core of a network
uses its one RLock: a send on server 1 mutates server 2's world when it hands the message over. A lone
`SimulatorState` gets a network of its own, which is exactly the single-server simulator.
"""

from __future__ import annotations

import threading
from typing import Generic, Protocol, TypeVar

from mirage_app.evolution.simulator.models import SimGroup, SimHuman, SimInstance


class SimServerWorld(Protocol):
    """What the network needs of a server's world (`SimCore`); a protocol keeps the modules acyclic."""

    instances: dict[str, SimInstance]


World = TypeVar("World", bound=SimServerWorld)


class SimNetwork(Generic[World]):
    """Phone → (core, instance name), humans and lids. Instance names may repeat across servers."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self.humans: dict[str, SimHuman] = {}
        self.lids: dict[str, str] = {}  # phone digits → stable @lid user part
        self.groups: dict[str, SimGroup] = {}  # group JID → group, shared by every server of the network
        self._phones: dict[str, tuple[World, str]] = {}

    def owner(self, phone: str) -> tuple[World, str] | None:
        """The server and instance name `phone` is linked to, if a simulated instance holds it."""
        with self.lock:
            return self._phones.get(phone)

    def owner_instance(self, phone: str) -> tuple[World, SimInstance] | None:
        """Like `owner`, resolved to the live instance (None once it was deleted)."""
        with self.lock:
            owner = self._phones.get(phone)
            inst = owner[0].instances.get(owner[1]) if owner else None
            return (owner[0], inst) if owner and inst else None

    def is_taken(self, phone: str) -> bool:
        """A simulated instance or a human already has this number."""
        with self.lock:
            return phone in self._phones or phone in self.humans

    def is_instance_phone(self, phone: str) -> bool:
        with self.lock:
            return phone in self._phones

    def link(self, phone: str, core: World, name: str) -> None:
        with self.lock:
            self._phones[phone] = (core, name)

    def unlink(self, phone: str, core: World, name: str) -> None:
        """Forget `phone` if (and only if) it still belongs to that instance of that server."""
        with self.lock:
            owner = self._phones.get(phone)
            if owner is not None and owner[0] is core and owner[1] == name:
                del self._phones[phone]
