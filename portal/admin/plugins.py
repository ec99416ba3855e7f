"""The plugins page: what is installed and loaded, where it is on, what failed,
per-program switches and each plugin's settings.

Staff (channel managers too) see the page read-only; vendor admins switch a
loaded plugin on or off per program and edit its deployment settings. A switch
takes effect on the next request (enablement is read per request, see
:func:`portal.plugins.active_plugins`), and switching off only deletes the
``program_plugin`` row, never the plugin's own data.
"""

from __future__ import annotations

import re
from typing import Any

import sqlalchemy as sa
from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy.exc import IntegrityError
from wtforms import BooleanField, SelectField, StringField
from wtforms.validators import Length, ValidationError

from portal.admin import bp
from portal.errors import bad_request, conflict
from portal.events import emit
from portal.extensions import db
from portal.forms import PortalForm
from portal.models import PluginSetting, Program, ProgramPlugin, utcnow
from portal.permissions import can, permission_required
from portal.plugins import (
    SETTING_INT_LIMIT,
    SETTING_STR_MAX,
    Setting,
    host,
    overview,
    settings_schema,
    stored_settings,
)

STATUS_ID = "plugins-status"


# -- the page ----------------------------------------------------------------------

@bp.get("/plugins")
@permission_required("plugins.view")
def plugins() -> Any:
    items = overview()
    # Programs are few (a vendor runs several), so every switch fits on one page.
    programs = (
        list(db.session.scalars(sa.select(Program).order_by(Program.name)))
        if any(item.loaded for item in items) else []
    )
    return render_template(
        "admin/plugins/index.html",
        plugins=items,
        programs=programs,
        manage=can(current_user, "plugins.manage"),
        status_id=STATUS_ID,
    )


def _loaded_or_404(plugin: str) -> None:
    """Only loaded plugins can be switched or configured (others were never imported)."""
    if plugin not in host().loaded:
        abort(404)


def _plugins_on(program_id: int) -> list[str]:
    return sorted(db.session.scalars(
        sa.select(ProgramPlugin.plugin).where(ProgramPlugin.program_id == program_id)
    ))


# -- per-program switches ------------------------------------------------------------

@bp.post("/plugins/<plugin>/programs/<int:program_id>")
@permission_required("plugins.manage")
def plugin_switch(plugin: str, program_id: int) -> Any:
    """Switch ``plugin`` on (``state=on``) or off (``state=off``) for a program."""
    _loaded_or_404(plugin)
    program = db.get_or_404(Program, program_id)
    state = request.form.get("state")
    if state not in ("on", "off"):
        bad_request(_("Choose whether to switch the plugin on or off."))
    label = host().info.get(plugin, {}).get("label", plugin)
    before = _plugins_on(program.id)
    try:
        if state == "on" and plugin not in before:
            db.session.add(ProgramPlugin(program_id=program.id, plugin=plugin,
                                         enabled_by_id=current_user.id))
            emit("plugin.enabled", program, before={"plugins": before},
                 after={"plugins": sorted([*before, plugin])}, plugin=plugin,
                 summary=f"Plugin {plugin} switched on for {program.name}")
        elif state == "off" and plugin in before:
            # Only the switch goes: the plugin's own tables and settings stay.
            db.session.execute(sa.delete(ProgramPlugin).where(
                ProgramPlugin.program_id == program.id, ProgramPlugin.plugin == plugin))
            emit("plugin.disabled", program, before={"plugins": before},
                 after={"plugins": [p for p in before if p != plugin]}, plugin=plugin,
                 summary=f"Plugin {plugin} switched off for {program.name}")
        db.session.commit()
    except IntegrityError:
        # Someone switched it on at the same moment: the state asked for holds.
        db.session.rollback()
    on = state == "on"
    message = (_("%(plugin)s is on for %(program)s.", plugin=label, program=program.name) if on
               else _("%(plugin)s is off for %(program)s.", plugin=label, program=program.name))
    if request.htmx:
        return render_template(
            "admin/plugins/_switch_action.html",
            item=_overview_of(plugin), program=program, on=on, manage=True,
            message=message, status_id=STATUS_ID,
        )
    flash(message, "success")
    return redirect(url_for("admin.plugins", _anchor=f"plugin-{plugin}"))


def _overview_of(plugin: str) -> Any:
    return next(item for item in overview() if item.name == plugin)


# -- settings -----------------------------------------------------------------------

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]+")


