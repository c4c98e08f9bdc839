"""`/audit`: who changed what, when, from where — filterable, newest first."""

from __future__ import annotations

import json
from dataclasses import dataclass

import reflex as rx

from mirage_app.base import audit
from mirage_app.components.controls import pager
from mirage_app.components.layout import allowed_or_not, app_page, empty_state, page_layout
from mirage_app.i18n import formats
from mirage_app.states.auth import AuthState
from mirage_app.states.ui import t

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditRow:
    at: str  # in the tenant's zone and the page's language
    actor: str
    action: str  # in words; `action_id` (what the filter matches) is its tooltip
    action_id: str
    entity: str
    entity_id: str
    change: str  # "field: before → after; …"
    ip: str


class AuditState(AuthState):
    rows: list[AuditRow] = []
    total: int = 0
    page: int = 0
    action_filter: str = ""
    who_filter: str = ""

    @rx.event
    def on_load(self):
        self.page = 0
        if not self.can_read_audit:  # the page says "not allowed"; no refusal toast
            self.rows, self.total = [], 0
            return None
        return self.load()

    @rx.event
    def load(self):
        listed = self._call(
            audit.list_entries,
            action=self.action_filter.strip() or None,
            who=self.who_filter.strip() or None,
            limit=PAGE_SIZE,
            offset=self.page * PAGE_SIZE,
        )
        if not listed.ok:
            self.rows, self.total = [], 0
            return listed.feedback
        self.total = listed.value.total
        tr = self.tr
        self.rows = [
            AuditRow(
                at=self.stamp(e.at, seconds=True, year=True),
                actor=tr["audit.actor_system"] if e.actor == "system" else e.actor,
                action=formats.label(tr, "audit.action", e.action),
                action_id=e.action,
                entity=formats.label(tr, "audit.entity", e.entity),
                entity_id=e.entity_id or "",
                change=_change(e.before, e.after),
                ip=e.ip or "—",
            )
            for e in listed.value.entries
        ]
        return None

    @rx.event
    def apply_filters(self, form: dict):
        self.action_filter, self.who_filter, self.page = form.get("action", ""), form.get("who", ""), 0
        return self.load()

    @rx.event
    def next_page(self):
        if (self.page + 1) * PAGE_SIZE < self.total:
            self.page += 1
        return self.load()

    @rx.event
    def previous_page(self):
        self.page = max(0, self.page - 1)
        return self.load()


def _change(before: dict, after: dict) -> str:
    keys = sorted(set(before) | set(after))
    parts = [
        f"{k}: {json.dumps(before.get(k), ensure_ascii=False)} → {json.dumps(after.get(k), ensure_ascii=False)}"
        for k in keys
        if before.get(k) != after.get(k)
    ]
    return "; ".join(parts)[:300]


def _filters() -> rx.Component:
    return rx.form(
        rx.hstack(
            rx.input(name="action", placeholder=t("audit.filter_action"), id="audit-action"),
            rx.input(name="who", placeholder=t("audit.filter_who"), id="audit-who"),
            rx.button(rx.icon("filter", size=16), t("audit.filter"), type="submit", variant="soft"),
            wrap="wrap",
        ),
        on_submit=AuditState.apply_filters,
    )


@app_page("/audit", "Audit log", on_load=AuditState.on_load)
def audit_page() -> rx.Component:
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(t(k))
                    for k in ("audit.when", "audit.who", "audit.action", "audit.entity", "audit.change", "audit.ip")
                ]
            )
        ),
        rx.table.body(
            rx.foreach(
                AuditState.rows,
                lambda r: rx.table.row(
                    rx.table.cell(r.at, white_space="nowrap"),
                    rx.table.cell(r.actor),
                    rx.table.cell(rx.tooltip(rx.badge(r.action, variant="soft"), content=r.action_id)),
                    rx.table.cell(
                        rx.vstack(
                            rx.text(r.entity, size="2"),
                            rx.text(
                                r.entity_id[:8], size="1", color_scheme="gray", class_name="mono", title=r.entity_id
                            ),
                            spacing="0",
                        )
                    ),
                    rx.table.cell(rx.text(r.change, size="1", color_scheme="gray")),
                    rx.table.cell(r.ip),
                ),
            )
        ),
        width="100%",
        id="audit-table",
    )
    paging = pager(AuditState.total, "audit.entries", AuditState.previous_page, AuditState.next_page)
    return page_layout(
        "page.audit.title",
        "page.audit.subtitle",
        allowed_or_not(
            AuthState.can_read_audit,
            rx.vstack(
                _filters(),
                rx.cond(AuditState.total > 0, rx.vstack(table, paging, width="100%"), empty_state("scroll-text")),
                spacing="4",
                width="100%",
            ),
        ),
    )
