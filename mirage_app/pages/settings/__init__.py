"""`/settings`: one tab per module — security, users, API keys, tenant defaults, Evolution servers, number safety,
alerts; `?tab=` opens one directly."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.action_rules import action_rules_card
from mirage_app.components.layout import app_page, page_layout
from mirage_app.pages.settings.alerts import alerts_card
from mirage_app.pages.settings.api_keys import api_keys_card
from mirage_app.pages.settings.cards import admin_only, ending_dialog
from mirage_app.pages.settings.safety import allowance_card, proxies_card
from mirage_app.pages.settings.security import mfa_card, password_card
from mirage_app.pages.settings.servers import servers_card
from mirage_app.pages.settings.sessions import sessions_card
from mirage_app.pages.settings.tenant import tenant_card
from mirage_app.pages.settings.users import users_card
from mirage_app.states.action_rules import ActionRulesState
from mirage_app.states.alerts import AlertsState
from mirage_app.states.auth import AuthState
from mirage_app.states.proxies import ProxiesState
from mirage_app.states.servers import ServersState
from mirage_app.states.settings import SettingsState
from mirage_app.states.ui import t


@app_page(
    "/settings",
    "Settings",
    on_load=[
        SettingsState.on_load,
        ServersState.refresh,
        ActionRulesState.load_tenant,
        ProxiesState.load_safety,
        AlertsState.refresh,
    ],
)
def settings_page() -> rx.Component:
    return page_layout(
        "page.settings.title",
        "page.settings.subtitle",
        rx.tabs.root(
            rx.tabs.list(
                rx.tabs.trigger(t("settings.tab.security"), value="security", id="tab-security"),
                rx.tabs.trigger(t("settings.tab.users"), value="users", id="tab-users"),
                rx.tabs.trigger(t("settings.tab.api_keys"), value="api_keys", id="tab-api-keys"),
                rx.tabs.trigger(t("settings.tab.tenant"), value="tenant", id="tab-tenant"),
                rx.tabs.trigger(t("settings.tab.servers"), value="servers", id="tab-servers"),
                rx.tabs.trigger(t("settings.tab.safety"), value="safety", id="tab-safety"),
                rx.tabs.trigger(t("settings.tab.alerts"), value="alerts", id="tab-alerts"),
                flex_wrap="wrap",  # at phone width every tab stays in sight (two rows) rather than scrolled away
            ),
            rx.tabs.content(
                rx.vstack(password_card(), mfa_card(), sessions_card(), spacing="4", padding_top="1em"),
                value="security",
            ),
            rx.tabs.content(rx.box(admin_only(users_card()), padding_top="1em"), value="users"),
            rx.tabs.content(rx.box(admin_only(api_keys_card()), padding_top="1em"), value="api_keys"),
            rx.tabs.content(
                rx.vstack(tenant_card(), action_rules_card(AuthState.is_admin), spacing="4", padding_top="1em"),
                value="tenant",
            ),
            rx.tabs.content(rx.box(servers_card(), padding_top="1em"), value="servers"),
            rx.tabs.content(
                rx.vstack(proxies_card(), allowance_card(), spacing="4", padding_top="1em"), value="safety"
            ),
            rx.tabs.content(rx.box(alerts_card(), padding_top="1em"), value="alerts"),
            value=SettingsState.tab,
            on_change=SettingsState.set_tab,
        ),
        ending_dialog(),
    )
