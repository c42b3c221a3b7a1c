"""The migration that brings asset holders makes each stored image's first uploader its holder, so
images uploaded before it are still served to their organisation."""

from datetime import UTC, datetime

import flask_migrate
from sqlalchemy import text

from examsys import create_app
from examsys.extensions import db

BEFORE = "8842a3f7129a"


def test_existing_images_keep_their_organisation(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True,
                      "SECRET_KEY": "x", "EXAMSYS_DATA_KEY": "y"})
    with app.app_context():
        flask_migrate.upgrade(revision=BEFORE)
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
