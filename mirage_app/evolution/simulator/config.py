"""Simulator settings: fixed pacing in `SimConfig`, runtime-tunable misbehaviour in `Faults`."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from typing import Any

ALL_INSTANCES = "*"


@dataclass
class Faults:
    """Fault knobs, changed at runtime through `SimulatorState.set_faults` or `POST /_sim/faults`."""

    latency_ms: int = 0  # added to every Evolution route
    error_5xx_rate: float = 0.0  # answer 500 before doing anything
    timeout_rate: float = 0.0  # do the work, then hang `hang_s` and answer 500 (the client sees a timeout)
    hang_s: float = 35.0
    disconnect: list[str] = field(default_factory=list)  # instances that say `open` but fail sends ("*" = all)
    unloaded: list[str] = field(default_factory=list)  # instances "not in memory": swallowed connect, 500 sends
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
    webhook_timeout_s: float = 30.0
    webhook_max_attempts: int = 10
    webhook_backoff_s: float = 5.0  # first retry delay, doubled each attempt, ±20 % jitter
    webhook_backoff_cap_s: float = 300.0
    seed: int | None = None
    faults: Faults = field(default_factory=Faults)

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
        }
        return cls(**(settings | overrides))
