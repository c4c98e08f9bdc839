"""The tenant's proxy pool and each number's proxy (reference §14), for the settings card and the number cards.

- A proxy's password is encrypted at rest (`core.security.encrypt`) and never shown back: views say only
  whether one is set.
- Assignment is sticky and at most `max_numbers` numbers share a proxy (`logic.proxies`), checked under a lock
  on the proxy row. It is applied through Evolution's `/proxy/set`, read back with `/proxy/find` (2.3.7 may answer
  201 and store nothing, bug 3 of §14.5) and takes effect with `/instance/restart`. Evolution 2.3.7 cannot use
  `https` or `socks4` proxies (its test always says "Invalid proxy", bug 4): such a proxy can be kept in the pool
  and tested, but not assigned. A refusal names the known issues (#2054, #1868) so the operator knows where to look.
- "Test" checks from Mirage's side that the proxy answers (`engine.proxy_health`); so does the periodic
  `proxy-probe` job for every proxy that carries numbers. A failing proxy holds its numbers' sends (they wait,
  they do not fail) and is reported once, when it starts failing, through `on_proxy_failure`.
- Changing the pool needs `settings.tenant` (admin); putting a number on a proxy is `numbers.manage`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, text
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from mirage_app.base import audit
from mirage_app.base.errors import Conflict, NotFound, ValidationFailed
from mirage_app.base.impact import Dependent, Effect, Impact
from mirage_app.base.permissions import Action, Actor, authorize
from mirage_app.core.clock import Clock, system_clock
from mirage_app.core.db import system_session, tenant_session
from mirage_app.core.security import decrypt, encrypt
from mirage_app.engine import alerts, proxy_health
from mirage_app.engine.evolution_gateway import EvolutionFailure, client_for
from mirage_app.evolution.errors import EvolutionBadRequest, EvolutionError
from mirage_app.logic import proxies as rules
from mirage_app.logic.alerts import PROXY_FAILURE, proxy_subject
from mirage_app.models import Number, Proxy
from mirage_app.services.instances import get_number

log = logging.getLogger("mirage.proxies")

MAX_LABEL = 120
MAX_CREDENTIAL = 200


@dataclass(frozen=True)
class ProxyView:
    id: uuid.UUID
    label: str
    host: str
    port: int
    protocol: str
    username: str
    has_password: bool
    max_numbers: int
    assigned: int
    last_test_at: datetime | None
    last_test_ok: bool | None
    last_test_error: str | None
    evolution_supported: bool  # False: Evolution 2.3.7 refuses this protocol (https, socks4)


def on_proxy_failure(tenant_id: uuid.UUID, proxy_id: uuid.UUID, error: str, number_ids: list[uuid.UUID]) -> None:
    """A proxy started failing its test; `number_ids` now hold their sends: one alert to the tenant's channels that
    names the proxy and its numbers (de-duplicated per proxy)."""
    log.warning("proxy %s failing (%s): sends of %d number(s) held", proxy_id, error, len(number_ids))
    with tenant_session(tenant_id) as s:
        proxy = s.get(Proxy, proxy_id)
        labels = s.exec(select(Number.label).where(Number.id.in_(number_ids)).order_by(Number.label)).all()
    name = f"{proxy.label} ({proxy.host}:{proxy.port})" if proxy is not None else str(proxy_id)
    detail = {"proxy": name, "numbers": ", ".join(labels), "error": error[:200]}
    alerts.emit(tenant_id, PROXY_FAILURE, subject=proxy_subject(proxy_id), detail=detail)


def _assigned_counts(s) -> dict[uuid.UUID, int]:
    rows = s.execute(
        select(Number.proxy_id, func.count())
        .where(Number.proxy_id.is_not(None), Number.archived_at.is_(None))
        .group_by(Number.proxy_id)
    ).all()
    return {proxy_id: count for proxy_id, count in rows}


def _view(row: Proxy, assigned: int) -> ProxyView:
    protocol = str(row.protocol)
    return ProxyView(row.id, row.label, row.host, row.port, protocol, row.username, bool(row.password_enc),
                     row.max_numbers, assigned, row.last_test_at, row.last_test_ok, row.last_test_error,
                     rules.evolution_protocol(protocol) is not None)  # fmt: skip


def _load(s, proxy_id: uuid.UUID | str, *, lock: bool = False, field: str | None = None) -> Proxy:
    try:
        row = s.get(Proxy, uuid.UUID(str(proxy_id)), with_for_update=lock)
    except ValueError:
        row = None
    if row is None:
        raise NotFound("proxy.not_found", field=field)
    return row


def list_proxies(actor: Actor) -> list[ProxyView]:
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        counts = _assigned_counts(s)
        rows = s.exec(select(Proxy).order_by(Proxy.created_at, Proxy.id)).all()
        return [_view(row, counts.get(row.id, 0)) for row in rows]


def _port(value: object) -> int | None:
    text_value = str(value).strip() if isinstance(value, int | str) and not isinstance(value, bool) else ""
    return int(text_value) if text_value.isdigit() else None


def add_proxy(
    actor: Actor,
    *,
    label: str,
    host: str,
    port: object,
    protocol: str,
    username: str = "",
    password: str = "",
    max_numbers: object = 3,
    clock: Clock = system_clock,
) -> ProxyView:
    authorize(actor, Action.settings_tenant)
    host, label, username = (host or "").strip().lower(), (label or "").strip(), (username or "").strip()
    port_no, limit = _port(port), _port(max_numbers)
    errors = rules.field_errors(host, port_no, protocol, limit)
    if len(label) > MAX_LABEL:
        errors["label"] = "proxy.label_invalid"
    if len(username) > MAX_CREDENTIAL or len(password or "") > MAX_CREDENTIAL:
        errors["username" if len(username) > MAX_CREDENTIAL else "password"] = "proxy.credential_too_long"
    if errors:
        field, code = next(iter(errors.items()))
        raise ValidationFailed(code, field=field, high=rules.MAX_NUMBERS_LIMIT)
    row = Proxy(tenant_id=actor.tenant_id, label=label or f"{host}:{port_no}", host=host, port=port_no,
                protocol=protocol, username=username,
                password_enc=encrypt(password) if password else None, max_numbers=limit)  # fmt: skip
    with tenant_session(actor.tenant_id) as s:
        s.add(row)
        try:
            s.flush()
        except IntegrityError:
            raise Conflict("proxy.duplicate", field="host") from None
        audit.record(s, actor, "proxy.added", "proxy", row.id, clock=clock,
                     after={"host": host, "port": port_no, "protocol": protocol, "username": username,
                            "password_set": bool(password), "max_numbers": limit})  # fmt: skip
        s.commit()
        return _view(row, 0)


def _disable_at_evolution(tenant_id: uuid.UUID, server_id: uuid.UUID | None, name: str) -> None:
    if server_id is None:
        return
    try:
        client_for(tenant_id, server_id).disable_proxy(name)
    except EvolutionError as exc:
        raise EvolutionFailure("proxy.evolution_unreachable", detail=str(exc)[:200]) from exc


def proxy_impact(actor: Actor, proxy_id: uuid.UUID | str) -> Impact:
    """What deleting a proxy does: its numbers go out through their server's own connection again."""
    authorize(actor, Action.settings_tenant)
    with tenant_session(actor.tenant_id) as s:
        row = _load(s, proxy_id)
        labels = s.exec(select(Number.label).where(Number.proxy_id == row.id).order_by(Number.label)).all()
    return Impact(row.label, tuple(Dependent("number_proxy", label, Effect.detached) for label in labels))


