"""Audit events: who did what to which object, when, recorded in the same transaction as the change."""

from examsys.audit import append_only  # noqa: F401 - attaches the append-only triggers to the tables
from examsys.audit.actions import AuditAction
from examsys.audit.services import AuditContext, record, seal_attempt

__all__ = ["AuditAction", "AuditContext", "record", "seal_attempt"]