class WholeNumberField(StringField):
    """A whole number typed as text: our own message beside the field when it is
    not one (``IntegerField`` would accept "١٢" or "1_000")."""

    def __init__(self, *args: Any, blank: bool = False, **kwargs: Any) -> None:
        kwargs.setdefault("render_kw", {"inputmode": "numeric"})
        super().__init__(*args, **kwargs)
        self.blank = blank

    def process_formdata(self, valuelist: list[Any]) -> None:
        if not valuelist:
            return
        text = str(valuelist[0]).strip()
        if not text:
            self.data = None
            return
        if not _WHOLE_NUMBER.fullmatch(text) or abs(int(text)) >= SETTING_INT_LIMIT:
            self.data = None
            raise ValueError(_l("Enter a whole number, like 42."))
        self.data = int(text)

    def pre_validate(self, form: Any) -> None:
        if self.data is None and not self.blank and not self.process_errors:
            raise ValidationError(_l("Enter a whole number, like 42."))

    def _value(self) -> str:
        if self.raw_data:
            return str(self.raw_data[0])
        return "" if self.data is None else str(self.data)


class ChoiceSettingField(SelectField):
    """One of the declared choices; our own message when the value is another."""

    def __init__(self, *args: Any, options: list[tuple[str, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.choices = options  # set after init: works with every WTForms 3.x

    def pre_validate(self, form: Any) -> None:
        if self.data not in {value for value, _ in self.choices}:  # type: ignore[union-attr]
            raise ValidationError(_l("Choose one of the options."))


def _field_name(item: Setting) -> str:
    return f"s_{item.name}"


def _choice_key(value: Any) -> str:
    return "" if value is None else str(value)


def _unbound_field(item: Setting) -> Any:
    options: dict[str, Any] = {"description": item.help or ""}
    if item.type == "int":
        return WholeNumberField(item.label, blank=item.default is None, **options)
    if item.type == "bool":
        return BooleanField(item.label, **options)
    if item.type == "choice":
        choices = [("", _l("Not set"))] if item.default is None else []
        choices += [(_choice_key(value), label) for value, label in item.choices]
        return ChoiceSettingField(item.label, options=choices, **options)
    return StringField(item.label, validators=[
        Length(max=SETTING_STR_MAX, message=_l("Use at most %(max)d characters."))], **options)


class PluginSettingsForm(PortalForm):
    """Built per plugin from its declared settings (see :func:`settings_form`)."""

    schema: list[Setting]

    def values(self) -> dict[str, Any]:
        """The submitted values in their stored types."""
        result: dict[str, Any] = {}
        for item in self.schema:
            data = self[_field_name(item)].data
            if item.type == "str":
                data = data or ("" if item.default is not None else None)
            elif item.type == "bool":
                data = bool(data)
            elif item.type == "choice":
                data = {_choice_key(v): v for v, _ in item.choices}.get(data)
            result[item.name] = data
        return result


def settings_form(schema: list[Setting], current: dict[str, Any]) -> PluginSettingsForm:
    """A form with one field per declared setting, filled with the current values."""
    attributes = {_field_name(item): _unbound_field(item) for item in schema}
    form_class = type("PluginSettingsForm", (PluginSettingsForm,), attributes)
    data = {
        _field_name(item): _choice_key(current[item.name]) if item.type == "choice" else current[item.name]
        for item in schema
    }
    form = form_class(data=data)
    form.schema = schema
    return form


@bp.route("/plugins/<plugin>/settings", methods=["GET", "POST"])
@permission_required("plugins.manage")
def plugin_settings(plugin: str) -> Any:
    _loaded_or_404(plugin)
    schema = settings_schema(plugin)
    current = stored_settings(plugin)
    form = settings_form(schema, current)
    if form.validate_on_submit():
        values = form.values()
        changed = [item.name for item in schema if values[item.name] != current[item.name]]
        if changed:
            _store(plugin, {name: values[name] for name in changed},
                   before={name: current[name] for name in changed})
            flash(_("Settings saved."), "success")
        else:
            flash(_("Nothing changed."), "info")
        return redirect(url_for("admin.plugin_settings", plugin=plugin))
    status = 400 if form.is_submitted() else 200
    return render_template(
        "admin/plugins/settings.html",
        item=_overview_of(plugin), form=form, field_names=[_field_name(i) for i in schema],
    ), status


def _store(plugin: str, values: dict[str, Any], before: dict[str, Any]) -> None:
    """Write the changed values and one audit event, in one transaction."""
    rows = {row.key: row for row in db.session.scalars(
        sa.select(PluginSetting).where(PluginSetting.plugin == plugin,
                                       PluginSetting.key.in_(list(values))))}
    for key, value in values.items():
        row = rows.get(key)
        if row is None:
            row = PluginSetting(plugin=plugin, key=key)
            db.session.add(row)
        row.value = value
        row.updated_at = utcnow()
        row.updated_by_id = current_user.id
    emit("plugin.settings_changed", None, before=before, after=values, plugin=plugin,
         summary=f"Settings of plugin {plugin} changed")
    try:
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        conflict(_("These settings were saved by someone else meanwhile. Reload and try again."))