def delete_proxy(actor: Actor, proxy_id: uuid.UUID | str, clock: Clock = system_clock) -> int:
    """Remove a proxy from the pool; its numbers are taken off it first (at Evolution too). Returns how many."""
    authorize(actor, Action.settings_tenant)
    with tenant_session(actor.tenant_id) as s:
        row = _load(s, proxy_id, lock=True)
        numbers = s.exec(select(Number).where(Number.proxy_id == row.id)).all()
        for number in numbers:
            _disable_at_evolution(actor.tenant_id, number.server_id, number.session_id)
            number.proxy_id = None
            s.add(number)
        audit.record(s, actor, "proxy.deleted", "proxy", row.id, clock=clock,
                     before={"host": row.host, "port": row.port, "numbers": [str(n.id) for n in numbers]})  # fmt: skip
        s.delete(row)
        s.commit()
        return len(numbers)


def _test(tenant_id: uuid.UUID, proxy_id: uuid.UUID, clock: Clock, timeout_s: float) -> tuple[str | None, bool]:
    """Test one proxy and record it; (error, whether it just started failing). Its numbers are told on a change."""
    with tenant_session(tenant_id) as s:
        row = _load(s, proxy_id)
        target = (
            row.host,
            row.port,
            str(row.protocol),
            row.username,
            decrypt(row.password_enc or "") if row.password_enc else "",
        )
    error = proxy_health.check(*target, timeout_s=timeout_s)
    with tenant_session(tenant_id) as s:
        started_failing = proxy_health.record(s, proxy_id, error, clock.now())
        numbers = s.exec(select(Number.id).where(Number.proxy_id == proxy_id)).all() if started_failing else []
        s.commit()
    if started_failing and error is not None:
        on_proxy_failure(tenant_id, proxy_id, error, list(numbers))
    return error, started_failing


