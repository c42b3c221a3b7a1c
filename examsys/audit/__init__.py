"""Audit events: who did what to which object, when, recorded in the same transaction as the change."""

from examsys.audit.actions import AuditAction
from examsys.audit.services import AuditContext, record

__all__ = ["AuditAction", "AuditContext", "record"]
