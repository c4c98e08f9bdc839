"""Why a file is refused, and the limits it is measured against."""

from __future__ import annotations

from typing import Any

from mirage_app.i18n import translate

MB = 1024 * 1024
# Largest upload per kind, before normalising (WhatsApp's own limits are higher; these keep the library small).
MAX_BYTES = {"image": 5 * MB, "sticker": 1 * MB, "voice": 16 * MB}
MAX_VOICE_S = 180.0
MIN_VOICE_S = 0.5
# Decoding a picture allocates width × height × 4 bytes: refuse anything larger before decoding it.
MAX_MEGAPIXELS = 40

CODES = frozenset(
    {
        "empty",
        "unsupported_type",
        "too_large",
        "too_many_pixels",
        "undecodable_image",
        "undecodable_audio",
        "too_long",
        "too_short",
    }
)


class MediaRejected(Exception):
    """A file that cannot go into the library. `code` is one of CODES (catalogue key `media.rejected.<code>`),
    `detail` a short technical note for logs (what the bytes looked like), `params` fill the message."""

    def __init__(self, code: str, detail: str = "", **params: Any) -> None:
        assert code in CODES, code
        self.code = code
        self.detail = detail
        self.params = params
        super().__init__(f"{code}: {detail}" if detail else code)

    @property
    def key(self) -> str:
        return f"media.rejected.{self.code}"

    def message(self, locale: str | None = None) -> str:
        """The operator's message, in pt-BR or English."""
        return translate(self.key, locale, **self.params)
