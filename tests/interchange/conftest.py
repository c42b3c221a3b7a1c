"""Fixtures for the interchange tests: the shared conformance corpus (skipped with a
clear message when absent) and small helpers to compare drafts."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"


def conformance_dir(name: str) -> Path:
    folder = CONFORMANCE / name
    if not folder.is_dir():
        pytest.skip(f"conformance corpus not found at {folder} (needs ../shared/conformance)")
    return folder


def conformance_files(name: str, pattern: str) -> list:
    """File names for parametrisation; a single skipped case, saying why, when absent."""
    folder = CONFORMANCE / name
    if not folder.is_dir():
        reason = f"conformance corpus not found at {folder} (needs ../shared/conformance)"
        return [pytest.param(None, marks=pytest.mark.skip(reason=reason))]
    return sorted(p.name for p in folder.glob(pattern))


def without_source(draft):
    return dataclasses.replace(draft, source=None)


@pytest.fixture
def gift_dir() -> Path:
    return conformance_dir("gift")