def test_proxy(
    actor: Actor,
    proxy_id: uuid.UUID | str,
    clock: Clock = system_clock,
    timeout_s: float = proxy_health.DEFAULT_TIMEOUT_S,
) -> ProxyView:
    """The settings card's "test" button: the result is on the returned view (`last_test_ok`, `last_test_error`)."""
    authorize(actor, Action.settings_tenant)
    with tenant_session(actor.tenant_id) as s:
        row_id = _load(s, proxy_id).id
    error, _ = _test(actor.tenant_id, row_id, clock, timeout_s)
    with tenant_session(actor.tenant_id) as s:
        audit.record(
            s, actor, "proxy.tested", "proxy", row_id, after={"ok": error is None, "error": error}, clock=clock
        )
        row = _load(s, row_id)
        view = _view(row, _assigned_counts(s).get(row_id, 0))
        s.commit()
    return view


def probe_all(clock: Clock = system_clock) -> int:
    """Test every proxy of every tenant: the periodic `proxy-probe` job. Returns how many fail."""
    with system_session() as s:
        tenants = s.execute(text("SELECT * FROM mirage_tenant_ids()")).scalars().all()
    failing = 0
    for tenant_id in tenants:
        with tenant_session(tenant_id) as s:
            proxy_ids = s.exec(select(Proxy.id)).all()
        for proxy_id in proxy_ids:
            try:
                error, _ = _test(tenant_id, proxy_id, clock, proxy_health.DEFAULT_TIMEOUT_S)
            except Exception:  # one proxy's bad data must not stop the others
                log.exception("proxy probe failed for %s", proxy_id)
                continue
            failing += error is not None
    return failing


@dataclass(frozen=True)
class NumberProxyView:
    number_id: uuid.UUID
    proxy_id: uuid.UUID | None
    label: str | None
    ok: bool | None  # the proxy's last test


