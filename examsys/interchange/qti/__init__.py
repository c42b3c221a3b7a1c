"""QTI 2.1 / 2.2 / 3.0: single item files, IMS content packages, QTI 3.0 export."""

from .emit import emit_qti3_package
from .item import parse_qti_item
from .package import parse_qti_package

__all__ = ["emit_qti3_package", "parse_qti_item", "parse_qti_package"]
