"""Branding: the portal name, logo, favicon and colours a vendor admin sets.

Stored in the single ``branding`` row and read once per request (changes show on
the next page load). Colours reach pages through a generated stylesheet
(``/branding.css?v=<hash>``) because the CSP forbids inline styles. Uploaded
images are checked by content (magic bytes, dimensions read from the header)
and saved under ``<instance>/uploads/branding/`` with random names.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Blueprint, Response, abort, current_app, g, request, send_from_directory, url_for

from portal import context, settings_cache
from portal.extensions import db
from portal.models import Branding
from portal.permissions import permission_required

bp = Blueprint("branding", __name__)

COLOR_RE = re.compile(r"^#[0-9a-fA-F]{6}$")
#: WCAG 2.x AA for normal text.
MIN_CONTRAST = 4.5
TEXT_ON_COLOR = "#ffffff"

LOGO_TYPES = {"png": "image/png", "jpeg": "image/jpeg", "webp": "image/webp"}
FAVICON_TYPES = {"png": "image/png", "ico": "image/x-icon"}
LOGO_MAX_BYTES = 512 * 1024
LOGO_MAX_PIXELS = 1024
FAVICON_MAX_BYTES = 64 * 1024
FAVICON_MAX_PIXELS = 256
EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "ico": "ico"}


# -- colours -------------------------------------------------------------------------

def relative_luminance(color: str) -> float:
    """WCAG 2.x relative luminance of ``#rrggbb``."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i:i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4)
    r, g_, b = channels
    return 0.2126 * r + 0.7152 * g_ + 0.0722 * b


