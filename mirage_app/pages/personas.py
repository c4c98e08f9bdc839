"""`/personas`: who speaks through each number — voice, greetings per daypart, traits — with a live preview."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import reflex as rx

from mirage_app.components.auth_card import field_error
from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.controls import dialog_actions
from mirage_app.components.field_errors import field_message, outline
from mirage_app.components.habits import habits_section
from mirage_app.components.layout import app_page, empty_state, page_layout
from mirage_app.i18n import LOCALES, formats
from mirage_app.logic.actions import Habits
from mirage_app.logic.form_fields import named_error
from mirage_app.logic.habit_percent import habit_percents, habit_rate, number_or_zero
from mirage_app.services import personas
from mirage_app.states.auth import AuthState
from mirage_app.states.confirming import ConfirmDelete
from mirage_app.states.ui import t

TRAITS = ("age", "occupation", "writing_style", "emoji_use", "typical_length")
# The form field each service field is shown beside, and its label.
FIELD_OF = {f"traits.{k}": k for k in TRAITS} | {"active_hours": "hours_start"}
LABELS = {
    "name": "personas.name",
    "style": "personas.style",
    "greeting_morning": "personas.greeting_morning",
    "greeting_afternoon": "personas.greeting_afternoon",
    "greeting_evening": "personas.greeting_evening",
    "age": "personas.age",
    "occupation": "personas.occupation",
    "writing_style": "personas.writing_style",
    "emoji_use": "personas.emoji_use",
    "typical_length": "personas.typical_length",
    "hours_start": "personas.hours",
    "locale": "personas.locale",
} | {f"habits.{name}": f"habits.{name}" for name in Habits.names()}


@dataclass(frozen=True)
class PersonaCard:
    id: str
    name: str
    style: str
    greeting_morning: str
    greeting_afternoon: str
    greeting_evening: str
    numbers: str  # "2 números usam esta persona"
    occupation: str
    locale: str  # the language in words


@dataclass(frozen=True)
class PersonaForm:
    """The editor, as typed; `id` is "" for a new persona."""

    id: str = ""
    name: str = ""
    style: str = ""
    greeting_morning: str = ""
    greeting_afternoon: str = ""
    greeting_evening: str = ""
    age: str = ""
    occupation: str = ""
    writing_style: str = ""
    emoji_use: str = "low"
    typical_length: str = "short"
    hours_start: str = "08:00"
    hours_end: str = "22:00"
    locale: str = "pt-BR"
    habits: dict[str, str] = field(default_factory=lambda: habit_percents(asdict(Habits())))  # percent, as typed

    @classmethod
    def of(cls, view: personas.PersonaView) -> PersonaForm:
        defaults = cls()
        return cls(
            id=str(view.id),
            name=view.name,
            style=view.style,
            greeting_morning=view.greeting_morning,
            greeting_afternoon=view.greeting_afternoon,
            greeting_evening=view.greeting_evening,
            **{k: str(view.traits.get(k, getattr(defaults, k))) for k in TRAITS},
            hours_start=view.active_hours.get("start", ""),
            hours_end=view.active_hours.get("end", ""),
            locale=view.locale,
            habits=habit_percents(view.habits),
        )

    def fields(self) -> dict:
        """What `personas.create_persona` / `update_persona` take."""
        both_hours = self.hours_start and self.hours_end
        return {
            "name": self.name,
            "style": self.style,
            "greeting_morning": self.greeting_morning,
            "greeting_afternoon": self.greeting_afternoon,
            "greeting_evening": self.greeting_evening,
            "traits": {k: getattr(self, k) for k in TRAITS},
            "active_hours": {"start": self.hours_start, "end": self.hours_end} if both_hours else {},
            "locale": self.locale,
            "habits": {k: habit_rate(v) for k, v in self.habits.items()},
        }


class PersonasState(ConfirmDelete, AuthState):
    rows: list[PersonaCard] = []
    loaded: bool = False
    editing: bool = False
    form: PersonaForm = PersonaForm()
    form_error: str = ""
    error_field: str = ""  # the form field the last save failure named ("" for none)
    preview_text: str = ""
    preview_source: str = ""
    preview_daypart: str = "morning"
    previewing: bool = False

    @rx.event
    def load(self):
        listed = self._call(personas.list_personas)
        if not listed.ok:
            return listed.feedback
        self.rows = [
            PersonaCard(
                id=str(p.id),
                name=p.name,
                style=p.style,
                greeting_morning=p.greeting_morning,
                greeting_afternoon=p.greeting_afternoon,
                greeting_evening=p.greeting_evening,
                numbers=formats.count(self.tr, "personas.numbers", p.numbers),
                occupation=str(p.traits.get("occupation", "")),
                locale=formats.label(self.tr, "personas.locale", p.locale),
            )
            for p in listed.value
        ]
        self.loaded = True
        return None

    @rx.event
    def new(self):
        self.form, self.form_error, self.error_field, self.preview_text, self.editing = PersonaForm(), "", "", "", True

    @rx.event
    def edit(self, persona_id: str):
        found = self._call(personas.get_persona, persona_id)
        if not found.ok:
            return found.feedback
        self.form, self.form_error, self.error_field, self.preview_text = PersonaForm.of(found.value), "", "", ""
        self.editing = True
        return None

    @rx.event
    def set_editing(self, is_open: bool):
        self.editing = is_open

    @rx.event
    def set_field(self, name: str, value: str):
        self.form = replace(self.form, **{name: value})

    @rx.var
    def habit_slider(self) -> dict[str, float]:
        """The habits as numbers for the sliders (0 while the typed value is not a number)."""
        return {k: number_or_zero(v) for k, v in self.form.habits.items()}

    @rx.event
    def set_habit(self, name: str, value: str | list[float]):
        """From the number input (text) or the slider ([value])."""
        if name not in Habits.names():
            return
        typed = value if isinstance(value, str) else f"{float(value[0]):g}"
        self.form = replace(self.form, habits={**self.form.habits, name: typed})

    @rx.event
    def set_preview_daypart(self, daypart: str | list[str]):
        self.preview_daypart = daypart if isinstance(daypart, str) else daypart[0]

    @rx.event
    def save(self):
        form = self.form

        def write(actor):
            if form.id:
                return personas.update_persona(actor, form.id, **form.fields())
            return personas.create_persona(actor, **form.fields())

        saved = self._call(write, error_to="form_error", success="personas.saved")
        self.error_field, self.form_error = named_error(self.tr, LABELS, saved.error_field, self.form_error, FIELD_OF)
        if saved.ok:
            self.editing = False
            self.load()
        return saved.feedback

    def _impact(self, target_id: str):
        """Active policies using the persona block the delete."""
        return self._call(personas.persona_impact, target_id)

    def _delete(self, target_id: str):
        deleted = self._call(personas.delete_persona, target_id, success="personas.deleted")
        self.load()
        return deleted.feedback

    @rx.event(background=True)
    async def preview(self):
        async with self:
            if self.previewing:
                return None
            self.previewing = True
            draft, daypart, locale = self.form.fields(), self.preview_daypart, self.form.locale
        previewed = await self._call_in_thread(
            personas.preview, draft=draft, daypart=daypart, locale=locale, error_to="form_error"
        )
        async with self:
            self.previewing = False
            if previewed.ok:
                self.preview_text, self.preview_source = previewed.value.text, previewed.value.source
        return previewed.feedback


def _input(label_key: str, name: str, **props) -> rx.Component:
    return rx.vstack(
        rx.text(t(label_key), size="1", weight="medium"),
        rx.input(
            value=getattr(PersonasState.form, name),
            on_change=lambda v: PersonasState.set_field(name, v),
            id=f"persona-{name}",
            width="100%",
            **outline(PersonasState.error_field, name),
            **props,
        ),
        field_message(PersonasState.error_field, PersonasState.form_error, name, f"persona-{name}-error"),
        spacing="1",
        width="100%",
    )


def _choice(label_key: str, name: str, options: list[str], option_key: str) -> rx.Component:
    """A select whose options read as words (`option_key.<value>`), the value staying the code."""
    return rx.vstack(
        rx.text(t(label_key), size="1", weight="medium"),
        rx.select.root(
            rx.select.trigger(width="100%", id=f"persona-{name}"),
            rx.select.content(*[rx.select.item(t(f"{option_key}.{o}"), value=o) for o in options]),
            value=getattr(PersonasState.form, name),
            on_change=lambda v: PersonasState.set_field(name, v),
        ),
        field_message(PersonasState.error_field, PersonasState.form_error, name, f"persona-{name}-error"),
        spacing="1",
        width="100%",
    )


def editor() -> rx.Component:
    preview = rx.card(
        rx.vstack(
            rx.hstack(
                rx.text(t("personas.preview"), weight="medium"),
                rx.spacer(),
                rx.segmented_control.root(
                    *[
                        rx.segmented_control.item(t(f"daypart.{d}"), value=d)
                        for d in ("morning", "afternoon", "evening")
                    ],
                    value=PersonasState.preview_daypart,
                    on_change=PersonasState.set_preview_daypart,
                    size="1",
                ),
                rx.button(
                    rx.cond(PersonasState.previewing, rx.spinner(size="1"), rx.icon("sparkles", size=14)),
                    t("personas.preview_button"),
                    size="1",
                    on_click=PersonasState.preview,
                    id="persona-preview",
                    type="button",
                ),
                width="100%",
                align="center",
                wrap="wrap",  # a phone-wide dialog keeps its width
            ),
            rx.cond(
                PersonasState.preview_text != "",
                rx.box(
                    rx.text(PersonasState.preview_text, id="preview-text"),
                    rx.text(PersonasState.preview_source, size="1", color_scheme="gray"),
                    class_name="bubble bubble-out",
                ),
            ),
            width="100%",
        ),
        width="100%",
    )
    return rx.dialog.root(
        rx.dialog.content(
            rx.dialog.title(rx.cond(PersonasState.form.id == "", t("personas.new"), t("personas.edit"))),
            rx.vstack(
                rx.grid(
                    _input("personas.name", "name"),
                    _choice("personas.locale", "locale", list(LOCALES), "personas.locale"),
                    columns=rx.breakpoints(initial="1", sm="2"),
                    spacing="3",
                    width="100%",
                ),
                rx.vstack(
                    rx.text(t("personas.style"), size="1", weight="medium"),
                    rx.text_area(
                        value=PersonasState.form.style,
                        id="persona-style",
                        width="100%",
                        on_change=lambda v: PersonasState.set_field("style", v),
                        placeholder=t("personas.style_placeholder"),
                    ),
                    spacing="1",
                    width="100%",
                ),
                rx.grid(
                    _input("personas.greeting_morning", "greeting_morning"),
                    _input("personas.greeting_afternoon", "greeting_afternoon"),
                    _input("personas.greeting_evening", "greeting_evening"),
                    columns=rx.breakpoints(initial="1", sm="3"),
                    spacing="3",
                    width="100%",
                ),
                rx.grid(
                    _input("personas.age", "age", type="number"),
                    _input("personas.occupation", "occupation"),
                    _choice("personas.emoji_use", "emoji_use", ["none", "low", "medium", "high"], "personas.emoji"),
                    _choice(
                        "personas.typical_length", "typical_length", ["short", "medium", "long"], "personas.length"
                    ),
                    columns=rx.breakpoints(initial="2", sm="4"),
                    spacing="3",
                    width="100%",
                ),
                rx.grid(
                    _input("personas.writing_style", "writing_style"),
                    _input("personas.hours_start", "hours_start", type="time"),
                    _input("personas.hours_end", "hours_end", type="time"),
                    columns=rx.breakpoints(initial="1", sm="3"),
                    spacing="3",
                    width="100%",
                ),
                habits_section(
                    PersonasState.form.habits,
                    PersonasState.habit_slider,
                    PersonasState.error_field,
                    PersonasState.form_error,
                    PersonasState.set_habit,
                ),
                preview,
                rx.cond(PersonasState.error_field == "", field_error(PersonasState.form_error, "persona-error")),
                dialog_actions(PersonasState.save, "persona-save"),
                spacing="3",
                width="100%",
            ),
            max_width="760px",
        ),
        open=PersonasState.editing,
        on_open_change=PersonasState.set_editing,
    )


def _card(row: rx.Var[PersonaCard]) -> rx.Component:
    return rx.card(
        rx.vstack(
            rx.hstack(
                rx.avatar(fallback=row.name[:2], radius="full", color_scheme="violet"),
                rx.vstack(
                    rx.heading(row.name, size="4"),
                    rx.text(row.occupation, size="1", color_scheme="gray"),
                    spacing="0",
                ),
                rx.spacer(),
                rx.badge(row.locale, variant="outline"),
                width="100%",
                align="center",
            ),
            rx.text(row.style, size="2", color_scheme="gray", class_name="clamp-2"),
            rx.hstack(
                # An unset greeting is left out rather than shown as an empty badge.
                rx.cond(row.greeting_morning != "", rx.badge("☀ ", row.greeting_morning, variant="soft")),
                rx.cond(row.greeting_afternoon != "", rx.badge("◐ ", row.greeting_afternoon, variant="soft")),
                rx.cond(row.greeting_evening != "", rx.badge("☾ ", row.greeting_evening, variant="soft")),
                wrap="wrap",
            ),
            rx.hstack(
                rx.text(row.numbers, size="1", color_scheme="gray"),
                rx.spacer(),
                rx.cond(
                    AuthState.can_manage,
                    rx.hstack(
                        rx.button(
                            rx.icon("pencil", size=14),
                            t("common.edit"),
                            size="1",
                            variant="soft",
                            on_click=PersonasState.edit(row.id),
                        ),
                        rx.button(
                            rx.icon("trash-2", size=14),
                            size="1",
                            variant="soft",
                            color_scheme="red",
                            on_click=PersonasState.ask_delete(row.id),
                            aria_label="delete",
                            class_name="persona-delete",
                        ),
                    ),
                ),
                width="100%",
                align="center",
            ),
            spacing="3",
            width="100%",
        ),
        class_name="persona-card",
    )


@app_page("/personas", "Personas", on_load=PersonasState.load)
def personas_page() -> rx.Component:
    return page_layout(
        "page.personas.title",
        "page.personas.subtitle",
        rx.vstack(
            rx.hstack(
                rx.spacer(),
                rx.cond(
                    AuthState.can_manage,
                    rx.button(
                        rx.icon("plus", size=16), t("personas.new"), on_click=PersonasState.new, id="persona-new"
                    ),
                ),
                width="100%",
            ),
            rx.cond(
                PersonasState.rows.length() > 0,
                rx.grid(
                    rx.foreach(PersonasState.rows, _card),
                    columns=rx.breakpoints(initial="1", md="2", xl="3"),
                    spacing="4",
                    width="100%",
                    id="persona-grid",
                ),
                rx.cond(PersonasState.loaded, empty_state("drama", "personas.empty_title", "personas.empty_hint")),
            ),
            spacing="4",
            width="100%",
        ),
        editor(),
        confirm_dialog(PersonasState.confirm, PersonasState.delete, PersonasState.cancel_delete, "persona-delete"),
    )
