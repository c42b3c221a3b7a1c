"""Staff pages of delivery: the `bp` blueprint ("delivery", /delivery), with batches and filing,
the proctor console, marking and result review in their own modules."""

from flask import Blueprint

bp = Blueprint("delivery", __name__, url_prefix="/delivery")

from examsys.delivery.views import batches, marking, proctor, results, rosters  # noqa: E402,F401  (register routes)
