"""Pages of the standards domain: the `bp` blueprint (made in `common`, with the shared helpers),
with the list, detail, downloads, coverage and worklist pages (`pages`), editing a standard and
its knowledge tree (`edit`), and Excel tree import and new editions (`imports`) in their own
modules. Importing this package registers every route.
"""

from examsys.standards.views import edit, imports, pages
from examsys.standards.views.common import bp

__all__ = ["bp", "edit", "imports", "pages"]
