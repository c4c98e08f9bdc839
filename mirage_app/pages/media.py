"""`/media`: the media library — add a file (kind, tags) with the refusal under the drop zone, the files as a grid
(thumbnails, stickers, players) with their tags and origin, filters by kind and tag, delete after a confirmation that
says how many messages show the file."""

from __future__ import annotations

import reflex as rx

from mirage_app.components.confirm import confirm_dialog
from mirage_app.components.controls import read_only_notice
from mirage_app.components.layout import app_page, empty_state, page_layout
from mirage_app.states.media import KINDS, MAX_UPLOAD_BYTES, MediaState, MediaTile
from mirage_app.states.ui import t

UPLOAD_ID = "media-upload"
ORIGIN_COLOURS = (("upload", "cyan"), ("generated", "violet"), ("received", "amber"), "gray")
ACCEPT = {
    "image/*": [".png", ".jpg", ".jpeg", ".webp", ".gif"],
    "audio/*": [".ogg", ".oga", ".opus", ".wav", ".flac", ".mp3"],
}


def _upload_card() -> rx.Component:
    marked = MediaState.upload_error_field
    return rx.card(
        rx.vstack(
            rx.text(t("library.add"), weight="medium"),
            rx.grid(
                rx.vstack(
                    rx.text(t("library.kind"), size="1", weight="medium"),
                    rx.el.select(
                        *[rx.el.option(t(f"library.kind.{k}"), value=k) for k in KINDS],
                        value=MediaState.upload_kind,
                        on_change=MediaState.set_upload_kind,
                        class_name="native-select",
                        aria_label=t("library.kind"),
                        id="media-upload-kind",
                    ),
                    spacing="1",
                ),
                rx.vstack(
                    rx.text(t("library.tags"), size="1", weight="medium"),
                    rx.input(
                        value=MediaState.upload_tags,
                        on_change=MediaState.set_upload_tags,
                        placeholder=t("library.tags_placeholder"),
                        id="media-upload-tags",
                        width="100%",
                        color_scheme=rx.cond(marked == "tags", "red", "gray"),
                        class_name=rx.cond(marked == "tags", "input-invalid", ""),
                    ),
                    spacing="1",
                    width="100%",
                ),
                columns=rx.breakpoints(initial="1", sm="2"),
                spacing="3",
                width="100%",
            ),
            rx.upload(
                rx.vstack(
                    rx.hstack(
                        rx.cond(MediaState.uploading, rx.spinner(size="2"), rx.icon("file-up", size=18)),
                        rx.text(t("library.drop"), size="2"),
                        align="center",
                    ),
                    rx.text(t("library.drop_hint"), size="1", color_scheme="gray"),
                    spacing="1",
                ),
                id=UPLOAD_ID,
                accept=ACCEPT,
                max_files=1,
                max_size=MAX_UPLOAD_BYTES,
                on_drop=MediaState.upload(rx.upload_files(upload_id=UPLOAD_ID)),
                border=rx.cond(
                    (marked == "file") & (MediaState.upload_error != ""),
                    "1px dashed var(--red-9)",
                    "1px dashed var(--slate-7)",
                ),
                padding="0.9em 1em",
                border_radius="10px",
                width="100%",
            ),
            rx.cond(
                MediaState.upload_error != "",
                rx.text(MediaState.upload_error, size="1", color_scheme="red", id="media-upload-error"),
            ),
            spacing="3",
            width="100%",
        ),
        width="100%",
    )


def _filters() -> rx.Component:
    return rx.hstack(
        rx.el.select(
            rx.el.option(t("library.all"), value=""),
            *[rx.el.option(t(f"library.kind.{k}"), value=k) for k in KINDS],
            value=MediaState.kind_filter,
            on_change=MediaState.set_kind_filter,
            class_name="native-select native-select-sm",
            aria_label=t("library.kind"),
            id="media-filter-kind",
        ),
        rx.el.select(
            rx.el.option(t("library.all"), value=""),
            rx.foreach(MediaState.tag_choices, lambda tag: rx.el.option(tag, value=tag)),
            value=MediaState.tag_filter,
            on_change=MediaState.set_tag_filter,
            class_name="native-select native-select-sm",
            aria_label=t("library.filter_tag"),
            id="media-filter-tag",
        ),
        align="center",
        wrap="wrap",
        spacing="3",
    )


def _preview(tile: rx.Var[MediaTile]) -> rx.Component:
    return rx.match(
        tile.kind,
        (
            "voice",
            rx.center(
                rx.el.audio(src=tile.url, controls=True, preload="none", class_name="voice-player media-player"),
                height="128px",
                width="100%",
            ),
        ),
        ("sticker", rx.image(src=tile.url, alt=tile.name, class_name="media-sticker", loading="lazy")),
        rx.link(
            rx.image(src=tile.url, alt=tile.name, class_name="media-thumb", loading="lazy"),
            href=tile.url,
            is_external=True,
        ),
    )


def _tile(tile: rx.Var[MediaTile]) -> rx.Component:
    return rx.vstack(
        _preview(tile),
        rx.hstack(
            rx.badge(tile.kind_label, size="1", variant="soft"),
            rx.badge(
                tile.origin_label, size="1", variant="outline", color_scheme=rx.match(tile.origin, *ORIGIN_COLOURS)
            ),
            rx.spacer(),
            rx.cond(
                MediaState.can_manage_media,
                rx.icon_button(
                    rx.icon("trash-2", size=14),
                    size="1",
                    variant="soft",
                    color_scheme="red",
                    on_click=MediaState.ask_delete(tile.id),
                    aria_label=t("common.delete"),
                    class_name="media-delete",
                ),
            ),
            width="100%",
            align="center",
            wrap="wrap",
        ),
        rx.text(tile.name, size="1", weight="medium", class_name="clamp-2", custom_attrs={"data-user-content": "name"}),
        rx.text(tile.detail, size="1", color_scheme="gray", class_name="mono"),
        rx.cond(
            tile.tags.length() > 0,
            rx.hstack(rx.foreach(tile.tags, lambda tag: rx.badge(tag, size="1", variant="surface")), wrap="wrap"),
        ),
        rx.cond(tile.shown_in != "", rx.text(tile.shown_in, size="1", color_scheme="gray")),
        rx.text(tile.added, size="1", color_scheme="gray"),
        spacing="2",
        class_name="media-tile",
        custom_attrs={"data-kind": tile.kind},
    )


@app_page("/media", "Media", on_load=MediaState.load)
def media_page() -> rx.Component:
    return page_layout(
        "page.media.title",
        "page.media.subtitle",
        rx.vstack(
            read_only_notice(MediaState.can_manage_media, "library.read_only", "media-read-only"),
            rx.cond(MediaState.can_manage_media, _upload_card()),
            _filters(),
            rx.cond(
                MediaState.tiles.length() > 0,
                rx.grid(
                    rx.foreach(MediaState.tiles, _tile),
                    columns=rx.breakpoints(initial="2", sm="3", md="4", xl="6"),
                    spacing="3",
                    width="100%",
                    id="media-grid",
                ),
                rx.cond(MediaState.loaded, empty_state("images", "library.empty_title", "library.empty_hint")),
            ),
            spacing="4",
            width="100%",
        ),
        confirm_dialog(MediaState.confirm, MediaState.delete, MediaState.cancel_delete, "media-delete"),
    )
