"""The kit's commands for plugin authors: ``portal plugins new`` and ``portal plugins docs``.

``portal plugins new NAME`` writes a pip-installable package ``portal-NAME/``
from the templates in ``portal/scaffold/`` (``string.Template`` files, ``$name``
placeholders): a pyproject with the ``portal.plugins`` entry point, hook
implementations, a blueprint with one page, a model with its own Alembic branch,
a German catalog (extracted from the generated code, translated, compiled) and
tests on the portal's pytest fixtures. The generated tests pass as generated;
``tests/test_plugin_scaffold.py`` installs a generated package and runs them.

``portal plugins docs`` rewrites the hook reference of ``docs/plugins.md`` from
the hook specifications (:mod:`portal.plugin_docs`).
"""

from __future__ import annotations

import importlib.util
import io
import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from string import Template

import click
from babel.messages.catalog import Catalog
from babel.messages.extract import DEFAULT_KEYWORDS, extract
from babel.messages.mofile import write_mo
from babel.messages.pofile import write_po

TEMPLATES = Path(__file__).resolve().parent / "scaffold"

#: A plugin name: a lower-case identifier. It names the entry point, the package
#: (``portal_NAME``), blueprint, URL prefix, permissions, tables, Alembic branch
#: and translation domain.
NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{1,30}")
#: PostgreSQL truncates names beyond 63 characters; the longest the scaffold
#: writes is ``fk_NAME_item_organization_id_organization`` (37 + NAME).
NAME_MAX = 26

#: Names the core already uses for a blueprint, a URL, a permission prefix, a
#: table (or its prefix), a translation domain or a ``portal`` command.
#: ``tests/test_plugin_scaffold.py`` checks that the core's own names are all here.
RESERVED_NAMES = frozenset({
    # blueprints and URL parts
    "account", "admin", "auth", "dashboard", "health", "notifications", "onboarding",
    "organization", "static", "p", "login", "logout", "language", "branding", "theme",
    "resources", "search",
    # permission prefixes (portal.permissions.CORE_GRANTS)
    "applications", "audit", "organizations", "plugins", "programs", "staff", "team",
    "user", "users",
    # tables and their prefixes
    "audit_entry", "invitation", "manager", "manager_assignment", "membership",
    "notification", "partner", "partner_application", "plugin", "plugin_setting",
    "program", "program_plugin", "tier", "alembic", "alembic_version",
    "resource", "resource_page", "resource_page_audience", "resource_page_program",
    "resource_page_tag", "resource_page_tier", "search_queue", "settings", "settings_version",
    # `portal` commands (core and Flask)
    "check", "db", "demo", "mail", "limiter", "settings-cache", "run", "shell", "routes", "translations",
    # the core itself: its package, translation domain, test kit
    "portal", "core", "messages", "testing", "test", "tests",
})

#: The scaffold's files: (path in the new package, template in ``portal/scaffold``).
FILES: tuple[tuple[str, str], ...] = (
    ("pyproject.toml", "pyproject.toml.tmpl"),
    ("README.md", "README.md.tmpl"),
    ("babel.cfg", "babel.cfg.tmpl"),
    (".gitignore", "gitignore.tmpl"),
    ("$package/__init__.py", "package/__init__.py.tmpl"),
    ("$package/i18n.py", "package/i18n.py.tmpl"),
    ("$package/models.py", "package/models.py.tmpl"),
    ("$package/views.py", "package/views.py.tmpl"),
    ("$package/templates/$name/index.html", "package/templates/index.html.tmpl"),
    ("$package/migrations/${revision}_items.py", "package/migrations/first_revision.py.tmpl"),
    ("tests/conftest.py", "tests/conftest.py.tmpl"),
    ("tests/test_$name.py", "tests/test_plugin.py.tmpl"),
)

#: The catalog's language, and the translations of the page's messages.
CATALOG_LOCALE = "de"
GERMAN: dict[str | tuple[str, str], str | tuple[str, str]] = {
    "Items": "Einträge",
    ("%(num)d item", "%(num)d items"): ("%(num)d Eintrag", "%(num)d Einträge"),
    "Title": "Titel",
    "Organization": "Organisation",
    "Added": "Hinzugefügt",
    "Nothing here yet.": "Noch nichts hier.",
    "Pages of items": "Seiten der Einträge",
}
#: pybabel's keywords plus ``_l`` (lazy), as in the generated babel.cfg.
KEYWORDS = {**DEFAULT_KEYWORDS, "_l": None}
EXTRACTORS = {".py": "python", ".html": "jinja2.ext:babel_extract"}


