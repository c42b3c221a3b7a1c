"""The migration that brings asset holders makes each stored image's first uploader its holder, so
images uploaded before it are still served to their organisation."""

from datetime import UTC, datetime
from pathlib import Path

import flask_migrate
from alembic.config import Config
from alembic.script import ScriptDirectory
from sqlalchemy import text

from examsys import create_app
from examsys.extensions import db

ROOT = Path(__file__).resolve().parents[2]
REVISION = "117280d31997"  # sign-in throttles and image holders


def _before() -> str:
    """The revision just before the holders' migration, wherever it is chained."""
    cfg = Config(str(ROOT / "migrations" / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    return ScriptDirectory.from_config(cfg).get_revision(REVISION).down_revision


def test_existing_images_keep_their_organisation(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True,
                      "SECRET_KEY": "x", "EXAMSYS_DATA_KEY": "y"})
    with app.app_context():
        flask_migrate.upgrade(revision=_before())
        now = datetime(2026, 12, 1, tzinfo=UTC)
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO organisations (id, code, name, kind, active, created_at) "
                              "VALUES (7, 'ORG-7', '机构七', 'social', true, :now)"), {"now": now})
            conn.execute(text("INSERT INTO assets (sha256, organisation_id, mime, size, width, height, created_at) "
                              "VALUES (:sha, 7, 'image/png', 10, 1, 1, :now)"), {"sha": "a" * 64, "now": now})
        flask_migrate.upgrade()
        with db.engine.connect() as conn:
            rows = conn.execute(text("SELECT sha256, organisation_id FROM asset_holders")).all()
        assert rows == [("a" * 64, 7)]
        db.engine.dispose()
