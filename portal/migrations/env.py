"""Alembic environment for the portal core (Flask-Migrate layout).

Runs inside the app: the engine and the metadata come from Flask-SQLAlchemy, and
the options from ``Migrate(...)`` in :func:`portal.create_app` (``render_as_batch``
so that ALTERs work on SQLite).
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


def get_metadata():
    return target_db.metadata


def run_migrations_offline():
    """Emit SQL to stdout (``portal db upgrade --sql``) instead of running it."""
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=get_metadata(),
        literal_binds=True,
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

    with target_db.engine.connect() as connection:
        context.configure(connection=connection, target_metadata=get_metadata(), **conf_args)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
