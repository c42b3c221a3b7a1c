"""JSON API v1 (the `bp` blueprint, /api/v1) and its OpenAPI 3.1 document: parsing and shaping
only, over the delivery packages' service surfaces.

Candidates authenticate with a Bearer token (examsys.delivery.exam.candidate_auth); the API
never reads the staff login cookie. Modules: `blueprint` (bp), `common` (auth decorator, errors,
JSON helpers), `auth` (candidate session), `candidate` (exams, attempts, autosave, submit,
events, survey, results), `openapi` (the document)."""

from examsys.api import auth, candidate, common, openapi  # noqa: F401  (register routes)
from examsys.api.blueprint import bp

__all__ = ["bp"]
