"""Figures for `make reliability` (scripts/reliability.py): a test that measures something worth
reporting calls `record(name, figures)`; when EXAMSYS_RELIABILITY_DIR is set (the runner sets it)
the figures are written there as NAME.<unique>.json for the report, otherwise nothing happens.

Several calls with the same name (one per database, one per parametrised case, one per xdist
worker) each write a file of their own; the runner reads them all as the entries of NAME."""

from __future__ import annotations

import json
import os
import uuid
from pathlib import Path


def record(name: str, figures: dict) -> None:
    folder = os.environ.get("EXAMSYS_RELIABILITY_DIR")
    if not folder:
        return
    path = Path(folder) / f"{name}.{uuid.uuid4().hex[:12]}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(figures, ensure_ascii=False, indent=1, default=str), encoding="utf-8")


__all__ = ["record"]
