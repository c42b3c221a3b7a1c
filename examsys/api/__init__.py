"""JSON API v1 (the `bp` blueprint, /api/v1) and its OpenAPI 3.1 document.

Candidates authenticate with a Bearer token (see examsys.delivery.candidate_auth); the API never
reads the staff login cookie. Modules: `common` (auth decorator, errors, JSON helpers), `auth`
(candidate session), `candidate` (exams, attempts, autosave, submit, events, survey, results),
`openapi` (the document)."""

from flask import Blueprint

from examsys.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# CSRF protects cookie-authenticated forms. This API authenticates only by an explicit
# `Authorization: Bearer` header that a cross-site page cannot make a browser attach, and it
# never looks at the session cookie, so a forged cross-site request carries no credentials:
# there is nothing for a CSRF token to add, and requiring one would break API clients.
csrf.exempt(bp)

from examsys.api import auth, candidate, common, openapi  # noqa: E402,F401  (register routes)