def _apply_at_evolution(tenant_id: uuid.UUID, number: Number, row: Proxy) -> None:
    """`/proxy/set`, then `/proxy/find` must show it, then a restart so the socket goes through it (§14.4)."""
    protocol = rules.evolution_protocol(str(row.protocol))
    if protocol is None:
        raise ValidationFailed("proxy.protocol_unsupported", field="proxy_id", protocol=str(row.protocol))
    if number.server_id is None:
        return  # no Evolution instance yet
    client = client_for(tenant_id, number.server_id)
    password = decrypt(row.password_enc) if row.password_enc else ""
    try:
        client.set_proxy(number.session_id, host=row.host, port=row.port, protocol=protocol,
                         username=row.username, password=password)  # fmt: skip
        stored = client.find_proxy(number.session_id)
    except EvolutionBadRequest as exc:
        raise EvolutionFailure("proxy.evolution_refused", field="proxy_id", detail="; ".join(exc.messages)) from exc
    except EvolutionError as exc:
        raise EvolutionFailure("proxy.evolution_unreachable", field="proxy_id", detail=str(exc)[:200]) from exc
    expected = (True, row.host, str(row.port), protocol)
    if (
        stored is None
        or (stored.get("enabled"), stored.get("host"), stored.get("port"), stored.get("protocol")) != expected
    ):
        raise EvolutionFailure("proxy.not_applied", field="proxy_id")
    if number.status == "connected":
        try:
            client.restart(number.session_id)
        except EvolutionError:
            log.warning("restart of %s after its proxy change failed; the next reconnect applies it", number.id)


def assign_proxy(
    actor: Actor, number_id: uuid.UUID | str, proxy_id: uuid.UUID | str | None, clock: Clock = system_clock
) -> NumberProxyView:
    """Put a number on a proxy of the pool (None: on no proxy). Refused when the proxy is full or Evolution does
    not take it; nothing changes then, here or at Evolution."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id, lock=True, field="proxy_id")
        before = number.proxy_id
        row = _load(s, proxy_id, lock=True, field="proxy_id") if proxy_id not in (None, "") else None
        if row is not None and row.id != before:
            if _assigned_counts(s).get(row.id, 0) >= row.max_numbers:
                raise Conflict("proxy.full", field="proxy_id", limit=row.max_numbers)
            _apply_at_evolution(actor.tenant_id, number, row)
        elif row is None and before is not None:
            _disable_at_evolution(actor.tenant_id, number.server_id, number.session_id)
        number.proxy_id = row.id if row is not None else None
        s.add(number)
        audit.record(s, actor, "number.proxy", "number", number.id, clock=clock,
                     before={"proxy_id": str(before) if before else None},
                     after={"proxy_id": str(number.proxy_id) if number.proxy_id else None})  # fmt: skip
        s.commit()
        return NumberProxyView(
            number.id, number.proxy_id, row.label if row else None, row.last_test_ok if row else None
        )


def auto_assign(actor: Actor, number_id: uuid.UUID | str, clock: Clock = system_clock) -> NumberProxyView:
    """Give a number without a proxy the pool's best choice (`logic.proxies.pick`); a number with one keeps it."""
    authorize(actor, Action.numbers_manage)
    with tenant_session(actor.tenant_id) as s:
        number = get_number(s, number_id)
        if number.proxy_id is not None:
            current = _load(s, number.proxy_id)
            return NumberProxyView(number.id, current.id, current.label, current.last_test_ok)
        counts = _assigned_counts(s)
        pool = [
            rules.PoolEntry(row.id, row.max_numbers, counts.get(row.id, 0), row.last_test_ok is not False, order)
            for order, row in enumerate(s.exec(select(Proxy).order_by(Proxy.created_at, Proxy.id)).all())
            if rules.evolution_protocol(str(row.protocol)) is not None
        ]
    chosen = rules.pick(pool)
    if chosen is None:
        raise Conflict("proxy.pool_full", field="proxy_id")
    return assign_proxy(actor, number_id, chosen, clock)


def number_proxies(actor: Actor) -> dict[uuid.UUID, NumberProxyView]:
    """Number id → its proxy, for the number cards."""
    authorize(actor, Action.data_read)
    with tenant_session(actor.tenant_id) as s:
        rows = s.execute(
            select(Number.id, Proxy.id, Proxy.label, Proxy.last_test_ok).join(Proxy, Proxy.id == Number.proxy_id)
        ).all()
    return {number_id: NumberProxyView(number_id, pid, label, ok) for number_id, pid, label, ok in rows}
