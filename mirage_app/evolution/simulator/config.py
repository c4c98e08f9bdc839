"""Simulator settings: fixed pacing in `SimConfig`, runtime-tunable misbehaviour in `Faults`.

Capacity and overload. Evolution never refuses `instance/create`: a server holding more WhatsApp sessions than
its machine can carry just gets slow, then its Baileys sockets start dropping. With `SimConfig.capacity` set
(a number of instances; None = unlimited, the default, and nothing below applies) a server with `n` instances
and `over = n - capacity > 0` behaves like that:

- every Evolution route (not `/_sim/*`) answers `overload_latency_ms × over` later, at most
  `overload_latency_cap_ms` (on top of `Faults.latency_ms`);
- beyond 1.25 × capacity, sendText and sendPresence fail with 500 "Connection Closed" (what a dropped Baileys
  socket answers; the client raises `ConnectionClosed`) at a rate of 0.1 just past the threshold, growing by
  1.6 per unit of `n / capacity` up to `overload_max_failure_rate` (0.5, reached at 1.5 × capacity).

Failures are drawn from the server's seeded RNG, so a run with a `seed` is reproducible.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

ALL_INSTANCES = "*"
OVERLOAD_FAILURE_THRESHOLD = 1.25  # × capacity: sends start failing past this load
OVERLOAD_FAILURE_FLOOR = 0.1  # failure rate just past the threshold
OVERLOAD_FAILURE_SLOPE = 1.6  # failure rate added per unit of instances / capacity past the threshold


@dataclass
class Faults:
    """Fault knobs, changed at runtime through `SimulatorState.set_faults` or `POST /_sim/faults`."""

    latency_ms: int = 0  # added to every Evolution route
    error_5xx_rate: float = 0.0  # answer 500 before doing anything
    timeout_rate: float = 0.0  # do the work, then hang `hang_s` and answer 500 (the client sees a timeout)
    hang_s: float = 35.0
    disconnect: list[str] = field(default_factory=list)  # instances that say `open` but fail sends ("*" = all)
    unloaded: list[str] = field(default_factory=list)  # instances "not in memory": swallowed connect, 500 sends
    # Instances under WhatsApp's reach-out timelock (463): a text to a phone they never talked with is accepted
    # (201 PENDING) and then only a `messages.update` ERROR arrives; existing chats still deliver (reference §17).
    restricted: list[str] = field(default_factory=list)
    duplicate_rate: float = 0.0  # deliver a webhook a second time
    reorder_rate: float = 0.0  # hold a webhook back until the next one has been delivered
    reorder_hold_s: float = 1.0  # ...or at most this long

    def update(self, changes: Mapping[str, Any]) -> None:
        """Apply a partial update, checking names, types and ranges (raises ValueError)."""
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown fault(s): {', '.join(unknown)}")
        candidate = replace(self, **{name: _coerce(name, getattr(self, name), v) for name, v in changes.items()})
        for name, value in asdict(candidate).items():
            if name.endswith("_rate") and not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
            if isinstance(value, int | float) and value < 0:
                raise ValueError(f"{name} must not be negative")
        for name in changes:
            setattr(self, name, getattr(candidate, name))

    def is_disconnected(self, instance: str) -> bool:
        return ALL_INSTANCES in self.disconnect or instance in self.disconnect

    def is_unloaded(self, instance: str) -> bool:
        return ALL_INSTANCES in self.unloaded or instance in self.unloaded

    def is_restricted(self, instance: str) -> bool:
        return ALL_INSTANCES in self.restricted or instance in self.restricted


def _coerce(name: str, current: Any, value: Any) -> Any:
    if isinstance(current, list):
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise ValueError(f"{name} must be a list of instance names")
        return list(value)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"{name} must be a number")
    return int(value) if isinstance(current, int) else float(value)


@dataclass
class SimConfig:
    """Simulator behaviour. Defaults are for tests (no waiting); `SimConfig.demo()` paces like a real server."""

    global_key: str = "mirage-sim-key"
    server_url: str | None = None  # `server_url` in webhook bodies; defaults to the address it listens on
    qr_wait_s: float = 0.0  # Evolution sleeps 5 s on create and 2 s on connect before answering with the QR
    honour_delay: bool = False  # hold sendText/sendPresence responses for `delay` ms as Evolution does
    qr_limit: int = 30  # QRCODE_LIMIT: the connection is refused after this many codes
    expose_apikey: bool = True  # AUTHENTICATION_EXPOSE_IN_FETCH_INSTANCES: instance token in webhook bodies
    lid_probability: float = 0.0  # chance an inbound message arrives with an @lid remoteJid + remoteJidAlt
    ack_delays_s: tuple[float, float, float] = (0.0, 0.0, 0.0)  # SERVER_ACK, DELIVERY_ACK, READ after a send
    human_reply_delay_s: tuple[float, float] = (0.0, 0.0)  # a human answers this long after reading
    # Demo: any plausible phone number that nobody simulated is a person who may answer or opt out, so outreach
    # to imported contacts behaves like the real thing. Off in tests, where unknown numbers are NotOnWhatsApp.
    auto_humans: bool = False
    auto_human_reply_probability: float = 0.6
    auto_human_optout_probability: float = 0.15
    # Of a human's answers: a reaction to the message, a quoted reply, a voice note back to a voice note (0 in tests)
    human_react_probability: float = 0.0
    human_quote_probability: float = 0.0
    human_voice_back_probability: float = 0.0
    webhook_timeout_s: float = 30.0
    webhook_max_attempts: int = 10
    webhook_backoff_s: float = 5.0  # first retry delay, doubled each attempt, ±20 % jitter
    webhook_backoff_cap_s: float = 300.0
    seed: int | None = None
    capacity: int | None = None  # instances this server carries comfortably; past it, it slows and fails
    overload_latency_ms: int = 25  # added per instance over capacity
    overload_latency_cap_ms: int = 3000
    overload_max_failure_rate: float = 0.5
    faults: Faults = field(default_factory=Faults)

    def overload(self, instances: int) -> tuple[float, float]:
        """(extra latency in seconds, send failure rate) of a server holding `instances` (module docstring)."""
        if self.capacity is None or instances <= self.capacity:
            return 0.0, 0.0
        latency_ms = min(self.overload_latency_cap_ms, self.overload_latency_ms * (instances - self.capacity))
        load = instances / max(self.capacity, 1)
        failure = 0.0
        if load > OVERLOAD_FAILURE_THRESHOLD:
            ramp = OVERLOAD_FAILURE_FLOOR + OVERLOAD_FAILURE_SLOPE * (load - OVERLOAD_FAILURE_THRESHOLD)
            failure = min(self.overload_max_failure_rate, ramp)
        return latency_ms / 1000, failure

    @classmethod
    def demo(cls, **overrides: Any) -> SimConfig:
        """Human-looking pacing for the demo backend: typing delays honoured, receipts and replies take time."""
        settings: dict[str, Any] = {
            "qr_wait_s": 1.0,
            "honour_delay": True,
            "lid_probability": 0.1,
            "ack_delays_s": (0.5, 2.0, 6.0),
            "human_reply_delay_s": (5.0, 40.0),
            "auto_humans": True,
            "human_react_probability": 0.2,
            "human_quote_probability": 0.3,
            "human_voice_back_probability": 0.5,
        }
        return cls(**(settings | overrides))
