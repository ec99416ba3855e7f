"""The branding page: portal name, logo, favicon and colours, with a live preview.

Vendor admins only. Everything is validated before anything is written: an
unacceptable upload or a colour failing WCAG AA contrast re-renders the form
(400) with the reason beside the field, and neither the row nor a file changes.
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.file import FileField
from wtforms import BooleanField, StringField
from wtforms.validators import Length, Optional, Regexp

from portal import branding
from portal.admin import bp
from portal.events import emit
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import Branding
from portal.permissions import permission_required

COLOR_MESSAGE = _l("Use the form #rrggbb, for example #1f4fd1.")


class BrandingForm(PortalForm):
    portal_name = StringField(_l("Portal name"), validators=[Optional(), Length(max=80)],
                              description=_l("Shown in the header, page titles and emails. Empty: the configured name."))
    logo = FileField(_l("Logo"), description=_l("PNG, JPEG or WebP, at most 512 KB and 1024×1024 pixels. SVG is refused."))
    remove_logo = BooleanField(_l("Remove the logo"))
    favicon = FileField(_l("Favicon"), description=_l("PNG or ICO, at most 64 KB and 256×256 pixels."))
    remove_favicon = BooleanField(_l("Remove the favicon"))
    primary_color = StringField(_l("Primary colour"), validators=[Optional(), Regexp(branding.COLOR_RE, message=COLOR_MESSAGE)],
                                description=_l("Header and buttons, behind white text. Empty: the theme's."))
    accent_color = StringField(_l("Accent colour"), validators=[Optional(), Regexp(branding.COLOR_RE, message=COLOR_MESSAGE)],
                               description=_l("Focus outlines and highlights, behind white text. Empty: the theme's."))

    def check_contrast(self) -> bool:
        """WCAG AA (4.5:1) of each colour against the white text drawn on it."""
        ok = True
        for field in (self.primary_color, self.accent_color):
            if field.data and not field.errors:
                ratio = branding.contrast_ratio(field.data, branding.TEXT_ON_COLOR)
                if ratio < branding.MIN_CONTRAST:
                    field.errors = [*field.errors, _(
                        "White text on %(color)s has a contrast ratio of %(ratio)s:1; "
                        "WCAG AA needs at least 4.5:1. Choose a darker colour.",
                        color=field.data, ratio=f"{ratio:.2f}")]
                    ok = False
        return ok


def _read_upload(field: FileField, allowed: dict[str, str], max_bytes: int,
                 max_pixels: int) -> tuple[bytes, str] | None:
    """The uploaded bytes and kind, None without upload; errors go on the field."""
    storage = field.data
    if not storage or not getattr(storage, "filename", None):
        return None
    data = storage.read(max_bytes + 1)
    try:
        return data, branding.check_image(data, allowed, max_bytes, max_pixels)
    except branding.ImageError as error:
        field.errors = [*field.errors, str(error)]
        return None


@bp.route("/branding", methods=["GET", "POST"], endpoint="branding")
@permission_required("branding.manage")
def branding_settings() -> Any:
    row = branding.load()
    form = BrandingForm(obj=row)
    if request.method == "POST":
        valid = form.validate()
        contrast = form.check_contrast()
        logo = _read_upload(form.logo, branding.LOGO_TYPES, branding.LOGO_MAX_BYTES,
                            branding.LOGO_MAX_PIXELS)
        favicon = _read_upload(form.favicon, branding.FAVICON_TYPES, branding.FAVICON_MAX_BYTES,
                               branding.FAVICON_MAX_PIXELS)
        if valid and contrast and not form.logo.errors and not form.favicon.errors:
            if row is None:
                row = Branding(id=1)
                db.session.add(row)
                before = None
            else:
                before = row.audit_state()
            row.portal_name = form.portal_name.data or None
            row.primary_color = (form.primary_color.data or "").lower() or None
            row.accent_color = (form.accent_color.data or "").lower() or None
            if logo:
                row.logo = branding.save_upload(logo[0], logo[1], "logo")
            elif form.remove_logo.data:
                row.logo = None
            if favicon:
                row.favicon = branding.save_upload(favicon[0], favicon[1], "favicon")
            elif form.remove_favicon.data:
                row.favicon = None
            row.updated_by_id = current_user.id
            emit("branding.updated", row, before=before)
            db.session.commit()
            branding.forget()
            # Files no longer in use go only once the row no longer names them.
            branding.delete_uploads({(before or {}).get("logo"), (before or {}).get("favicon")}
                                    - {row.logo, row.favicon})
            flash(_("Branding saved."), "success")
            return redirect(url_for("admin.branding"))
        return render_template("admin/branding/index.html", form=form, current=branding.current()), 400
    return render_template("admin/branding/index.html", form=form, current=branding.current())


@bp.post("/branding/preview", endpoint="branding_preview")
@permission_required("branding.manage")
def branding_preview() -> Any:
    """The htmx live preview: a sample header and button in the submitted colours."""
    form = BrandingForm()
    form.validate()  # errors only shown; nothing is saved here
    form.check_contrast()
    primary = form.primary_color.data if not form.primary_color.errors else None
    accent = form.accent_color.data if not form.accent_color.errors else None
    # Without htmx (the Preview button's formaction): the whole page, preview filled in.
    template = "admin/branding/_preview.html" if request.htmx else "admin/branding/index.html"
    return render_template(
        template,
        form=form,
        current=branding.current(),
        preview_name=form.portal_name.data or branding.portal_name(),
        preview_css=url_for("branding.preview_css", primary=primary or "", accent=accent or ""),
    )