class ScaffoldError(ValueError):
    """The plugin cannot be created as asked (bad name, occupied directory)."""


@dataclass(frozen=True)
class Plugin:
    """What the templates are filled with."""

    name: str
    description: str

    @property
    def package(self) -> str:
        return f"portal_{self.name}"

    @property
    def dist(self) -> str:
        return f"portal-{self.name}"

    @property
    def label(self) -> str:
        """``mdf_claims`` → "Mdf claims": the nav label and page title."""
        return self.name.replace("_", " ").strip().capitalize()

    @property
    def model(self) -> str:
        """``mdf_claims`` → ``MdfClaimsItem``."""
        return "".join(part.capitalize() for part in self.name.split("_") if part) + "Item"

    @property
    def revision(self) -> str:
        return f"{self.name}_0001"

    def mapping(self) -> dict[str, str]:
        return {
            "name": self.name,
            "package": self.package,
            "dist": self.dist,
            "label": self.label,
            "model": self.model,
            "revision": self.revision,
            "description": self.description,
            "description_py": repr(self.description),
            # A JSON string is a valid TOML basic string.
            "description_toml": json.dumps(self.description, ensure_ascii=False),
            "created": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
        }


# -- the name ------------------------------------------------------------------------

def name_problem(name: str) -> str | None:
    """Why ``name`` cannot name a new plugin, or None when it can."""
    if not NAME_PATTERN.fullmatch(name):
        return ("a plugin name is a lower-case identifier: a letter, then 1 to 30 letters, "
                "digits or underscores (like 'deals' or 'mdf_claims')")
    if len(name) > NAME_MAX:
        return (f"at most {NAME_MAX} characters, so that the names of its tables' constraints "
                "fit PostgreSQL's limit")
    if name.endswith("_") or "__" in name:
        return "no underscore at the end and no double underscore"
    if name in RESERVED_NAMES:
        return (f"{name!r} is taken by the portal's core (a page, permission, table or command); "
                "pick another name")
    from portal.plugins import discover

    installed = discover().get(name)
    if installed is not None:
        where = (f"{installed.distribution} {installed.version}" if installed.distribution
                 else installed.target)
        return f"a plugin named {name!r} is already installed ({where}); pick another name"
    if importlib.util.find_spec(f"portal_{name}") is not None:
        return f"a package named portal_{name} is already importable here; pick another name"
    return None


