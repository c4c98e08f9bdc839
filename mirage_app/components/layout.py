"""The app shell: sidebar with every route, header with badges and language, content area."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.emergency_stop import emergency_banner
from mirage_app.i18n import LOCALE_NAMES
from mirage_app.states.auth import AuthState
from mirage_app.states.emergency_stop import EmergencyStopState
from mirage_app.states.ui import UiState, t

NAV_SECTIONS: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "nav.section.operate",
        [
            ("nav.overview", "/", "layout-dashboard"),
            ("nav.instances", "/instances", "smartphone"),
            ("nav.conversations", "/conversations", "messages-square"),
            ("nav.personas", "/personas", "drama"),
            ("nav.media", "/media", "images"),
            ("nav.metrics", "/metrics", "chart-line"),
        ],
    ),
    (
        "nav.section.outreach",
        [
            ("nav.contacts", "/contacts", "contact"),
            ("nav.policies", "/outreach/policies", "shield-check"),
            ("nav.targets", "/outreach/targets", "target"),
        ],
    ),
    (
        "nav.section.admin",
        [
            ("nav.settings", "/settings", "settings"),
            ("nav.audit", "/audit", "scroll-text"),
            ("nav.platform", "/platform", "building-2"),
        ],
    ),
]


# Links shown only to whom may open them (the page would say "not allowed").
GATED = {"/audit": AuthState.can_read_audit, "/platform": AuthState.platform_operator}


def _nav_item(label_key: str, href: str, icon: str) -> rx.Component:
    path = rx.State.router.url.path
    active = (path == href) if href == "/" else path.startswith(href)
    link = rx.link(
        rx.hstack(rx.icon(icon, size=18), rx.text(t(label_key), size="2"), align="center", spacing="3"),
        href=href,
        underline="none",
        class_name=rx.cond(active, "nav-item nav-item-active", "nav-item"),
        width="100%",
    )
    return rx.cond(GATED[href], link) if href in GATED else link


def brand() -> rx.Component:
    return rx.hstack(
        rx.box(class_name="brand-mark"),
        rx.vstack(
            rx.heading(t("app.name"), size="5", weight="bold"),
            rx.text(t("app.tagline"), size="1", color_scheme="gray"),
            spacing="0",
        ),
        align="center",
        spacing="3",
    )


NAV_CHECK = "nav-open"


def nav_check() -> rx.Component:
    """Whether the drawer is open at phone width, kept in the browser alone (a checkbox that the CSS follows), so
    the menu answers at once even while the server is busy with the page's loaders. Each page mounts a fresh,
    unchecked one: navigating closes the drawer."""
    return rx.el.input(
        type="checkbox", id=NAV_CHECK, class_name="nav-check", aria_label=t("nav.menu"), aria_controls="sidebar"
    )


def top_bar() -> rx.Component:
    """Phone width only (CSS): the brand and the menu button that opens the sidebar over the page."""
    return rx.hstack(
        brand(),
        rx.spacer(),
        rx.el.label(
            rx.icon("menu", size=20, class_name="nav-icon-closed"),
            rx.icon("x", size=20, class_name="nav-icon-open"),
            html_for=NAV_CHECK,
            class_name="nav-toggle",
            id="nav-toggle",
            aria_hidden="true",  # the checkbox itself is the control assistive technology sees
        ),
        align="center",
        class_name="topbar",
        id="topbar",
    )


def sidebar() -> rx.Component:
    sections = []
    for section_key, items in NAV_SECTIONS:
        sections.append(
            rx.vstack(
                rx.text(t(section_key), size="1", weight="medium", color_scheme="gray", class_name="nav-section"),
                *[_nav_item(*item) for item in items],
                spacing="1",
                width="100%",
            )
        )
    return rx.vstack(
        rx.box(brand(), padding_bottom="1em", class_name="sidebar-brand"),
        *sections,
        rx.spacer(),
        user_box(),
        language_select(),
        credit(),
        spacing="5",
        class_name="sidebar",
        id="sidebar",
    )


EVOLUTION_API_URL = "https://github.com/EvolutionAPI/evolution-api"


def credit() -> rx.Component:
    """Evolution API's licence asks integrators to say they use it: one quiet line under the sidebar."""
    return rx.text(
        t("app.credit"),
        " ",
        rx.link("Evolution API", href=EVOLUTION_API_URL, is_external=True, color_scheme="gray", weight="medium"),
        size="1",
        color_scheme="gray",
        id="evolution-credit",
    )


def user_box() -> rx.Component:
    return rx.hstack(
        rx.avatar(fallback=AuthState.user_name[:2].upper(), size="2", radius="full", color_scheme="cyan"),
        rx.vstack(
            rx.text(AuthState.user_name, size="2", weight="medium", trim="both", id="user-name"),
            rx.badge(AuthState.role_label, size="1", variant="soft", id="user-role"),
            spacing="1",
            align="start",
            min_width="0",
        ),
        rx.spacer(),
        rx.tooltip(
            rx.icon_button(
                rx.icon("log-out", size=16),
                variant="ghost",
                on_click=AuthState.logout,
                id="logout",
                aria_label="logout",
            ),
            content=t("auth.logout"),
        ),
        align="center",
        width="100%",
        class_name="user-box",
    )


