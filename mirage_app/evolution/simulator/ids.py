"""Identifiers in the formats Evolution/Baileys use, drawn from one seeded RNG so runs are reproducible."""

from __future__ import annotations

import base64
import random
import re
import string
import struct
import uuid
import zlib

import segno

from mirage_app.evolution.jids import phone_digits

_PAIRING_ALPHABET = "123456789ABCDEFGHJKLMNPQRSTVWXYZ"  # Baileys' Crockford-style set: no 0/O/I/U
_CUID_ALPHABET = string.ascii_lowercase + string.digits
_BR_MOBILE = re.compile(r"^(\d{2})(\d{2})\d(\d{8})$")


class IdFactory:
    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def token(self) -> str:
        """Instance token as Evolution generates it: `uuidv4().toUpperCase()`."""
        return self.uuid().upper()

    def web_message_id(self) -> str:
        """Baileys `generateMessageIDV2`: "3EB0" + 18 upper-case hex, which `getDevice` reports as web."""
        return "3EB0" + self._hex(18)

    def phone_message_id(self) -> str:
        """A 32-character id, reported as sent from Android."""
        return self._hex(32)

    def cuid(self) -> str:
        """Prisma-style row id, e.g. `cmfyoow42000hov4xwkdug3lv`."""
        return "c" + "".join(self._rng.choice(_CUID_ALPHABET) for _ in range(24))

    def pairing_code(self) -> str:
        return "".join(self._rng.choice(_PAIRING_ALPHABET) for _ in range(8))

    def br_mobile(self) -> str:
        """A fake São Paulo mobile in E.164 digits: 55 11 9XXXX-XXXX."""
        return "55119" + "".join(self._rng.choice(string.digits) for _ in range(8))

    def lid(self) -> str:
        return str(self._rng.randrange(10**14, 10**15))

    def qr_code(self) -> str:
        """The string a WhatsApp QR encodes: `2@<ref>,<noise key>,<identity key>,<adv secret>`."""
        parts = [self._b64(48), self._b64(32), self._b64(32), self._b64(32)]
        return "2@" + ",".join(parts)

    def _hex(self, length: int) -> str:
        return f"{self._rng.getrandbits(4 * length):0{length}X}"

    def _b64(self, size: int) -> str:
        return base64.b64encode(self._rng.randbytes(size)).decode()


def qr_png_data_url(code: str, scale: int = 4, border: int = 3) -> str:
    """PNG data URL like `qrcode.toDataURL` (margin 3, scale 4).

    Cheap on purpose, since a bench opens thousands of instances: a fixed mask pattern (still a valid, scannable
    code; scoring all eight masks cost 20 ms) and a direct 1-bit PNG writer (segno's took 4 ms): ~4 ms a code."""
    matrix = segno.make_qr(code, error="m", mask=0).matrix
    modules = len(matrix) + 2 * border
    width = modules * scale
    padding = "0" * (-width % 8)
    quiet = "1" * border * scale
    rows = [b"\x00" + int("1" * width + padding, 2).to_bytes((width + 7) // 8, "big")] * (border * scale)
    for line in matrix:  # 1 = dark module; in a greyscale PNG 1 = white
        bits = quiet + "".join("0" * scale if dark else "1" * scale for dark in line) + quiet + padding
        rows += [b"\x00" + int(bits, 2).to_bytes((width + 7) // 8, "big")] * scale
    rows += rows[: border * scale]
    header = struct.pack(">IIBBBBB", width, width, 1, 0, 0, 0, 0)  # 1-bit greyscale, no interlace
    png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(b"".join(rows)))
    return "data:image/png;base64," + base64.b64encode(png + _chunk(b"IEND", b"")).decode()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def device_of(message_id: str) -> str:
    """Evolution's `getDevice`: which client type produced a message id."""
    if re.fullmatch(r"3A.{18}", message_id):
        return "ios"
    if re.fullmatch(r"3E.{20}", message_id):
        return "web"
    if len(message_id) in (21, 32):
        return "android"
    if message_id.startswith("3F") or len(message_id) == 18:
        return "desktop"
    return "unknown"


def canonical_phone(number: str) -> str:
    """Digits WhatsApp registers for a typed number, with createJid's Brazilian 9th-digit rule.

    A 13-digit 55 number whose DDD is ≥ 31 and whose subscriber part starts with 7-9 loses the leading 9.
    Mexico/Argentina rewrites are not simulated.
    """
    digits = phone_digits(number.split("@", 1)[0])
    match = _BR_MOBILE.match(digits)
    if match and match[1] == "55" and int(match[2]) >= 31 and int(match[3][0]) >= 7:
        return match[1] + match[2] + match[3]
    return digits
