"""examsys: online exams and question banks for vocational skill level recognition.

create_app() only wires: configuration, extensions, blueprints, error handlers, CLI.
Nothing here touches the database.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from examsys.config import ROOT, build_config

if TYPE_CHECKING:
    from flask import Flask

__all__ = ["ROOT", "create_app"]


def create_app(overrides: dict | None = None) -> Flask:
    # The one deliberate exception to top-of-module imports: the package root stays light, so that
    # `examsys --help`, offline commands (assembly solve) and any `import examsys.x` do not build
    # the whole web app (every domain's views, the extensions) before they need it; `examsys
    # --help` does not even import Flask.
    from functools import partial

    from werkzeug.routing import IntegerConverter

    from examsys import i18n, models, web  # noqa: F401  (models: complete metadata)
    from examsys.cli import register_cli
    from examsys.extensions import babel, csrf, db, login_manager, migrate
    from examsys.jobs import queue as jobs_queue
    from examsys.jobs import services as jobs_services
    from examsys.ratelimit import init_limiter

    app = web.ExamsysFlask(
        __name__,
        instance_path=str(ROOT / "instance"),
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
    )
    # <int:…> ids end where INTEGER columns do: a larger id matches no route (404) instead of failing
    # in the database (PostgreSQL int4: DataError, 503; SQLite past 2**63: OverflowError, 500). A
    # route over a BIGINT id would say int(max=…). Set before any route is added.
    app.url_map.converters["int"] = partial(IntegerConverter, max=2**31 - 1)
    app.config.update(build_config(Path(app.instance_path), overrides))
    app.config["BABEL_TRANSLATION_DIRECTORIES"] = str(ROOT / "translations")
    web.check_safe_settings(app)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"), render_as_batch=True)
    login_manager.init_app(app)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=web.select_locale, timezone_selector=web.select_timezone)
    init_limiter(app)
    web.init_app(app)
    i18n.init_app(app)
    jobs_queue.init_app(app, jobs_services.run)
    web.register_blueprints(app)
    web.register_error_handlers(app)
    register_cli(app)
    return app
