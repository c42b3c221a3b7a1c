"""The exam's operations, in one place for views, the API, the CLI and the other delivery
packages.

Implementation by concern: `candidate_auth` (sign-in, Bearer sessions), `access` (own attempt,
Safe Exam Browser), `attempts` (the start rule, start, submit, timeouts and the sweep, saves on
an ORM attempt), `attempts_admin` (extensions, reopen, terminate), `saving` (the autosave
service — the one place that commits itself, see there), `autosave` / `hotsave` (its
statements and per-process memory), `papers` (the candidate's paper), `integrity` (evidence),
`timing` (deadline arithmetic), `proctoring` (the console), `survey`.

Every operation but `saving`'s flushes and never commits. Signals: `attempt_started`,
`attempt_finalised` (submit, timeout, terminate) and `batch_state_changed` (the first start
opens the batch). What each raises is documented on the function.
"""

from examsys.delivery.exam.access import check_seb, own_attempt
from examsys.delivery.exam.attempts import (
    SWEEP_CHUNK,
    answer_spec,
    check_save_input,
    compute_deadline,
    extension_minutes,
    finalise_if_overdue,
    overdue_ids,
    responses_of,
    save_response,
    submit,
    sweep,
)
from examsys.delivery.exam.attempts_admin import grant_extension, recompute_deadline, reopen, terminate
from examsys.delivery.exam.autosave import MAX_SEQ, SaveResult
from examsys.delivery.exam.candidate_auth import (
    LOGIN_FAILED,
    SESSION_LIFETIME,
    authenticate,
    candidate_context,
    login,
    logout,
    token_hash,
    touch_due,
    touch_id,
)
from examsys.delivery.exam.integrity import DATA_LABELS as INTEGRITY_DATA_LABELS
from examsys.delivery.exam.integrity import KIND_LABELS as INTEGRITY_LABELS
from examsys.delivery.exam.integrity import SEB_HEADER, record_client_event, record_server_event, seb_ok
from examsys.delivery.exam.integrity import SOURCE_LABELS as INTEGRITY_SOURCE_LABELS
from examsys.delivery.exam.paperfast import paper_fast
from examsys.delivery.exam.papers import candidate_paper
from examsys.delivery.exam.proctoring import (
    INCIDENT_LABELS,
    console,
    console_json,
    events_of,
    get_proctored,
    get_watched,
    incidents,
    proctored_batches,
    room_record,
)
from examsys.delivery.exam.proctoring import act as proctor_act
from examsys.delivery.exam.proctoring import extend_time as proctor_extend_time
from examsys.delivery.exam.proctoring import note as proctor_note
from examsys.delivery.exam.proctoring import reopen as proctor_reopen
from examsys.delivery.exam.proctoring import terminate as proctor_terminate
from examsys.delivery.exam.saving import Saved, save, save_fast
from examsys.delivery.exam.startfast import start_fast
from examsys.delivery.exam.starting import STARTABLE_STATES, ExamStatus, attempt_of, exam_status, start_attempt
from examsys.delivery.exam.survey import QUESTIONS as SURVEY_QUESTIONS
from examsys.delivery.exam.survey import SCALE as SURVEY_SCALE
from examsys.delivery.exam.survey import submit_survey
from examsys.delivery.exam.timing import accepts_saves, effective_deadline, remaining_seconds
from examsys.delivery.models.attempts import ATTEMPT_STATUS_LABELS, AttemptStatus

__all__ = [
    "ATTEMPT_STATUS_LABELS", "AttemptStatus", "ExamStatus", "INCIDENT_LABELS", "INTEGRITY_DATA_LABELS",
    "INTEGRITY_LABELS", "INTEGRITY_SOURCE_LABELS", "LOGIN_FAILED", "MAX_SEQ", "SEB_HEADER", "SESSION_LIFETIME",
    "STARTABLE_STATES", "SWEEP_CHUNK",
    "SURVEY_QUESTIONS", "SURVEY_SCALE", "SaveResult", "Saved", "accepts_saves", "answer_spec", "attempt_of",
    "authenticate", "candidate_context", "candidate_paper", "check_save_input", "check_seb", "compute_deadline",
    "console", "console_json", "effective_deadline", "events_of", "exam_status", "extension_minutes",
    "finalise_if_overdue", "get_proctored", "get_watched", "grant_extension", "incidents", "login", "logout",
    "overdue_ids", "own_attempt", "paper_fast", "proctor_act", "proctor_extend_time", "proctor_note", "proctor_reopen",
    "proctor_terminate",
    "proctored_batches", "recompute_deadline", "record_client_event", "record_server_event", "remaining_seconds",
    "reopen", "responses_of", "room_record", "save", "save_fast", "save_response", "seb_ok", "start_attempt",
    "start_fast", "submit", "submit_survey", "sweep", "terminate", "token_hash", "touch_due", "touch_id",
]
