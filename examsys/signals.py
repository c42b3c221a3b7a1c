"""The named events one domain emits and others react to (blinker, which Flask ships).

An emitter says what happened and imports nobody who reacts; receivers (the process record,
supervision, statistics) connect in their own package. Signals are sent from services, inside
the request's transaction: a receiver that writes adds to the same unit of work, so the
reaction lands with the change or not at all. Each signal's sender is the domain object named
in its docstring; keyword arguments are listed there too.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

attempt_started = _signals.signal("attempt-started", doc="sender: Attempt. A candidate began an exam.")
attempt_finalised = _signals.signal(
    "attempt-finalised",
    doc="sender: Attempt. Submitted, timed out or terminated; kwargs: how (the AttemptStatus).")
batch_state_changed = _signals.signal(
    "batch-state-changed", doc="sender: Batch. kwargs: old, new (BatchState). Filed, opened, closed, …")
batch_closed = _signals.signal("batch-closed", doc="sender: Batch. No attempt can start or save any more.")
marking_completed = _signals.signal("marking-completed",
                                    doc="sender: Batch. Every attempt of the batch has its final score.")
results_published = _signals.signal("results-published", doc="sender: Batch. Results were published (公示).")
item_version_approved = _signals.signal("item-version-approved",
                                        doc="sender: ItemVersion. A reviewer approved it into the bank.")
standard_edition_created = _signals.signal(
    "standard-edition-created", doc="sender: Standard (the new edition). kwargs: previous (Standard).")
