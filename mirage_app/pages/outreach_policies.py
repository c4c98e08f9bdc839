"""`/outreach/policies`: one policy per sending number — limits, minimum gap, dayparts, days, opt-out keywords;
outreach stays off until a policy is activated."""

from __future__ import annotations

from dataclasses import dataclass, replace

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.controls import dialog_actions
from mirage_app.components.field_errors import field_message, outline
from mirage_app.components.layout import app_page, empty_state, page_layout
from mirage_app.i18n import formats
from mirage_app.logic.form_fields import NOT_A_NUMBER, NotANumber, named_error, numbers
from mirage_app.services import instances, outreach
from mirage_app.states.auth import AuthState
from mirage_app.states.confirming import ConfirmDelete
from mirage_app.states.rows import SelectOption
from mirage_app.states.ui import t

DAYPARTS = ["morning", "afternoon", "evening"]
DAYS = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]
LIMITS = ("daily_limit", "hourly_limit", "max_rounds_per_contact", "min_gap_minutes")
LABELS = {
    "number_id": "outreach.number",
    "persona_id": "outreach.persona",
    "daily_limit": "outreach.daily_limit",
    "hourly_limit": "outreach.hourly_limit",
    "max_rounds_per_contact": "outreach.max_rounds",
    "min_gap_minutes": "outreach.min_gap",
    "dayparts": "outreach.dayparts",
    "allow_days": "outreach.days",
    "optout_keywords": "outreach.keywords",
}


@dataclass(frozen=True)
class PolicyCard:
    id: str
    number: str
    wa_number: str
    persona: str  # the policy's persona, else who writes instead (never a bare "—")
    usage: str  # "Hoje 3 de 20 · última hora 1 de 5"
    gap: str
    rounds: str
    dayparts: str
    days: str
    keywords: str
    active: bool
    pending: str  # "3 pendentes"
    done: str
    optout: str


@dataclass(frozen=True)
class PolicyForm:
    """The editor, as typed (limits are parsed on save); `id` is "" for a new policy."""

    id: str = ""
    number_id: str = ""
    persona_id: str = ""
    daily_limit: str = "20"
    hourly_limit: str = "5"
    max_rounds_per_contact: str = "3"
    min_gap_minutes: str = "10"
    optout_keywords: str = "SAIR, PARAR, PARE, STOP, CANCELAR, DESCADASTRAR"

    @classmethod
    def of(cls, p: outreach.PolicyView) -> PolicyForm:
        return cls(
            id=str(p.id),
            number_id=str(p.number_id),
            persona_id=str(p.persona_id or ""),
            **{k: str(getattr(p, k)) for k in LIMITS},
            optout_keywords=", ".join(p.optout_keywords),
        )


