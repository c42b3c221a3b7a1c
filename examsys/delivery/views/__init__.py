"""Staff pages of delivery: the `bp` blueprint ("delivery", /delivery), with batches and filing,
rosters, the proctor console, marking and result review in their own modules. Pages import the
delivery packages' service surfaces only."""

from examsys.delivery.views import batches, marking, proctor, results, rosters  # noqa: F401  (register routes)
from examsys.delivery.views.blueprint import bp

__all__ = ["bp"]
