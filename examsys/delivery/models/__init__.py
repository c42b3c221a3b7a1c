"""Delivery tables, by theme: batches (filing, rooms, staff, roster), attempts (sessions,
responses, extensions, integrity events, incidents) and grading (scores, marks, results)."""

from examsys.delivery.models.attempts import (  # noqa: F401
    Attempt,
    AttemptStatus,
    CandidateSession,
    Extension,
    Incident,
    IncidentKind,
    IntegrityEvent,
    Response,
    still_open,
)
from examsys.delivery.models.batches import (  # noqa: F401
    Batch,
    BatchRoom,
    BatchStaff,
    BatchState,
    FilingChange,
    RosterEntry,
    StaffRole,
)
from examsys.delivery.models.grading import (  # noqa: F401
    CorrectionStatus,
    ItemScore,
    Mark,
    Result,
    ResultReview,
    ReviewOutcome,
    ReviewScope,
    ScoreCorrection,
    ScoreReviewRequest,
)
from examsys.delivery.models.survey import SurveyResponse  # noqa: F401
