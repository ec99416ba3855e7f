"""Branding by a vendor admin: name, logo, favicon, colours, live preview.

Bad uploads and colours are refused with a reason and nothing is saved; a saved
change shows on the next page load, in emails and on error pages.
"""

from __future__ import annotations

import io
import struct
import zlib
from pathlib import Path

import pytest
import sqlalchemy as sa

from portal import branding
from portal.extensions import db
from portal.models import AuditEntry, Branding


def png(width: int = 2, height: int = 2) -> bytes:
    """A valid PNG of ``width``×``height`` (one grey row repeated)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\x80" * width for _ in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg_header(width: int, height: int) -> bytes:
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof + b"\xff\xd9"


def webp_vp8x(width: int, height: int) -> bytes:
    payload = b"\x00\x00\x00\x00" + (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", 4 + 8 + len(payload)) + b"WEBP" + b"VP8X" + struct.pack("<I", len(payload)) + payload


def ico(size: int = 16) -> bytes:
    entry = bytes([size % 256, size % 256, 0, 0]) + struct.pack("<HHII", 1, 32, len(png(size, size)), 22)
    return b"\x00\x00\x01\x00\x01\x00" + entry + png(size, size)


SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


def uploads(app) -> list[Path]:  # type: ignore[no-untyped-def]
    folder = Path(app.instance_path) / "uploads" / "branding"
    return sorted(folder.iterdir()) if folder.is_dir() else []


def save(client, **fields):  # type: ignore[no-untyped-def]
    data = {"portal_name": "", "primary_color": "", "accent_color": ""}
    for name, value in fields.items():
        data[name] = (io.BytesIO(value[1]), value[0]) if isinstance(value, tuple) else value
    return client.post("/admin/branding", data=data, content_type="multipart/form-data")


# -- pure functions ---------------------------------------------------------------

def test_contrast_ratio_follows_wcag() -> None:
    assert branding.contrast_ratio("#000000", "#ffffff") == pytest.approx(21.0)
    assert branding.contrast_ratio("#ffffff", "#ffffff") == pytest.approx(1.0)
    assert branding.contrast_ratio("#777777", "#ffffff") == pytest.approx(4.48, abs=0.01)
    assert branding.contrast_ratio("#767676", "#ffffff") >= 4.5


def test_image_type_and_size_come_from_the_bytes() -> None:
    assert branding.sniff_image(png(3, 5)) == ("png", 3, 5)
    assert branding.sniff_image(jpeg_header(640, 480)) == ("jpeg", 640, 480)
    assert branding.sniff_image(webp_vp8x(300, 200)) == ("webp", 300, 200)
    assert branding.sniff_image(ico(32)) == ("ico", 32, 32)
    assert branding.sniff_image(b"GIF89a....") is None
    assert branding.looks_like_svg(SVG)


def test_a_logo_over_512_kb_is_refused() -> None:
    with pytest.raises(branding.ImageError, match="at most 512 KB"):
        branding.check_image(png() + b"\x00" * (512 * 1024), branding.LOGO_TYPES,
                             branding.LOGO_MAX_BYTES, branding.LOGO_MAX_PIXELS)


# -- the page ---------------------------------------------------------------------

def test_vendor_admin_sees_the_branding_page_in_the_navigation(client, world) -> None:
    client.login(world.vendor_admin)
    page = client.get("/admin/branding").get_data(as_text=True)
    assert 'href="/admin/branding"' in page and 'aria-current="page"' in page
    assert 'enctype="multipart/form-data"' in page


def test_partner_admin_and_channel_manager_cannot_brand(client, world) -> None:
    for user in (world.admin_a, world.manager):
        client.login(user)
        assert client.get("/admin/branding").status_code == 403
        assert save(client, portal_name="Hacked").status_code == 403
    assert db.session.get(Branding, 1) is None


def test_branding_changes_show_on_the_next_page_load(client, world) -> None:
    client.login(world.vendor_admin)
    before = client.get("/").get_data(as_text=True)
    assert "Acme Partners" not in before and "/branding.css" not in before
    response = save(client, portal_name="Acme Partners", primary_color="#1D4ED8",
                    accent_color="#0f766e", logo=("logo.png", png(64, 32)), favicon=("icon.ico", ico()))
    assert response.status_code == 302
    row = db.session.get(Branding, 1)
    assert (row.portal_name, row.primary_color, row.accent_color) == ("Acme Partners", "#1d4ed8", "#0f766e")
    page = client.get("/").get_data(as_text=True)
    assert "Acme Partners" in page and "<title>" in page
    assert f'src="/branding/files/{row.logo}"' in page
    assert f'rel="icon" href="/branding/files/{row.favicon}"' in page
    stylesheet = page.split('href="/branding.css?v=')[1].split('"')[0]
    css = client.get(f"/branding.css?v={stylesheet}").get_data(as_text=True)
    assert "--color-primary: #1d4ed8;" in css and "--color-accent: #0f766e;" in css
    assert [p.name for p in uploads(client.application)] == sorted([row.logo, row.favicon])
    with client.get(f"/branding/files/{row.logo}") as logo:
        assert logo.status_code == 200 and logo.data == png(64, 32)
    entry = db.session.scalars(sa.select(AuditEntry).where(AuditEntry.event == "branding.updated")).one()
    assert entry.after["portal_name"] == "Acme Partners"


def test_only_the_logo_in_use_is_served(client, world, app) -> None:
    client.login(world.vendor_admin)
    save(client, logo=("a.png", png()))
    first = db.session.get(Branding, 1).logo
    save(client, logo=("b.png", png()))
    assert client.get(f"/branding/files/{first}").status_code == 404
    assert [p.name for p in uploads(app)] == [db.session.get(Branding, 1).logo]  # the old one is gone
    assert client.get("/branding/files/..%2Fsecret_key").status_code == 404


def test_the_branded_name_reaches_emails_and_error_pages(client, world, outbox) -> None:
    client.login(world.vendor_admin)
    save(client, portal_name="Acme Partners")
    client.post("/logout")
    client.post("/password/forgot", data={"email": world.user_a.email})
    messages = outbox()
    assert messages and "Acme Partners" in str(messages[-1])
    missing = client.get("/no-such-page")
    assert missing.status_code == 404 and "Acme Partners" in missing.get_data(as_text=True)


@pytest.mark.parametrize(
    "field, upload, message",
    [
        ("logo", ("logo.png", b"GIF89a" + b"\x00" * 100), "not a PNG, JPEG, WEBP image"),
        ("logo", ("logo.png", b"\x89PNX\r\n\x1a\n" + png()[8:]), "judged by its content"),
        ("logo", ("logo.svg", SVG), "SVG images are refused"),
        # (The favicon's limit: a request over 500 KB leaks the test client's temp file.)
        ("favicon", ("icon.png", png() + b"\x00" * (64 * 1024)), "too large"),
        ("logo", ("logo.png", png(2000, 10)), "2000×10 pixels"),
        ("logo", ("logo.jpg", jpeg_header(1025, 1025)), "at most 1024×1024"),
        ("favicon", ("icon.png", jpeg_header(16, 16)), "not a PNG, ICO image"),
        ("favicon", ("icon.png", png(512, 512)), "at most 256×256"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_saved(client, world, app, field, upload, message) -> None:
    client.login(world.vendor_admin)
    with save(client, portal_name="Should not stick", **{field: upload}) as response:
        assert response.status_code == 400
        assert message in response.get_data(as_text=True)
    assert db.session.get(Branding, 1) is None
    assert uploads(app) == []


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"primary_color": "blue"}, "Use the form #rrggbb"),
        ({"accent_color": "#12345"}, "Use the form #rrggbb"),
        ({"primary_color": "#ffcc00"}, "contrast ratio of 1.51:1"),
        ({"accent_color": "#777777"}, "contrast ratio of 4.48:1"),
    ],
)
def test_bad_colours_are_refused_with_the_reason(client, world, app, fields, message) -> None:
    client.login(world.vendor_admin)
    response = save(client, portal_name="Should not stick", logo=("logo.png", png()), **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.get(Branding, 1) is None
    assert uploads(app) == []


def test_removing_the_logo_keeps_the_rest(client, world) -> None:
    client.login(world.vendor_admin)
    save(client, portal_name="Acme", logo=("logo.png", png()))
    save(client, portal_name="Acme", remove_logo="y")
    row = db.session.get(Branding, 1)
    assert row.logo is None and row.portal_name == "Acme"
    assert "brand__logo" not in client.get("/").get_data(as_text=True)


def test_live_preview_renders_the_submitted_colours_without_saving(client, world) -> None:
    client.login(world.vendor_admin)
    response = client.post("/admin/branding/preview", htmx=True,
                           data={"portal_name": "Preview Co", "primary_color": "#1d4ed8",
                                 "accent_color": "#ffff00"})
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "<html" not in html
    assert "Preview Co" in html and "Sample button" in html
    css_url = html.split('<link rel="stylesheet" href="')[1].split('"')[0].replace("&amp;", "&")
    assert "primary=%231d4ed8" in css_url and "accent=&" in css_url or css_url.endswith("accent=")
    css = client.get(css_url).get_data(as_text=True)
    assert css.startswith(".branding-preview {") and "#1d4ed8" in css and "#ffff00" not in css
    assert db.session.get(Branding, 1) is None
    # Without htmx the Preview button shows the whole page.
    page = client.post("/admin/branding/preview", data={"primary_color": "#1d4ed8"})
    assert "<html" in page.get_data(as_text=True)


def test_no_inline_styles_on_the_branding_pages(client, world) -> None:
    client.login(world.vendor_admin)
    save(client, primary_color="#1d4ed8")
    for url in ("/admin/branding", "/"):
        page = client.get(url).get_data(as_text=True)
        assert "style=" not in page and "<style" not in page
