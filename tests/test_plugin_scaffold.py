"""``portal plugins new`` and ``portal plugins docs``: the plugin author's kit.

The main promise: a generated plugin is a pip-installable package whose tests pass
as generated. ``test_a_new_plugin_installs_and_passes_its_own_tests`` proves it
the way an author would meet it: pip builds and installs the package (into a
folder of its own, not this virtualenv), and its tests run in a fresh pytest that
finds the plugin only through its entry point.
"""

from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
from babel.messages.frontend import CommandLineInterface
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

from portal import plugin_docs
from portal import plugins as plugin_module
from portal.extensions import db
from portal.permissions import CORE_GRANTS
from portal.plugin_scaffold import (
    FILES,
    RESERVED_NAMES,
    TEMPLATES,
    Plugin,
    ScaffoldError,
    create,
    name_problem,
    render,
)
from portal.plugins import InstalledPlugin

REPO = Path(__file__).resolve().parent.parent


def new(runner, *args: str):
    return runner.invoke(args=["plugins", "new", *args])


def as_tuple(value):
    return tuple(value) if isinstance(value, (list, tuple)) else (value,)


def read_catalog(path: Path, reader=read_po):
    with path.open("rb") as handle:
        return reader(handle)


# -- the generated package passes its own tests ----------------------------------------

def _clean_environment(site: Path) -> dict[str, str]:
    """This process's environment without the portal's or pytest's settings
    (the generated tests run on SQLite, in one process), with ``site`` importable."""
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("PORTAL_", "PYTEST_", "COV_CORE_"))}
    env["PYTHONPATH"] = str(site)
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    return env


@pytest.mark.slow
def test_a_new_plugin_installs_and_passes_its_own_tests(runner, tmp_path):
    package = tmp_path / "portal-field_notes"
    result = new(runner, "field_notes", "--directory", str(package),
                 "--description", "Partners keep field notes.")
    assert result.exit_code == 0, result.output

    site = tmp_path / "site"
    env = _clean_environment(site)
    # Offline and beside this virtualenv: pip builds the wheel with this
    # environment's setuptools and installs it into `site` alone.
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation", "--no-index",
         "--disable-pip-version-check", "--quiet", "--target", str(site), str(package)],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    installed = site / "portal_field_notes"
    assert (installed / "templates/field_notes/index.html").is_file()
    assert (installed / "migrations/field_notes_0001_items.py").is_file()
    assert (installed / "translations/de/LC_MESSAGES/field_notes.mo").is_file()
    entry_points = next(site.glob("portal_field_notes-*.dist-info")) / "entry_points.txt"
    assert 'field_notes = portal_field_notes' in entry_points.read_text()

    # From tmp_path, so the tests import the installed copy, not the source folder.
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", str(package / "tests"), "-q", "-p", "no:cacheprovider"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600,
    )
    assert tests.returncode == 0, tests.stdout[-6000:] + tests.stderr[-3000:]
    assert " passed" in tests.stdout and "skipped" not in tests.stdout


# -- what is generated ------------------------------------------------------------------

def test_new_writes_the_package_and_says_what_to_do_next(runner, tmp_path):
    target = tmp_path / "portal-shelf"
    result = new(runner, "shelf", "--directory", str(target))
    assert result.exit_code == 0, result.output
    written = sorted(str(p.relative_to(target)) for p in target.rglob("*") if p.is_file())
    assert written == [
        ".gitignore",
        "README.md",
        "babel.cfg",
        "portal_shelf/__init__.py",
        "portal_shelf/i18n.py",
        "portal_shelf/migrations/shelf_0001_items.py",
        "portal_shelf/models.py",
        "portal_shelf/templates/shelf/index.html",
        "portal_shelf/translations/de/LC_MESSAGES/shelf.mo",
        "portal_shelf/translations/de/LC_MESSAGES/shelf.po",
        "portal_shelf/translations/shelf.pot",
        "portal_shelf/views.py",
        "pyproject.toml",
        "tests/conftest.py",
        "tests/test_shelf.py",
    ]
    assert f"Created the plugin 'shelf' in {target.resolve()}" in result.output
    assert "pip install -e '.[test]'" in result.output
    assert "PORTAL_PLUGINS=shelf portal db upgrade" in result.output