def normalized_description(text: str | None, plugin_name: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        label = plugin_name.replace("_", " ").capitalize()
        return f"{label}: a plugin for the partner portal."
    if len(text) > 200:
        raise ScaffoldError("the description is one sentence of at most 200 characters")
    return text


# -- rendering -------------------------------------------------------------------------

def _render(template: str, mapping: dict[str, str]) -> str:
    return Template((TEMPLATES / template).read_text(encoding="utf-8")).substitute(mapping)


def _catalogs(plugin: Plugin, files: dict[str, bytes]) -> dict[str, bytes]:
    """The translation template, the German catalog and its compiled form,
    extracted from the generated files as ``pybabel extract -F babel.cfg`` would."""
    template = Catalog(project=plugin.dist, version="0.1.0", domain=plugin.name, fuzzy=False)
    for path in sorted(files):
        method = EXTRACTORS.get(Path(path).suffix)
        if method is None or not path.startswith(plugin.package + "/"):
            continue
        for lineno, message, comments, context in extract(
            method, io.BytesIO(files[path]), keywords=KEYWORDS, comment_tags=(), options={}
        ):
            template.add(message, locations=[(path, lineno)], auto_comments=comments,
                         context=context)
    german = Catalog(locale=CATALOG_LOCALE, project=plugin.dist, version="0.1.0",
                     domain=plugin.name, fuzzy=False)
    translations: dict[str | tuple[str, str], str | tuple[str, str]] = {
        **GERMAN, plugin.label: plugin.label}  # a plugin's name usually stays as it is
    for message in template:
        if not message.id:
            continue
        string = translations.get(message.id, ("", "") if isinstance(message.id, tuple) else "")
        german.add(message.id, string, locations=message.locations, context=message.context)
    out: dict[str, bytes] = {}
    base = f"{plugin.package}/translations"
    for path, catalog, writer in (
        (f"{base}/{plugin.name}.pot", template, write_po),
        (f"{base}/{CATALOG_LOCALE}/LC_MESSAGES/{plugin.name}.po", german, write_po),
        (f"{base}/{CATALOG_LOCALE}/LC_MESSAGES/{plugin.name}.mo", german, write_mo),
    ):
        buffer = io.BytesIO()
        writer(buffer, catalog)
        out[path] = buffer.getvalue()
    return out


def render(name: str, description: str | None = None) -> dict[str, bytes]:
    """The new package's files: relative path → content. Raises :class:`ScaffoldError`."""
    problem = name_problem(name)
    if problem:
        raise ScaffoldError(problem)
    plugin = Plugin(name, normalized_description(description, name))
    mapping = plugin.mapping()
    files = {
        Template(target).substitute(mapping): _render(template, mapping).encode("utf-8")
        for target, template in FILES
    }
    files.update(_catalogs(plugin, files))
    return files


def target_problem(target: Path) -> str | None:
    if target.exists() and not target.is_dir():
        return f"{target} exists and is not a directory"
    if target.is_dir() and any(target.iterdir()):
        return f"{target} is not empty; choose a new directory (--directory)"
    return None


def create(name: str, target: Path, description: str | None = None) -> list[Path]:
    """Write the package for plugin ``name`` into ``target`` (missing or empty)."""
    problem = target_problem(target)
    if problem:
        raise ScaffoldError(problem)
    files = render(name, description)
    written = []
    for relative, content in sorted(files.items()):
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
        written.append(path)
    return written


# -- the commands -----------------------------------------------------------------------

@click.command("new")
@click.argument("name")
@click.option("--directory", "-d", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Where to create the package (default: ./portal-NAME). Must be new or empty.")
@click.option("--description", default=None, metavar="TEXT",
              help="One sentence saying what the plugin does.")
def new_command(name: str, directory: Path | None, description: str | None) -> None:
    """Create a new plugin NAME as a pip-installable package portal-NAME.

    The package has a page, a model with its migration, a navigation item, a
    German translation and tests that pass as generated. See docs/plugins.md.
    """
    problem = name_problem(name)
    if problem:
        raise click.BadParameter(f"{name!r}: {problem}", param_hint="NAME")
    target = directory if directory is not None else Path.cwd() / f"portal-{name}"
    try:
        written = create(name, target, description)
    except ScaffoldError as error:
        raise click.UsageError(str(error)) from None
    shown = target.resolve()
    click.echo(f"Created the plugin {name!r} in {shown}:")
    for path in written:
        click.echo(f"  {path.relative_to(target)}")
    click.echo()
    click.echo("Next steps:")
    for line in (
        f"cd {shown}",
        "pip install -e '.[test]'                # into the portal's virtualenv",
        "pytest                                  # the generated tests pass as they are",
        f"PORTAL_PLUGINS={name} portal db upgrade  # creates {name}_item",
        f"PORTAL_PLUGINS={name} portal demo        # then switch it on at /admin/plugins",
    ):
        click.echo(f"  {line}")


@click.command("docs")
@click.option("--check", is_flag=True,
              help="Change nothing; exit with status 1 if it is out of date.")
@click.option("--file", "path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="The guide to update (default: docs/plugins.md of this checkout).")
def docs_command(check: bool, path: Path | None) -> None:
    """Rewrite the hook reference in docs/plugins.md from portal/hookspecs.py."""
    from portal import plugin_docs

    target = path or plugin_docs.DOCS_PATH
    if not target.is_file():
        raise click.ClickException(
            f"{target} does not exist: the guide is part of the portal's source checkout "
            "(install it with `pip install -e .`), or name it with --file.")
    count = len(plugin_docs.hook_names())
    if check:
        if plugin_docs.is_current(target):
            click.echo(f"{target}: the hook reference is up to date ({count} hooks).")
            return
        click.echo(f"{target}: the hook reference is out of date; run `portal plugins docs`.",
                   err=True)
        click.get_current_context().exit(1)
    try:
        changed = plugin_docs.update(target)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    if changed:
        click.echo(f"{target}: updated the hook reference ({count} hooks).")
    else:
        click.echo(f"{target}: the hook reference was already up to date ({count} hooks).")