class PoliciesState(ConfirmDelete, AuthState):
    rows: list[PolicyCard] = []
    numbers: list[SelectOption] = []
    personas: list[SelectOption] = []
    loaded: bool = False
    editing: bool = False
    form: PolicyForm = PolicyForm()
    parts: list[str] = []
    days: list[str] = []
    form_error: str = ""
    error_field: str = ""  # the form field the last save failure named ("" for none)

    @rx.event
    def load(self, _tick=None):
        def read(actor):
            return outreach.list_policies(actor), instances.list_instances(actor), instances.persona_choices(actor)

        loaded = self._call(read)
        if not loaded.ok:
            return loaded.feedback
        policies, numbers, persona_pairs = loaded.value
        self.rows = [self._card(p) for p in policies]
        self.numbers = [SelectOption(str(n.id), n.label) for n in numbers]
        self.personas = SelectOption.from_pairs(persona_pairs)
        self.loaded = True
        return None

    def _card(self, p: outreach.PolicyView) -> PolicyCard:
        tr = self.tr
        if p.persona_name:
            persona = p.persona_name
        elif p.number_persona_name:
            persona = tr["outreach.number_persona"].format(name=p.number_persona_name)
        else:
            persona = tr["outreach.number_label"].format(name=p.number_label)
        return PolicyCard(
            id=str(p.id),
            number=p.number_label,
            wa_number=p.number_wa or "—",
            persona=persona,
            usage=tr["outreach.usage"].format(
                today=p.sent_today, daily=p.daily_limit, hour=p.sent_last_hour, hourly=p.hourly_limit
            ),
            gap=tr["outreach.gap"].format(n=p.min_gap_minutes),
            rounds=formats.count(tr, "outreach.rounds", p.max_rounds_per_contact),
            dayparts=", ".join(formats.label(tr, "daypart", d) for d in p.dayparts) or "—",
            days=", ".join(formats.label(tr, "weekday", d)[:3] for d in p.allow_days) or tr["outreach.every_day"],
            keywords=", ".join(p.optout_keywords),
            active=p.active,
            pending=formats.count(tr, "outreach.count.pending", p.targets.get("pending", 0)),
            done=formats.count(tr, "outreach.count.done", p.targets.get("done", 0)),
            optout=formats.count(tr, "outreach.count.optout", p.targets.get("optout", 0)),
        )

    @rx.event
    def new(self):
        self.form = PolicyForm(number_id=self.numbers[0].value if self.numbers else "")
        self.parts, self.days, self.form_error, self.error_field = ["morning", "afternoon"], [], "", ""
        self.editing = True

    @rx.event
    def edit(self, policy_id: str):
        found = self._call(outreach.get_policy, policy_id)
        if not found.ok:
            return found.feedback
        p = found.value
        self.form = PolicyForm.of(p)
        self.parts, self.days, self.form_error, self.error_field = list(p.dayparts), list(p.allow_days), "", ""
        self.editing = True
        return None

    @rx.event
    def set_editing(self, is_open: bool):
        self.editing = is_open

    @rx.event
    def set_field(self, name: str, value: str):
        self.form = replace(self.form, **{name: value})

    @rx.event
    def toggle_part(self, part: str):
        self.parts = [p for p in self.parts if p != part] if part in self.parts else [*self.parts, part]

    @rx.event
    def toggle_day(self, day: str):
        self.days = [d for d in self.days if d != day] if day in self.days else [*self.days, day]

    @rx.event
    def save(self):
        f = self.form
        try:
            fields = numbers({key: getattr(f, key) for key in LIMITS})
        except NotANumber as exc:
            self.error_field, self.form_error = named_error(self.tr, LABELS, exc.field, self.tr[NOT_A_NUMBER])
            return None
        fields |= {
            "persona_id": f.persona_id or None,
            "dayparts": self.parts,
            "allow_days": self.days,
            "optout_keywords": [k.strip() for k in f.optout_keywords.split(",") if k.strip()],
        }

        def write(actor):
            if f.id:
                return outreach.update_policy(actor, f.id, **fields)
            return outreach.create_policy(actor, number_id=f.number_id, **fields)

        saved = self._call(write, error_to="form_error", success="outreach.policy_saved")
        self.error_field, self.form_error = named_error(self.tr, LABELS, saved.error_field, self.form_error)
        if saved.ok:
            self.editing = False
            self.load()
        return saved.feedback

    @rx.event
    def toggle_active(self, policy_id: str, value: bool):
        fn = outreach.activate_policy if value else outreach.deactivate_policy
        toggled = self._call(fn, policy_id, success="outreach.activated" if value else "outreach.deactivated")
        self.load()
        return toggled.feedback

    def _impact(self, target_id: str):
        """A policy that already wrote to contacts is archived, not erased."""
        return self._call(outreach.policy_impact, target_id)

    def _delete(self, target_id: str):
        deleted = self._call(outreach.delete_policy, target_id)
        self.load()
        if not deleted.ok:
            return deleted.feedback
        done = "outreach.archived" if deleted.value.archive else "outreach.deleted"
        return rx.toast.success(self.tr[done], id="service-ok")


def _num(label_key: str, name: str) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="1", weight="medium"),
        rx.input(
            type="number",
            value=getattr(PoliciesState.form, name),
            on_change=lambda v: PoliciesState.set_field(name, v),
            id=f"policy-{name}",
            **outline(PoliciesState.error_field, name),
        ),
        field_message(PoliciesState.error_field, PoliciesState.form_error, name, f"policy-{name}-error"),
        spacing="1",
    )


def _chips(options: list[str], selected: rx.Var, on_toggle, prefix: str) -> rx.Component:
    return rx.hstack(
        *[
            rx.button(
                t(f"{prefix}.{o}"),
                size="1",
                type="button",
                on_click=on_toggle(o),
                variant=rx.cond(selected.contains(o), "solid", "outline"),
            )
            for o in options
        ],
        wrap="wrap",
        spacing="1",
    )


