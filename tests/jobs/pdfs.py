"""Taking a PDF the way a clerk does now: post the button's form, land on the job's page (the
job ran at once: tests queue jobs in immediate mode), follow its download link."""

from __future__ import annotations

import re


def job_id_of(resp) -> int:
    """The job a button's POST answered with (a 303 to the job's page)."""
    assert resp.status_code == 303, resp.status_code
    match = re.search(r"/jobs/(\d+)$", resp.headers["Location"])
    assert match, resp.headers["Location"]
    return int(match.group(1))


def pdf_via_job(client, url: str, data: dict | None = None):
    """The download of the job that a POST to `url` asked for, after checking its page offers it."""
    job_id = job_id_of(client.post(url, data=data or {}))
    page = client.get(f"/jobs/{job_id}").get_data(as_text=True)
    assert f"/jobs/{job_id}/result" in page, page
    return client.get(f"/jobs/{job_id}/result")
