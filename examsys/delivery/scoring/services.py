"""Scoring's operations, in one place for views, the API and reports.

Implementation by concern: `grading` (machine scoring, the marking queue's items), `marking`
(two marks and arbitration), `results` (computing, 复核, corrections, the score list),
`publication` (公示 and score review applications), `workdays` (working-day arithmetic),
`common` (the blueprint snapshot, section labels).

Every operation flushes and never commits; each change records one audit event. Signals:
`marking_completed` (the batch's last final score), `results_published`. Who may do what is
examsys.permissions' (may_mark, may_mark_item, may_handle_results, may_review_results,
may_decide_correction). What each raises is documented on the function.
"""

from examsys.delivery.models.grading import REVIEW_OUTCOME_LABELS, REVIEW_SCOPE_LABELS
from examsys.delivery.scoring.common import CORRECTABLE_STATES, PUBLISHED_STATES, blueprint_snapshot, section_meta
from examsys.delivery.scoring.grading import BatchScoring, is_blank, score_attempt, score_batch
from examsys.delivery.scoring.marking import (
    Task,
    arbitration_queue,
    complete_if_done,
    margin_for,
    needs_arbitration,
    open_count,
    progress,
    queue,
    record_mark,
    round2,
    task_for,
)
from examsys.delivery.scoring.publication import (
    answer_review_request,
    apply_for_review,
    apply_until,
    is_published,
    machine_scored_only,
    notice_ends_at,
    publish,
    published_result,
    requests_of,
    review_requests,
)
from examsys.delivery.scoring.results import (
    check_batch,
    compute_results,
    decide_correction,
    effective_scores,
    record_regrade,
    request_correction,
    review_batch,
)
from examsys.delivery.scoring.score_list import ScoreRow, corrections, form_label, reviews, score_list
from examsys.delivery.scoring.stage import Stage, may_review, second_persons, stage
from examsys.delivery.scoring.workdays import add_workdays, is_workday
from examsys.permissions import may_mark

__all__ = [
    "CORRECTABLE_STATES", "PUBLISHED_STATES", "REVIEW_OUTCOME_LABELS", "REVIEW_SCOPE_LABELS", "BatchScoring",
    "ScoreRow", "Stage", "Task", "add_workdays", "answer_review_request", "apply_for_review", "apply_until",
    "arbitration_queue", "blueprint_snapshot", "check_batch", "complete_if_done", "compute_results",
    "corrections", "decide_correction", "effective_scores", "form_label", "is_blank", "is_published",
    "is_workday", "machine_scored_only", "margin_for", "may_mark", "may_review", "needs_arbitration",
    "notice_ends_at", "open_count", "progress", "publish", "published_result", "queue", "record_mark",
    "record_regrade", "request_correction", "requests_of", "review_batch", "review_requests", "reviews", "round2",
    "score_attempt", "score_batch", "score_list", "second_persons", "section_meta", "stage", "task_for",
]
