"""Alembic environment for the portal core and the plugins (Flask-Migrate layout).

Runs inside the app: the engine and the metadata come from Flask-SQLAlchemy, and
the options from ``Migrate(...)`` in :func:`portal.create_app` (``render_as_batch``
so that ALTERs work on SQLite).

A plugin's branch runs here too (:mod:`portal.plugin_migrations` sets
``config.attributes["portal_plugin"]``): its history is kept in its own version
table, ``alembic_version_<plugin>``, and autogenerate compares only its tables.
The core's context leaves every plugin's tables and version table alone.
"""

import logging
from logging.config import fileConfig

from alembic import context
from flask import current_app

config = context.config

# Configure logging from alembic.ini unless the host process (a test run, a server
# embedding the portal) has configured it already; never disable existing loggers,
# or the portal's own logger would fall silent after an upgrade.
if not logging.getLogger().handlers:
    fileConfig(config.config_file_name, disable_existing_loggers=False)
logger = logging.getLogger("alembic.env")

migrate_state = current_app.extensions["migrate"]
target_db = migrate_state.db
config.set_main_option(
    "sqlalchemy.url",
    target_db.engine.url.render_as_string(hide_password=False).replace("%", "%%"),
)


# Set by portal.plugin_migrations when a plugin's branch runs; None for the core.
plugin = config.attributes.get("portal_plugin")
version_table = f"alembic_version_{plugin}" if plugin else "alembic_version"


def get_metadata():
    return target_db.metadata


def _plugin_names():
    from portal.plugins import host

    plugin_host = host()
    return set(plugin_host.installed) | set(plugin_host.loaded)


def include_name(name, type_, parent_names):
    """Autogenerate compares only the tables of this context: the plugin's own
    (``<plugin>_*``), or for the core everything but plugins' tables."""
    if type_ != "table":
        return True
    if name.startswith("alembic_version"):
        return False
    if plugin:
        return name.startswith(plugin + "_")
    return not any(name.startswith(other + "_") for other in _plugin_names())


def include_object(obj, name, type_, reflected, compare_to):
    if type_ == "table":
        return include_name(name, type_, {})
    return True


def run_migrations_offline():
    """Emit SQL to stdout (``portal db upgrade --sql``) instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=get_metadata(),
        literal_binds=True,
        version_table=version_table,
        render_as_batch=migrate_state.configure_args.get("render_as_batch", False),
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online():
    """Run the migrations on the app's engine."""

    def process_revision_directives(context, revision, directives):
        # `portal db migrate` with no model change writes no empty revision.
        if getattr(config.cmd_opts, "autogenerate", False):
            script = directives[0]
            if script.upgrade_ops.is_empty():
                directives[:] = []
                logger.info("No changes in schema detected.")

    conf_args = dict(migrate_state.configure_args)
    conf_args.setdefault("process_revision_directives", process_revision_directives)
    conf_args.setdefault("include_name", include_name)
    conf_args.setdefault("include_object", include_object)
    conf_args["version_table"] = version_table

    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
