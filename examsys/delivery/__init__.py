"""Online theory exams, in three packages with a service surface each: `batches` (planning,
filing, rosters, staff, rooms), `exam` (candidate sign-in, attempts, autosave, integrity,
timing, the proctor console, the survey) and `scoring` (grading, marking, results, 复核,
corrections, publication, score review applications). `models` holds the shared tables,
`views` the staff pages, `forms` their WTForms, `cli` the commands."""