def app_page(route: str, title: str, on_load=None):
    """`@rx.page` for signed-in pages: the session is checked on every load, before the page's own loader."""
    loads = [AuthState.check_login, *([] if on_load is None else on_load if isinstance(on_load, list) else [on_load])]

    def decorate(fn):
        return rx.page(route=route, title=f"{title} · Mirage", on_load=loads)(fn)

    return decorate


def language_select() -> rx.Component:
    return rx.vstack(
        rx.text(t("app.language"), size="1", color_scheme="gray"),
        rx.select.root(
            rx.select.trigger(aria_label="language", id="language-select", width="100%"),
            rx.select.content(*[rx.select.item(name, value=code) for code, name in LOCALE_NAMES.items()]),
            value=UiState.lang,
            on_change=UiState.set_locale,
            size="2",
        ),
        spacing="1",
        width="100%",
    )


def status_badges() -> rx.Component:
    return rx.hstack(
        rx.cond(
            UiState.demo,
            rx.tooltip(
                rx.badge(
                    rx.icon("flask-conical", size=14),
                    t("app.demo"),
                    color_scheme="violet",
                    variant="surface",
                    id="demo-badge",
                ),
                content=t("app.demo_hint"),
            ),
        ),
        rx.cond(
            UiState.llm_offline,
            rx.tooltip(
                rx.badge(rx.icon("cpu", size=14), t("app.llm_offline"), color_scheme="gray", variant="surface"),
                content=t("app.llm_offline_hint"),
            ),
        ),
        rx.badge(
            rx.box(class_name=rx.cond(UiState.health_status == "ok", "dot dot-ok", "dot dot-warn")),
            rx.cond(UiState.health_status == "ok", t("health.ok"), t("health.degraded")),
            color_scheme=rx.cond(UiState.health_status == "ok", "grass", "amber"),
            variant="soft",
            id="health-badge",
        ),
        spacing="2",
        align="center",
    )


def zone_note() -> rx.Component:
    """The tenant's time zone, under every page title: each time on screen is in it."""
    return rx.hstack(
        rx.icon("clock", size=13),
        rx.text(t("app.zone"), " ", AuthState.zone_label, size="1"),
        align="center",
        spacing="1",
        color="var(--slate-10)",
        id="zone-label",
    )


def page_layout(title_key: str, subtitle_key: str | None, *children: rx.Component) -> rx.Component:
    return rx.box(
        nav_check(),  # before its followers: the CSS reads it with `~`
        top_bar(),
        rx.el.label(html_for=NAV_CHECK, class_name="nav-backdrop", aria_hidden="true"),
        sidebar(),
        rx.box(
            rx.hstack(
                rx.vstack(
                    rx.heading(t(title_key), size="7", weight="bold", id="page-title"),
                    rx.cond(subtitle_key is not None, rx.text(t(subtitle_key or "app.tagline"), color_scheme="gray")),
                    zone_note(),
                    spacing="1",
                ),
                rx.spacer(),
                status_badges(),
                align="start",
                width="100%",
                class_name="page-header",
            ),
            emergency_banner(),
            rx.box(*children, class_name="page-body"),
            class_name="main",
        ),
        class_name="shell",
        on_mount=[UiState.load_health, EmergencyStopState.load_stop],
    )


def your_role(*lead: rx.Component | rx.Var, **props) -> rx.Component:
    """Why something is closed to the signed-in person: `lead`, then "Seu papel é **Leitor**."."""
    return rx.text(*lead, " ", t("not_allowed.yours"), " ", rx.text.strong(AuthState.role_label), ".", **props)


def not_allowed(required_role_key: str = "role.admin") -> rx.Component:
    """In place of a page the signed-in role may not open: what it needs, what they have, and a way back."""
    return rx.center(
        rx.vstack(
            rx.box(rx.icon("lock", size=28), class_name="empty-icon"),
            rx.heading(t("not_allowed.title"), size="5"),
            your_role(
                t("not_allowed.needs"), " ", rx.text.strong(t(required_role_key)), ".", size="2", text_align="center"
            ),
            rx.text(t("not_allowed.ask"), color_scheme="gray", size="2", text_align="center"),
            rx.link(rx.button(rx.icon("house", size=16), t("common.go_home"), variant="soft"), href="/"),
            align="center",
            spacing="3",
            max_width="32rem",
        ),
        class_name="empty-state",
        id="not-allowed",
    )


def allowed_or_not(allowed: rx.Var, content: rx.Component, required_role_key: str = "role.admin") -> rx.Component:
    """A whole page behind a permission: the page when `allowed`, otherwise `not_allowed`."""
    return rx.cond(allowed, content, not_allowed(required_role_key))


def empty_state(icon: str, title_key: str = "empty.title", hint_key: str = "empty.coming") -> rx.Component:
    return rx.center(
        rx.vstack(
            rx.box(rx.icon(icon, size=28), class_name="empty-icon"),
            rx.heading(t(title_key), size="4"),
            rx.text(t(hint_key), color_scheme="gray", size="2"),
            align="center",
            spacing="2",
        ),
        class_name="empty-state",
    )
