"""Online theory exams: batches and filing, rosters, candidate sessions and attempts with
autosave, proctoring, integrity signals, grading, result review and publication."""