def _editor() -> rx.Component:
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(PoliciesState.form.id == "", t("outreach.new_policy"), t("outreach.edit_policy"))),
            rx.vstack(
                rx.grid(
                    rx.vstack(
                        rx.text(t("outreach.number"), size="1", weight="medium"),
                        rx.el.select(
                            rx.foreach(
                                PoliciesState.numbers, lambda option: rx.el.option(option.label, value=option.value)
                            ),
                            value=PoliciesState.form.number_id,
                            disabled=PoliciesState.form.id != "",
                            on_change=lambda v: PoliciesState.set_field("number_id", v),
                            class_name="native-select",
                            id="policy-number",
                        ),
                        spacing="1",
                    ),
                    rx.vstack(
                        rx.text(t("outreach.persona"), size="1", weight="medium"),
                        rx.el.select(
                            rx.el.option(t("outreach.persona_of_number"), value=""),
                            rx.foreach(
                                PoliciesState.personas, lambda option: rx.el.option(option.label, value=option.value)
                            ),
                            value=PoliciesState.form.persona_id,
                            on_change=lambda v: PoliciesState.set_field("persona_id", v),
                            class_name="native-select",
                        ),
                        spacing="1",
                    ),
                    columns="2",
                    spacing="3",
                    width="100%",
                ),
                rx.grid(
                    _num("outreach.daily_limit", "daily_limit"),
                    _num("outreach.hourly_limit", "hourly_limit"),
                    _num("outreach.max_rounds", "max_rounds_per_contact"),
                    _num("outreach.min_gap", "min_gap_minutes"),
                    columns=rx.breakpoints(initial="2", sm="4"),
                    spacing="3",
                    width="100%",
                ),
                rx.text(t("outreach.dayparts"), size="1", weight="medium"),
                _chips(DAYPARTS, PoliciesState.parts, PoliciesState.toggle_part, "daypart"),
                field_message(PoliciesState.error_field, PoliciesState.form_error, "dayparts", "policy-dayparts-error"),
                rx.text(t("outreach.days"), size="1", weight="medium"),
                _chips(DAYS, PoliciesState.days, PoliciesState.toggle_day, "weekday"),
                rx.text(t("outreach.days_hint"), size="1", color_scheme="gray"),
                field_message(PoliciesState.error_field, PoliciesState.form_error, "allow_days", "policy-days-error"),
                rx.vstack(
                    rx.text(t("outreach.keywords"), size="1", weight="medium"),
                    rx.input(
                        value=PoliciesState.form.optout_keywords,
                        width="100%",
                        on_change=lambda v: PoliciesState.set_field("optout_keywords", v),
                        id="policy-optout_keywords",
                        **outline(PoliciesState.error_field, "optout_keywords"),
                    ),
                    rx.text(t("outreach.keywords_hint"), size="1", color_scheme="gray"),
                    field_message(
                        PoliciesState.error_field, PoliciesState.form_error, "optout_keywords", "policy-keywords-error"
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.cond(PoliciesState.error_field == "", field_error(PoliciesState.form_error, "policy-error")),
                dialog_actions(PoliciesState.save, "policy-save"),
                spacing="3",
                width="100%",
            ),
            max_width="680px",
        ),
        open=PoliciesState.editing,
        on_open_change=PoliciesState.set_editing,
    )


def _card(p: rx.Var[PolicyCard]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.heading(p.number, size="4"),
                rx.text(p.wa_number, size="1", class_name="mono", color_scheme="gray"),
                rx.spacer(),
                rx.switch(
                    checked=p.active,
                    on_change=lambda v: PoliciesState.toggle_active(p.id, v),
                    disabled=~AuthState.can_manage,
                    class_name="policy-active",
                ),
                width="100%",
                align="center",
            ),
            rx.text(t("outreach.persona"), ": ", p.persona, size="2", class_name="policy-persona"),
            rx.hstack(
                rx.badge(p.usage, variant="soft"),
                rx.badge(p.gap, variant="outline"),
                rx.badge(p.rounds, variant="outline"),
                wrap="wrap",
            ),
            rx.text(p.dayparts, " · ", p.days, size="1", color_scheme="gray"),
            rx.text(t("outreach.keywords"), ": ", p.keywords, size="1", color_scheme="gray"),
            rx.hstack(
                rx.badge(p.pending, color_scheme="cyan"),
                rx.badge(p.done, color_scheme="grass"),
                rx.badge(p.optout, color_scheme="orange"),
                rx.spacer(),
                rx.cond(
                    AuthState.can_manage,
                    rx.hstack(
                        rx.button(t("common.edit"), size="1", variant="soft", on_click=PoliciesState.edit(p.id)),
                        rx.icon_button(
                            rx.icon("trash-2", size=14),
                            size="1",
                            variant="ghost",
                            color_scheme="red",
                            on_click=PoliciesState.ask_delete(p.id),
                            aria_label="delete",
                            class_name="policy-delete",
                        ),
                    ),
                ),
                width="100%",
                wrap="wrap",
            ),
            spacing="2",
            width="100%",
        ),
        class_name="policy-card",
    )


@app_page("/outreach/policies", "Outreach policies", on_load=PoliciesState.load)
def outreach_policies_page() -> rx.Component:
    return page_layout(
        "page.policies.title",
        "page.policies.subtitle",
        rx.vstack(
            rx.callout(t("outreach.consent_note"), icon="shield-check", color_scheme="cyan", size="1", width="100%"),
            rx.hstack(
                rx.spacer(),
                rx.cond(
                    AuthState.can_manage,
                    rx.button(
                        rx.icon("plus", size=16), t("outreach.new_policy"), on_click=PoliciesState.new, id="policy-new"
                    ),
                ),
                width="100%",
            ),
            rx.cond(
                PoliciesState.rows.length() > 0,
                rx.grid(
                    rx.foreach(PoliciesState.rows, _card),
                    columns=rx.breakpoints(initial="1", lg="2"),
                    spacing="4",
                    width="100%",
                    id="policy-grid",
                ),
                rx.cond(
                    PoliciesState.loaded,
                    empty_state("shield-check", "outreach.empty_policies", "outreach.empty_policies_hint"),
                ),
            ),
            rx.moment(interval=5000, on_change=PoliciesState.load, display="none"),
            spacing="4",
            width="100%",
        ),
        _editor(),
        confirm_dialog(PoliciesState.confirm, PoliciesState.delete, PoliciesState.cancel_delete, "policy-delete"),
    )
