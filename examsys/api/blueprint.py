"""The API's Flask blueprint `bp` (/api/v1), on its own so that the route modules can import it
while the package imports them."""

from flask import Blueprint

from examsys.extensions import csrf

bp = Blueprint("api", __name__, url_prefix="/api/v1")

# CSRF protects cookie-authenticated forms. This API authenticates only by an explicit
# `Authorization: Bearer` header that a cross-site page cannot make a browser attach, and it
# never looks at the session cookie, so a forged cross-site request carries no credentials:
# there is nothing for a CSRF token to add, and requiring one would break API clients.
csrf.exempt(bp)