def contrast_ratio(first: str, second: str) -> float:
    lighter, darker = sorted((relative_luminance(first), relative_luminance(second)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def valid_color(value: str | None) -> bool:
    return bool(value and COLOR_RE.match(value))


# -- images --------------------------------------------------------------------------

class ImageError(ValueError):
    """An upload that is not an acceptable image (the message says why)."""


def sniff_image(data: bytes) -> tuple[str, int, int] | None:
    """``(kind, width, height)`` from the file's own bytes, or None if unrecognised."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and len(data) >= 24 and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return "png", width, height
    if data.startswith(b"\xff\xd8\xff"):
        size = _jpeg_size(data)
        return ("jpeg", *size) if size else None
    if len(data) >= 30 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        size = _webp_size(data)
        return ("webp", *size) if size else None
    if len(data) >= 22 and data[:4] == b"\x00\x00\x01\x00" and struct.unpack("<H", data[4:6])[0] > 0:
        # The first image's entry: 0 means 256 pixels.
        return "ico", data[6] or 256, data[7] or 256
    return None


def _jpeg_size(data: bytes) -> tuple[int, int] | None:
    i = 2
    while i + 9 < len(data):
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        length = struct.unpack(">H", data[i + 2:i + 4])[0]
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            height, width = struct.unpack(">HH", data[i + 5:i + 9])
            return width, height
        i += 2 + length
    return None


def _webp_size(data: bytes) -> tuple[int, int] | None:
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        width, height = struct.unpack("<HH", data[26:30])
        return width & 0x3FFF, height & 0x3FFF
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return int.from_bytes(data[24:27], "little") + 1, int.from_bytes(data[27:30], "little") + 1
    return None


def looks_like_svg(data: bytes) -> bool:
    head = data[:1024].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    return head.startswith(b"<") and b"<svg" in data[:4096].lower()


def check_image(data: bytes, allowed: dict[str, str], max_bytes: int, max_pixels: int) -> str:
    """The image's kind if acceptable; :class:`ImageError` (translated) otherwise."""
    from flask_babel import gettext as _

    if len(data) > max_bytes:
        raise ImageError(_("The file is too large (%(size)d KB); at most %(max)d KB.",
                           size=(len(data) + 1023) // 1024, max=max_bytes // 1024))
    if looks_like_svg(data):
        raise ImageError(_("SVG images are refused: they can carry scripts. Upload a PNG instead."))
    found = sniff_image(data)
    names = ", ".join(kind.upper() for kind in allowed)
    if found is None or found[0] not in allowed:
        raise ImageError(_("The file is not a %(types)s image (judged by its content, not its name).",
                           types=names))
    kind, width, height = found
    if width > max_pixels or height > max_pixels or not width or not height:
        raise ImageError(_("The image is %(width)d×%(height)d pixels; at most %(max)d×%(max)d.",
                           width=width, height=height, max=max_pixels))
    return kind


def upload_folder() -> Path:
    return Path(current_app.instance_path) / "uploads" / "branding"


def save_upload(data: bytes, kind: str, prefix: str) -> str:
    folder = upload_folder()
    folder.mkdir(parents=True, exist_ok=True)
    name = f"{prefix}-{secrets.token_hex(12)}.{EXTENSIONS[kind]}"
    (folder / name).write_bytes(data)
    return name


def delete_uploads(names: set[str | None]) -> None:
    for name in names:
        if name:
            (upload_folder() / Path(name).name).unlink(missing_ok=True)


# -- the current branding ------------------------------------------------------------

@dataclass(frozen=True)
class BrandingView:
    """What templates use: ``branding.logo_url``, ``branding.stylesheet_url`` …"""

    portal_name: str | None = None
    logo: str | None = None
    favicon: str | None = None
    primary_color: str | None = None
    accent_color: str | None = None

    @property
    def logo_url(self) -> str | None:
        return url_for("branding.file", name=self.logo) if self.logo else None

    @property
    def favicon_url(self) -> str | None:
        return url_for("branding.file", name=self.favicon) if self.favicon else None

    @property
    def stylesheet_url(self) -> str | None:
        if not (self.primary_color or self.accent_color):
            return None
        version = hashlib.sha256(stylesheet(self.primary_color, self.accent_color).encode()).hexdigest()[:12]
        return url_for("branding.stylesheet", v=version)


def load() -> Branding | None:
    return db.session.get(Branding, 1)


def current() -> BrandingView:
    """This request's branding (read once per request; nothing set: all None)."""
    state = context.app_globals()
    if state is None:
        return BrandingView()
    cached = state.get("_portal_branding")
    if cached is None:
        cached = settings_cache.cached("branding", None, _read_view)
        state._portal_branding = cached
    return cached


def _read_view() -> BrandingView:
    try:
        row = db.session.execute(_BRANDING_ROW).one_or_none()
    except sa.exc.SQLAlchemyError:
        # No table yet (before `portal db upgrade`) or a failed transaction
        # (error pages): the theme's look and the configured name.
        row = None
    return BrandingView(*row) if row else BrandingView()


_BRANDING_ROW = sa.select(Branding.portal_name, Branding.logo, Branding.favicon, Branding.primary_color,
                          Branding.accent_color).where(Branding.id == 1)


def forget() -> None:
    """Drop this request's cached branding (after saving a change)."""
    g.pop("_portal_branding", None)


def portal_name() -> str:
    """The branded portal name, else ``PORTAL_NAME``."""
    return current().portal_name or context.app().config["PORTAL_NAME"]


def stylesheet(primary: str | None, accent: str | None, scope: str = ":root") -> str:
    rules = []
    if valid_color(primary):
        rules += [f"--color-primary: {primary};", f"--color-header-bg: {primary};",
                  f"--color-primary-contrast: {TEXT_ON_COLOR};", f"--color-header-text: {TEXT_ON_COLOR};"]
    if valid_color(accent):
        rules.append(f"--color-accent: {accent};")
    if not rules:
        return "/* no branding colours */\n"
    return scope + " {\n  " + "\n  ".join(rules) + "\n}\n"


def _css(text: str, max_age: int) -> Response:
    response = Response(text, mimetype="text/css")
    response.headers["Cache-Control"] = f"public, max-age={max_age}"
    return response


# -- routes --------------------------------------------------------------------------

def stylesheet_view() -> Any:
    view = current()
    # The URL carries a hash of the content, so it can be cached for long.
    return _css(stylesheet(view.primary_color, view.accent_color), 86400)


bp.add_url_rule("/branding.css", "stylesheet", stylesheet_view)


@bp.get("/branding/preview.css")
@permission_required("branding.manage")
def preview_css() -> Any:
    """The live preview's colours, scoped to the preview box."""
    primary, accent = request.args.get("primary"), request.args.get("accent")
    return _css(stylesheet(primary, accent, scope=".branding-preview"), 0)


@bp.get("/branding/files/<name>")
def file(name: str) -> Any:
    view = current()
    if name not in (view.logo, view.favicon):
        abort(404)  # only the files in use, never others left in the folder
    return send_from_directory(upload_folder(), name, max_age=86400)
