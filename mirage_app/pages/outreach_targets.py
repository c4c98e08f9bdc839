"""`/outreach/targets`: the queue per policy — status tabs, priority, last contact, rounds; bulk actions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

import reflex as rx

from mirage_app.components.layout import app_page, empty_state, page_layout
from mirage_app.i18n import formats
from mirage_app.logic import event_args, waits
from mirage_app.services import contacts, outreach
from mirage_app.states.auth import AuthState
from mirage_app.states.rows import SelectOption
from mirage_app.states.ui import t

STATUSES = ["", "pending", "in_progress", "paused", "done", "optout", "failed"]
FILTERS = {
    "status": event_args.one_of(*STATUSES),
    "policy_id": event_args.uuid_or_empty,
    "search": event_args.text_up_to(100),  # as the API's `search`
}
STATUS_COLORS = [
    ("pending", "cyan"),
    ("in_progress", "violet"),
    ("paused", "amber"),
    ("done", "grass"),
    ("optout", "orange"),
    ("failed", "red"),
]


@dataclass(frozen=True)
class TargetRow:
    id: str
    name: str
    number: str
    status: str
    status_label: str
    priority: int
    rounds: str  # "done/max"
    policy: str
    last_contact: str
    error: str  # the last failure; "" when none
    wait: str = ""  # why it waits and until when (logic.waits.target_wait); "" when it is not waiting


class TargetsState(AuthState):
    rows: list[TargetRow] = []
    counts: dict[str, int] = {}
    total: int = 0
    policies: list[SelectOption] = []
    tags: list[str] = []
    policy_id: str = ""
    status: str = ""
    search: str = ""
    selected: list[str] = []
    loaded: bool = False

    @rx.event
    def load(self, _tick=None):
        def read(actor):
            page = outreach.list_targets(
                actor,
                policy_id=self.policy_id or None,
                status=self.status or None,
                search=self.search or None,
                limit=100,
            )
            return outreach.list_policies(actor), page, contacts.all_tags(actor)

        loaded = self._call(read)
        if not loaded.ok:
            return loaded.feedback
        policies, page, self.tags = loaded.value
        now = datetime.now(UTC)
        self.policies = [SelectOption(str(p.id), p.number_label) for p in policies]
        self.total, self.counts, self.loaded = page.total, page.counts, True
        self.rows = [
            TargetRow(
                id=str(x.id),
                name=x.display_name or "—",
                number=x.wa_number,
                status=x.status,
                status_label=formats.label(self.tr, "target", x.status),
                priority=x.priority,
                rounds=f"{x.rounds_done}/{x.max_rounds}",
                policy=x.number_label,
                last_contact=self.stamp(x.last_contact_at, now=now),
                error=x.last_error or "",
                wait=waits.explain(
                    self.tr, x.wait, self.stamp(x.wait.until, now=now) if x.wait and x.wait.until else ""
                ),
            )
            for x in page.items
        ]
        return None

    @rx.event
    def set_filter(self, name: str, value: str | list[str]):
        change = event_args.accepted(FILTERS, name, value)
        if change is None:
            return rx.toast.error(self.tr["error.generic"], id="service-error")
        setattr(self, *change)  # one of FILTERS' names only
        self.selected = []
        return self.load()

    @rx.event
    def toggle(self, target_id: str):
        self.selected = (
            [s for s in self.selected if s != target_id] if target_id in self.selected else [*self.selected, target_id]
        )

    @rx.event
    def bulk(self, action: str):
        if not self.selected:
            return rx.toast.info(self.tr["targets.select_first"])
        changed = self._call(outreach.bulk_targets, action, self.selected)
        self.selected = []
        self.load()
        if not changed.ok:
            return changed.feedback
        return rx.toast.success(formats.count(self.tr, "targets.bulk_done", changed.value.changed))

    @rx.event
    def add_by_tag(self, form: dict):
        if not form.get("policy_id"):
            return rx.toast.error(self.tr["targets.pick_policy"])
        added = self._call(outreach.add_targets, form["policy_id"], tag=form.get("tag") or None)
        self.load()
        if not added.ok:
            return added.feedback
        report = added.value
        return rx.toast.success(self.tr["targets.added"].format(added=report.added, skipped=len(report.skipped)))


def _row(r: rx.Var[TargetRow]) -> rx.Component:
    return rx.table.row(
        rx.table.cell(
            rx.checkbox(
                checked=TargetsState.selected.contains(r.id),
                on_change=lambda _v: TargetsState.toggle(r.id),
                disabled=~AuthState.can_manage,
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.text(r.name, weight="medium"),
                rx.text(r.number, size="1", class_name="mono", color_scheme="gray"),
                spacing="0",
            )
        ),
        rx.table.cell(
            rx.vstack(
                rx.badge(r.status_label, color_scheme=rx.match(r.status, *STATUS_COLORS, "gray"), variant="soft"),
                rx.cond(
                    r.wait != "",
                    rx.text(t("wait.column"), ": ", r.wait, size="1", color_scheme="amber", class_name="wait-reason"),
                ),
                spacing="1",
            )
        ),
        rx.table.cell(r.priority),
        rx.table.cell(r.rounds),
        rx.table.cell(r.last_contact),
        rx.table.cell(r.policy),
        rx.table.cell(rx.text(r.error, size="1", color_scheme="red")),
        class_name="target-row",
        data_status=r.status,
    )


@app_page("/outreach/targets", "Outreach targets", on_load=TargetsState.load)
def outreach_targets_page() -> rx.Component:
    tabs = rx.segmented_control.root(
        *[
            rx.segmented_control.item(
                rx.text(t(f"target.{s or 'all'}"), " ", rx.cond(s == "", TargetsState.total, TargetsState.counts[s])),
                value=s,
            )
            for s in STATUSES
        ],
        value=TargetsState.status,
        on_change=lambda v: TargetsState.set_filter("status", v),
        id="target-tabs",
    )
    add = rx.form(
        rx.hstack(
            rx.el.select(
                rx.el.option(t("targets.pick_policy"), value=""),
                rx.foreach(TargetsState.policies, lambda option: rx.el.option(option.label, value=option.value)),
                name="policy_id",
                class_name="native-select native-select-sm",
            ),
            rx.el.select(
                rx.el.option(t("targets.all_contactable"), value=""),
                rx.foreach(TargetsState.tags, lambda tag: rx.el.option(tag, value=tag)),
                name="tag",
                class_name="native-select native-select-sm",
            ),
            rx.button(rx.icon("list-plus", size=14), t("targets.add"), type="submit", size="1", id="targets-add"),
            align="center",
            wrap="wrap",
        ),
        on_submit=TargetsState.add_by_tag,
    )
    bulk = rx.hstack(
        rx.text(t("targets.selected"), " ", TargetsState.selected.length(), size="1", color_scheme="gray"),
        *[
            rx.button(t(f"targets.bulk.{a}"), size="1", variant="soft", on_click=TargetsState.bulk(a))
            for a in ("pause", "resume", "reset", "remove")
        ],
        wrap="wrap",
    )
    table = rx.table.root(
        rx.table.header(
            rx.table.row(
                *[
                    rx.table.column_header_cell(t(k) if k else "")
                    for k in (
                        "",
                        "contacts.contact",
                        "targets.status",
                        "targets.priority",
                        "targets.rounds",
                        "targets.last_contact",
                        "outreach.number",
                        "targets.error",
                    )
                ]
            )
        ),
        rx.table.body(rx.foreach(TargetsState.rows, _row)),
        width="100%",
        id="targets-table",
    )
    return page_layout(
        "page.targets.title",
        "page.targets.subtitle",
        rx.vstack(
            rx.hstack(
                rx.el.select(
                    rx.el.option(t("targets.all_policies"), value=""),
                    rx.foreach(TargetsState.policies, lambda option: rx.el.option(option.label, value=option.value)),
                    value=TargetsState.policy_id,
                    on_change=lambda v: TargetsState.set_filter("policy_id", v),
                    class_name="native-select native-select-sm",
                    aria_label="policy",
                ),
                rx.input(
                    placeholder=t("contacts.search"),
                    value=TargetsState.search,
                    debounce_timeout=300,
                    on_change=lambda v: TargetsState.set_filter("search", v),
                    width="220px",
                ),
                rx.spacer(),
                rx.cond(AuthState.can_manage, add),
                width="100%",
                wrap="wrap",
            ),
            rx.scroll_area(tabs, type="auto", scrollbars="horizontal"),
            rx.cond(AuthState.can_manage, bulk),
            rx.cond(
                TargetsState.rows.length() > 0,
                table,
                rx.cond(TargetsState.loaded, empty_state("target", "targets.empty_title", "targets.empty_hint")),
            ),
            rx.moment(interval=4000, on_change=TargetsState.load, display="none"),
            spacing="4",
            width="100%",
        ),
    )
