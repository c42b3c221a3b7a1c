"""The bank's domain operations, in one place for views, the CLI and other domains.

Implementation is split by concern: `items` (create, edit, retire, faults, revision flags),
`workflow` (submit, review, batch approval, the review policy), `diff` (version comparison),
`importing` (bulk import of parsed drafts). Search, similarity, assets, rich text and the
question-type registry are modules of their own (`search`, `similarity`, `assets`, `richtext`,
`qtypes`).

Every operation flushes and never commits; each state change records one audit event. What each
raises is documented on the function (examsys.errors: ValidationError, Conflict,
PermissionDenied, NotFound).
"""

from examsys.bank.diff import DiffRow, FieldDiff, version_diff
from examsys.bank.importing import ImportReport, import_drafts
from examsys.bank.items import (
    carry_over,
    content_hash,
    create_item,
    enemy_group_members,
    flag_needs_revision,
    open_fault_reports,
    prepare_content,
    report_fault,
    retire,
    save_edit,
    search_text_for,
    set_enemy_group,
)
from examsys.bank.workflow import (
    SimilarWarning,
    approve,
    batch_approve,
    return_version,
    similar_to,
    submit,
)
from examsys.permissions import can_review, may_approve, may_review  # the review policy, re-exported

__all__ = [
    "DiffRow", "FieldDiff", "ImportReport", "SimilarWarning", "approve", "batch_approve", "can_review",
    "carry_over",
    "content_hash", "create_item", "enemy_group_members", "set_enemy_group",
    "flag_needs_revision", "import_drafts", "open_fault_reports",
    "prepare_content", "report_fault", "retire", "return_version", "may_approve", "may_review", "save_edit",
    "search_text_for", "similar_to", "submit", "version_diff",
]
