"""What a number card says about its safety: its proxy (and whether it answers) and a restriction on contacting
new people, with its end in the tenant's time zone and whether Mirage inferred it. Read with the instance list."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mirage_app.base.permissions import Actor
from mirage_app.services import proxies, restrictions
from mirage_app.states.rows import SelectOption


@dataclass(frozen=True)
class SafetyFacts:
    restrictions: dict[uuid.UUID, restrictions.RestrictionView]
    proxies: dict[uuid.UUID, proxies.NumberProxyView]
    pool: list[proxies.ProxyView]


def read_safety(actor: Actor) -> SafetyFacts:
    return SafetyFacts(
        restrictions.active_restrictions(actor), proxies.number_proxies(actor), proxies.list_proxies(actor)
    )


def safety_fields(facts: SafetyFacts, number_id: uuid.UUID, tr: dict[str, str], stamp: Callable) -> dict[str, Any]:
    """The `InstanceRow` fields of one number."""
    proxy = facts.proxies.get(number_id)
    restriction = facts.restrictions.get(number_id)
    note = ""
    if restriction is not None:
        note = tr["safety.restricted_inferred" if restriction.source == "inferred" else "safety.restricted_reported"]
        if restriction.ends_at_estimated:
            note = f"{note} {tr['safety.restricted_estimated']}"
    return {
        "proxy_id": str(proxy.proxy_id) if proxy else "",
        "proxy_label": proxy.label if proxy else "",
        "proxy_down": bool(proxy and proxy.ok is False),
        "restricted_text": tr["safety.restricted_badge"].format(until=stamp(restriction.ends_at))
        if restriction
        else "",
        "restriction_note": note,
    }


def proxy_options(facts: SafetyFacts) -> list[SelectOption]:
    """Proxies a number can be put on: Evolution takes their protocol (a full one is refused with its reason)."""
    return [
        SelectOption(str(p.id), f"{p.label} ({p.assigned}/{p.max_numbers})")
        for p in facts.pool
        if p.evolution_supported
    ]
