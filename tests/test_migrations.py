"""Migrations: one head, and `upgrade` on an empty database gives exactly the models' schema."""

from pathlib import Path

import flask_migrate
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory

from examsys import create_app
from examsys.extensions import db

ROOT = Path(__file__).resolve().parent.parent


def test_single_head():
    cfg = Config(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    heads = ScriptDirectory.from_config(cfg).get_heads()
    assert len(heads) == 1, f"migrations have several heads: {heads}"


def test_revision_files_have_readable_names():
    for path in (ROOT / "migrations" / "versions").glob("*.py"):
        # YYYYMMDD_<rev>_<slug>.py
        parts = path.stem.split("_", 2)
        assert len(parts) == 3 and parts[0].isdigit() and len(parts[0]) == 8, path.name


def test_upgrade_yields_models_schema_and_downgrades(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True,
                      "SECRET_KEY": "x", "EXAMSYS_DATA_KEY": "y"})
    with app.app_context():
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True,
                                                         "compare_server_default": True})
            diff = compare_metadata(ctx, db.metadata)
        assert diff == [], f"models and migrations disagree: {diff}"
        flask_migrate.downgrade(revision="base")
        with db.engine.connect() as conn:
            names = set(db.inspect(conn).get_table_names())
        assert names <= {"alembic_version"}
        db.engine.dispose()
