"""Attachments: checked by content (not by name), stored under
``<UPLOADS_PATH>/deals/`` with random names, served only as downloads.

Accepted: PDF, PNG, JPEG, GIF, WebP, Office documents (DOCX, XLSX, PPTX), OpenDocument
text and spreadsheets, plain text and CSV. Refused: anything else, in particular
HTML, SVG and executables, whatever their name says.
"""

from __future__ import annotations

import io
import re
import secrets
import unicodedata
import zipfile
from dataclasses import dataclass
from pathlib import Path

from flask import current_app

from portal_deals.i18n import _

#: The largest attachment, in bytes (the portal's MAX_CONTENT_LENGTH still applies).
MAX_BYTES = 10 * 1024 * 1024
FILENAME_MAX = 200


class AttachmentRefused(ValueError):
    """The file cannot be accepted; the message says why (translated)."""


@dataclass(frozen=True)
class Kind:
    content_type: str
    extension: str


KINDS = {
    "pdf": Kind("application/pdf", "pdf"),
    "png": Kind("image/png", "png"),
    "jpeg": Kind("image/jpeg", "jpg"),
    "gif": Kind("image/gif", "gif"),
    "webp": Kind("image/webp", "webp"),
    "docx": Kind("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "docx"),
    "xlsx": Kind("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
    "pptx": Kind("application/vnd.openxmlformats-officedocument.presentationml.presentation", "pptx"),
    "odt": Kind("application/vnd.oasis.opendocument.text", "odt"),
    "ods": Kind("application/vnd.oasis.opendocument.spreadsheet", "ods"),
    "txt": Kind("text/plain; charset=utf-8", "txt"),
    "csv": Kind("text/csv; charset=utf-8", "csv"),
}

_OFFICE = {"word/": "docx", "xl/": "xlsx", "ppt/": "pptx"}
_OPENDOCUMENT = {b"application/vnd.oasis.opendocument.text": "odt",
                 b"application/vnd.oasis.opendocument.spreadsheet": "ods"}


def sniff(data: bytes, filename: str) -> str | None:
    """The kind of file ``data`` is, judged by its bytes (``filename`` only tells
    plain text from CSV)."""
    if data.startswith(b"%PDF-"):
        return "pdf"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    if data.startswith(b"PK\x03\x04"):
        return _zip_kind(data)
    return _text_kind(data, filename)


def _zip_kind(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = archive.namelist()
            if "mimetype" in names:
                return _OPENDOCUMENT.get(archive.read("mimetype").strip())
            if "[Content_Types].xml" not in names:
                return None
            for prefix, kind in _OFFICE.items():
                if any(name.startswith(prefix) for name in names):
                    return kind
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, NotImplementedError):
        return None
    return None


def _text_kind(data: bytes, filename: str) -> str | None:
    if b"\x00" in data:
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return None
    head = text[:2048].lstrip().lower()
    # Markup a browser would render (and run) is refused, whatever the name says.
    if head.startswith(("<!doctype", "<html", "<svg", "<?xml", "<script")) or "<script" in head:
        return None
    return "csv" if filename.lower().endswith(".csv") else "txt"


def clean_filename(filename: str | None) -> str:
    """A name to show and to offer as the download's name: no folders, no control
    characters, at most :data:`FILENAME_MAX` characters."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in unicodedata.normalize("NFC", name)
                   if unicodedata.category(ch)[0] != "C").strip().strip(".")
    if len(name) > FILENAME_MAX:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: FILENAME_MAX - len(ext) - 1] + "." + ext) if dot and len(ext) <= 10 else name[:FILENAME_MAX]
    return name or "attachment"


def check(data: bytes, filename: str) -> Kind:
    """The file's :class:`Kind`, or :class:`AttachmentRefused`."""
    if not data:
        raise AttachmentRefused(_("The file is empty."))
    if len(data) > MAX_BYTES:
        raise AttachmentRefused(_("The file is too large: at most %(size)d MB.",
                                  size=MAX_BYTES // (1024 * 1024)))
    kind = sniff(data, filename)
    if kind is None:
        raise AttachmentRefused(_("This kind of file is not accepted (judged by its content, not "
                                  "its name). Attach a PDF, an image, an office document or a text file."))
    return KINDS[kind]


#: The names :func:`save` gives: 32 hex digits and a kind's extension, with ``.tmp``
#: while the file is being written. Nothing else in the folder is the plugin's.
STORED_NAME = re.compile(r"[0-9a-f]{32}\.(?:%s)(?:\.tmp)?" % "|".join(
    sorted({re.escape(kind.extension) for kind in KINDS.values()})))


def is_stored_name(name: str) -> bool:
    """Whether ``name`` is one :func:`save` gives (or its temporary file)."""
    return STORED_NAME.fullmatch(name) is not None


def folder() -> Path:
    base = current_app.config.get("UPLOADS_PATH") or str(Path(current_app.instance_path) / "uploads")
    return Path(base) / "deals"


def save(data: bytes, kind: Kind) -> str:
    """Write the file under a random name; returns that name."""
    target = folder()
    target.mkdir(parents=True, exist_ok=True)
    name = f"{secrets.token_hex(16)}.{kind.extension}"
    tmp = target / (name + ".tmp")
    tmp.write_bytes(data)
    tmp.rename(target / name)
    return name


def path_of(stored_name: str) -> Path:
    return folder() / Path(stored_name).name


def delete(stored_name: str) -> None:
    path_of(stored_name).unlink(missing_ok=True)


def remove(stored_name: str) -> bool:
    """Remove a stored file: True if this call removed it, False if it was gone
    already (another host's sweep, a deletion). Other errors are raised."""
    try:
        path_of(stored_name).unlink()
    except FileNotFoundError:
        return False
    return True
