"""Long work run off the request (DESIGN rule 10): batch archives, ticket PDFs for a whole batch,
large imports, statistics. A page asks for a job (`services.submit`), the job queue's worker
runs it (`examsys jobs worker`), the page shows its progress and then the download.

- `models`: the Job row, the one place a job's state, progress and result are kept;
- `registry`: the kinds of job, each registered by its domain with what it runs and who may see it;
- `queue`: the Huey queue the jobs travel on (SQLite store by default, Redis when configured);
- `services`: submit, run, report progress, and download;
- `views` (/jobs) and `cli` (`examsys jobs worker|list`).
"""
