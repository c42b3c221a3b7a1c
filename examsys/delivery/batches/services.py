"""The batches' operations, in one place for views, the CLI and the other delivery packages.

Implementation by concern: `common` (state table, input shapes, visibility, read helpers),
`lifecycle` (create and edit while planned, the filing checks, filing, state changes,
closing), `filing` (备案变更 of a filed batch), `rosters` (roster import, tickets, seats, forms).

Every operation flushes and never commits; each state change records one audit event and sends
`batch_state_changed` (`batch_closed` on closing). What each raises is documented on the
function (examsys.errors: ValidationError, Conflict, NotFound).
"""

from examsys.delivery.batches.checks import filing_problems, staff_problems
from examsys.delivery.batches.common import (
    TRANSITIONS,
    BatchInput,
    RoomInput,
    certificate_status,
    form_labels,
    get_managed,
    get_visible,
    markers_of,
    proctors_of,
    room_counts,
    visible_batches,
    window_label,
)
from examsys.delivery.batches.filing import change as change_filing
from examsys.delivery.batches.filing import history as filing_history
from examsys.delivery.batches.lifecycle import (
    close_batch,
    create_batch,
    ensure_open,
    file_batch,
    in_progress_count,
    roster_entry,
    transition,
    update_batch,
)
from examsys.delivery.batches.rosters import (
    RosterImportResult,
    assign_forms,
    assign_seats,
    clear_roster,
    import_roster,
    parse_roster,
    template_xlsx,
)
from examsys.delivery.models.batches import BATCH_STATE_LABELS

__all__ = [
    "BATCH_STATE_LABELS", "TRANSITIONS", "BatchInput", "RoomInput", "RosterImportResult", "assign_forms",
    "assign_seats", "certificate_status", "change_filing", "clear_roster", "close_batch", "create_batch",
    "ensure_open", "file_batch", "filing_history", "filing_problems", "form_labels", "get_managed",
    "get_visible", "import_roster", "in_progress_count", "markers_of", "parse_roster", "proctors_of",
    "room_counts", "roster_entry", "staff_problems", "template_xlsx", "transition", "update_batch",
    "visible_batches", "window_label",
]