def test_the_default_directory_is_portal_name_in_the_current_one(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = new(runner, "shelf")
    assert result.exit_code == 0, result.output
    assert (tmp_path / "portal-shelf" / "pyproject.toml").is_file()


def test_an_existing_empty_directory_is_used(runner, tmp_path):
    target = tmp_path / "here"
    target.mkdir()
    assert new(runner, "shelf", "--directory", str(target)).exit_code == 0
    assert (target / "portal_shelf" / "__init__.py").is_file()


def test_pyproject_declares_the_entry_point_dependency_and_package_data():
    files = render("shelf", "Partners keep a shelf of things.")
    project = tomllib.loads(files["pyproject.toml"].decode())
    assert project["project"]["name"] == "portal-shelf"
    assert project["project"]["description"] == "Partners keep a shelf of things."
    assert any(dep.startswith("partner-portal") for dep in project["project"]["dependencies"])
    assert project["project"]["entry-points"]["portal.plugins"] == {"shelf": "portal_shelf"}
    assert "pytest>=8" in project["project"]["optional-dependencies"]["test"]
    data = project["tool"]["setuptools"]["package-data"]["portal_shelf"]
    assert {"templates/**/*", "migrations/*.py", "translations/**/*"} <= set(data)
    assert project["tool"]["pytest"]["ini_options"]["filterwarnings"][0] == "error"


def test_generated_python_is_valid_and_follows_the_conventions():
    files = {path: content.decode() for path, content in render("mdf_claims").items()
             if path.endswith(".py")}
    for path, source in files.items():
        compile(source, path, "exec")
    package = files["portal_mdf_claims/__init__.py"]
    hooks = {node.name for node in ast.walk(ast.parse(package))
             if isinstance(node, ast.FunctionDef)
             and any(getattr(d, "id", None) == "hookimpl" for d in node.decorator_list)}
    assert hooks == {"portal_plugin_info", "portal_blueprints", "portal_permissions",
                     "portal_navigation", "portal_migrations"}
    assert '"mdf_claims.view"' in package
    assert 'Blueprint("mdf_claims", __name__' in files["portal_mdf_claims/views.py"]
    models = files["portal_mdf_claims/models.py"]
    assert "class MdfClaimsItem(db.Model):" in models
    assert '__tablename__ = "mdf_claims_item"' in models
    migration = files["portal_mdf_claims/migrations/mdf_claims_0001_items.py"]
    assert 'revision = "mdf_claims_0001"' in migration
    assert "down_revision = None" in migration
    assert 'branch_labels = ("mdf_claims",)' in migration
    assert 'op.create_table(\n        "mdf_claims_item"' in migration
    conftest = files["tests/conftest.py"]
    assert 'return ["mdf_claims"]' in conftest
    test_module = files["tests/test_mdf_claims.py"]
    assert "from tests" not in test_module and "conftest" not in test_module  # fixtures only


def test_the_page_template_extends_the_portal_layout():
    page = render("shelf")["portal_shelf/templates/shelf/index.html"].decode()
    assert page.startswith('{% extends "base.html" %}')
    assert '<th scope="col">' in page and "style=" not in page and "<script" not in page


def test_the_description_survives_quotes_and_odd_characters():
    text = 'Partners keep a "shelf" — with $dollars, {braces} & \\backslashes.'
    files = render("shelf", "  " + text.replace(" ", "\n ", 1) + "  ")
    assert tomllib.loads(files["pyproject.toml"].decode())["project"]["description"] == text
    package = ast.parse(files["portal_shelf/__init__.py"].decode())
    literals = [node.value for node in ast.walk(package) if isinstance(node, ast.Constant)]
    assert text in literals
    assert text in files["README.md"].decode()


def test_without_a_description_one_is_made_up():
    project = tomllib.loads(render("mdf_claims")["pyproject.toml"].decode())
    assert project["project"]["description"] == "Mdf claims: a plugin for the partner portal."


def test_a_description_longer_than_a_sentence_is_refused(runner, tmp_path):
    result = new(runner, "shelf", "--directory", str(tmp_path / "x"), "--description", "x" * 201)
    assert result.exit_code == 2
    assert "at most 200 characters" in result.output
    assert not (tmp_path / "x").exists()


def test_names_derive_label_model_and_revision():
    plugin = Plugin("mdf_claims", "")
    assert (plugin.package, plugin.dist, plugin.label, plugin.model, plugin.revision) == (
        "portal_mdf_claims", "portal-mdf_claims", "Mdf claims", "MdfClaimsItem", "mdf_claims_0001")


# -- translations -----------------------------------------------------------------------

def test_the_catalog_is_what_pybabel_extracts_and_the_page_is_translated(tmp_path, monkeypatch):
    create("shelf", tmp_path, "Partners keep a shelf.")
    monkeypatch.chdir(tmp_path)
    # The commands of the generated babel.cfg and README, as an author runs them.
    CommandLineInterface().run(["pybabel", "-q", "extract", "-F", "babel.cfg", "-k", "_l",
                                "-o", "extracted.pot", "."])
    extracted = {as_tuple(m.id) for m in read_catalog(tmp_path / "extracted.pot") if m.id}
    shipped = read_catalog(tmp_path / "portal_shelf/translations/shelf.pot")
    assert {as_tuple(m.id) for m in shipped if m.id} == extracted
    assert ("Nothing here yet.",) in extracted and ("%(num)d item", "%(num)d items") in extracted

    german = read_catalog(tmp_path / "portal_shelf/translations/de/LC_MESSAGES/shelf.po")
    assert german.locale.language == "de" and not german.fuzzy
    untranslated = {m.id for m in german if m.id and not all(as_tuple(m.string))}
    assert untranslated == {"Partners keep a shelf."}  # the author's own sentence
    assert german["Nothing here yet."].string == "Noch nichts hier."

    compiled = read_catalog(tmp_path / "portal_shelf/translations/de/LC_MESSAGES/shelf.mo", read_mo)
    assert compiled["Title"].string == "Titel"
    CommandLineInterface().run(["pybabel", "-q", "update", "-D", "shelf", "-i", "extracted.pot",
                                "-d", "portal_shelf/translations"])
    CommandLineInterface().run(["pybabel", "-q", "compile", "-D", "shelf",
                                "-d", "portal_shelf/translations"])
    recompiled = read_catalog(tmp_path / "portal_shelf/translations/de/LC_MESSAGES/shelf.mo",
                              read_mo)
    assert {as_tuple(m.id): as_tuple(m.string) for m in recompiled if m.id} == {
        as_tuple(m.id): as_tuple(m.string) for m in compiled if m.id}


# -- refusals ---------------------------------------------------------------------------

@pytest.mark.parametrize("name, message", [
    ("Shelf", "lower-case identifier"),
    ("s", "lower-case identifier"),
    ("1shelf", "lower-case identifier"),
    ("my-shelf", "lower-case identifier"),
    ("shelf.x", "lower-case identifier"),
    ("a" * 32, "lower-case identifier"),
    ("a" * 27, "at most 26 characters"),
    ("shelf_", "no underscore at the end"),
    ("my__shelf", "double underscore"),
    ("admin", "taken by the portal's core"),
    ("auth", "taken by the portal's core"),
    ("static", "taken by the portal's core"),
    ("plugins", "taken by the portal's core"),
    ("program", "taken by the portal's core"),
])
def test_bad_names_are_refused_with_exit_status_2(runner, tmp_path, name, message):
    result = new(runner, name, "--directory", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert message in result.output and f"Invalid value for NAME: {name!r}" in result.output
    assert not (tmp_path / "out").exists()


def test_the_name_of_an_installed_plugin_is_refused(monkeypatch):
    installed = InstalledPlugin(
        name="shelf", target="portal_shelf", distribution="portal-shelf", version="1.2.0",
        entry_point=metadata.EntryPoint(name="shelf", value="portal_shelf", group="portal.plugins"))
    monkeypatch.setattr(plugin_module, "discover", lambda: {"shelf": installed})
    assert name_problem("shelf") == ("a plugin named 'shelf' is already installed "
                                     "(portal-shelf 1.2.0); pick another name")
    with pytest.raises(ScaffoldError):
        render("shelf")


def test_the_name_of_an_importable_package_is_refused(tmp_path, monkeypatch):
    # Not a plugin, but `import portal_<name>` must stay unambiguous.
    (tmp_path / "portal_probe").mkdir()
    (tmp_path / "portal_probe" / "__init__.py").write_text("")
    assert name_problem("probe") is None or "importable" not in name_problem("probe")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    assert name_problem("probe") == ("a package named portal_probe is already importable here; "
                                     "pick another name")


def test_a_directory_with_files_is_refused_and_left_alone(runner, tmp_path):
    target = tmp_path / "mine"
    target.mkdir()
    (target / "notes.txt").write_text("keep me")
    result = new(runner, "shelf", "--directory", str(target))
    assert result.exit_code == 2
    assert f"{target} is not empty" in result.output
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    assert (target / "notes.txt").read_text() == "keep me"


def test_a_file_in_the_way_is_refused(runner, tmp_path):
    target = tmp_path / "portal-shelf"
    target.write_text("")
    result = new(runner, "shelf", "--directory", str(target))
    assert result.exit_code == 2
    assert "is a file" in result.output
    assert target.read_text() == ""


def test_reserved_names_cover_the_cores_own(app):
    core_tables = {
        mapper.local_table.name for mapper in db.Model.registry.mappers
        if mapper.class_.__module__.startswith("portal.")
    }
    taken = (
        set(app.blueprints)
        | set(app.cli.commands)
        | {"run", "shell", "routes"}
        | {permission.split(".")[0] for permission in CORE_GRANTS}
        | core_tables
        | {table.split("_")[0] for table in core_tables}
    )
    assert taken - RESERVED_NAMES == set()


# -- packaging of the templates ----------------------------------------------------------

def test_every_template_is_used_and_shipped_with_the_portal():
    used = {template for _, template in FILES}
    on_disk = {str(p.relative_to(TEMPLATES)) for p in TEMPLATES.rglob("*") if p.is_file()
               and "__pycache__" not in p.parts}
    assert used == on_disk
    portal_data = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"][
        "package-data"]["portal"]
    assert "scaffold/**/*" in portal_data


# -- portal plugins docs ---------------------------------------------------------------------

@pytest.fixture
def guide(tmp_path) -> Path:
    """A copy of docs/plugins.md whose hook reference is stale."""
    text = plugin_docs.DOCS_PATH.read_text(encoding="utf-8")
    before, rest = text.split(plugin_docs.START, 1)
    _, after = rest.split(plugin_docs.END, 1)
    path = tmp_path / "plugins.md"
    stale = before + plugin_docs.START + "\nold\n" + plugin_docs.END + after
    path.write_text(stale, encoding="utf-8")
    return path


def test_docs_rewrites_a_stale_reference_and_says_so(runner, guide):
    result = runner.invoke(args=["plugins", "docs", "--file", str(guide)])
    assert result.exit_code == 0, result.output
    assert "updated the hook reference" in result.output
    assert plugin_docs.is_current(guide)
    again = runner.invoke(args=["plugins", "docs", "--file", str(guide)])
    assert again.exit_code == 0 and "already up to date" in again.output


def test_docs_check_reports_without_writing(runner, guide):
    stale = guide.read_text(encoding="utf-8")
    result = runner.invoke(args=["plugins", "docs", "--check", "--file", str(guide)])
    assert result.exit_code == 1
    assert "out of date" in result.output
    assert guide.read_text(encoding="utf-8") == stale
    plugin_docs.update(guide)
    assert runner.invoke(args=["plugins", "docs", "--check", "--file", str(guide)]).exit_code == 0


def test_docs_refuses_a_guide_without_markers_or_a_missing_one(runner, tmp_path):
    plain = tmp_path / "plain.md"
    plain.write_text("# No markers here\n")
    result = runner.invoke(args=["plugins", "docs", "--file", str(plain)])
    assert result.exit_code == 1 and "markers" in result.output
    assert plain.read_text() == "# No markers here\n"
    missing = runner.invoke(args=["plugins", "docs", "--file", str(tmp_path / "nope.md")])
    assert missing.exit_code == 1 and "does not exist" in missing.output


def test_docs_defaults_to_the_repositorys_guide(runner):
    result = runner.invoke(args=["plugins", "docs", "--check"])
    assert result.exit_code == 0, result.output
    assert str(plugin_docs.DOCS_PATH) in result.output


def test_the_kit_commands_are_listed_under_plugins(runner):
    output = runner.invoke(args=["plugins", "--help"]).output
    assert "new" in output and "docs" in output and "list" in output
    help_text = runner.invoke(args=["plugins", "new", "--help"]).output
    assert "--directory" in help_text and "--description" in help_text
