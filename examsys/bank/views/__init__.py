"""Web pages of the bank: the `bp` blueprint (made in `common`), with items/editor/history,
review, import/export, live preview and the bank's images (`assets_bp`) in their own modules.
Importing this package registers every route."""

from examsys.bank.views import exchange, images, items, preview, review
from examsys.bank.views.common import assets_bp, bp

__all__ = ["assets_bp", "bp", "exchange", "images", "items", "preview", "review"]
