"""One form per candidate (千人千卷) end to end: a blueprint with the option, forms drawn for a
12-candidate batch (each checked independently, pairwise overlap under the cap, uses balanced),
frozen, bound, filed; every candidate starts on a form of their own; an attempt is submitted and
graded. Refusals: too few forms for the roster (when binding and when filing), a count out of
range. Through the pages: the option in the editor, the job, the paper page one form at a time."""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from datetime import timedelta
from itertools import combinations

import pytest
from sqlalchemy import select

from examsys import clock
from examsys.assembly import per_candidate_papers, services, views_papers
from examsys.assembly.checker import check_forms
from examsys.assembly.models import Paper, PaperBlueprint, PaperForm, PaperFormItem, PaperStatus
from examsys.assembly.specs import to_form_spec
from examsys.bank.models import ItemVersion
from examsys.delivery.batches import rosters
from examsys.delivery.batches import services as svc
from examsys.delivery.exam import services as attempts
from examsys.delivery.models import Attempt, AttemptStatus, BatchState
from examsys.delivery.scoring import grading
from examsys.errors import ValidationError
from examsys.extensions import db as _db
from examsys.jobs.models import Job, JobState
from examsys.permissions import Role
from tests.assembly.app_factories import blueprint_data, make_bank, make_standard
from tests.assembly.test_app_blueprints import _form
from tests.assembly.test_app_pdf import text_of
from tests.delivery.test_batches import START, batch_world, roster_xlsx
from tests.factories import valid_id_number

CAP = 4
CANDIDATES = 12


@pytest.fixture
def pc(make, db):
    """batch_world's organisation and planned batch (12 candidates in two rooms, seats 1–7 each)
    with a bank of 144 items and a saved per-candidate blueprint (12 items a form, cap CAP)."""
    w = batch_world(make, db, candidates=CANDIDATES, capacity=7, rooms=2)
    w.items = make_bank(w.org, w.standard, w.admin, per_point={"judge": 8, "single": 12, "multi": 4})
    w.pb = services.save_blueprint(w.admin, w.org, w.standard, blueprint_data(
        w.standard, name="一人一卷细目表", per_candidate=True, max_shared_items=CAP))
    db.session.flush()
    yield w
    clock.freeze(None)


def _forms_of(paper: Paper) -> dict[str, list[int]]:
    rows = (select(PaperForm.label, PaperFormItem.item_id).join(PaperFormItem)
            .where(PaperForm.paper_id == paper.id).order_by(PaperForm.id, PaperFormItem.position))
    out: dict[str, list[int]] = defaultdict(list)
    for label, item_id in _db.session.execute(rows):
        out[label].append(item_id)
    return dict(out)


def _check_paper(w, paper: Paper, count: int) -> None:
    """What the paper must be, judged from the stored rows alone."""
    forms = _forms_of(paper)
    assert sorted(forms, key=int) == [str(n) for n in range(1, count + 1)]
    data = services.snapshot(w.pb)
    bank = services.bank_for(data, w.org.id).items
    spec = to_form_spec(data | {"forms": 1})
    by_id = {it.id: it for it in bank}
    for label, items in forms.items():  # the independent checker, one form at a time
        assert check_forms([by_id[i] for i in items], spec, [{"label": label, "items": items}]) == []
    overlaps = [len(set(a) & set(b)) for a, b in combinations(forms.values(), 2)]
    assert max(overlaps) <= CAP
    assert len({tuple(sorted(f)) for f in forms.values()}) == count  # no two forms alike
    # Items alike in everything the blueprint looks at are used evenly: at most one use apart.
    uses = Counter(i for items in forms.values() for i in items)
    alike: dict[tuple, list[int]] = defaultdict(list)
    for it in bank:
        alike[(it.type, it.kp, it.difficulty, it.importance)].append(uses.get(it.id, 0))
    assert all(max(u) - min(u) <= 1 for u in alike.values()), alike
    assert paper.compliance["ok"] and paper.compliance["forms"] == count
    assert paper.compliance["shared_items"]["observed_max"] == max(overlaps) == paper.solve_stats["overlap_max"]
    assert (paper.solve_stats["exposure_min"], paper.solve_stats["exposure_max"]) == (min(uses.values()),
                                                                                       max(uses.values()))


def test_per_candidate_paper_end_to_end(pc, db):
    w = pc
    paper = per_candidate_papers.assemble(w.admin, w.pb, CANDIDATES + 2, seed=3)
    assert paper.status == PaperStatus.DRAFT and paper.per_candidate
    _check_paper(w, paper, CANDIDATES + 2)
    services.freeze(w.admin, paper)
    assert paper.status == PaperStatus.FROZEN

    w.data.paper_id = paper.id
    svc.update_batch(w.admin, w.batch, w.data)
    labels = [e.form_label for e in w.batch.roster]
    assert len(set(labels)) == CANDIDATES and set(labels) <= {str(n) for n in range(1, CANDIDATES + 3)}
    # Roster order (room, then seat): the second room's seat 1 does not repeat the first room's form.
    rooms = {r.id: r.position for r in w.batch.rooms}
    ordered = sorted(w.batch.roster, key=lambda e: (rooms[e.room_id], e.seat_no))
    assert [e.form_label for e in ordered] == [str(n) for n in range(1, CANDIDATES + 1)]
    svc.file_batch(w.admin, w.batch)
    db.session.commit()

    clock.freeze(START + timedelta(minutes=1))
    started = {e.id: attempts.start_attempt(e) for e in w.batch.roster}
    db.session.commit()
    assert w.batch.state == BatchState.OPEN
    assert len({a.form_id for a in started.values()}) == CANDIDATES
    for entry in w.batch.roster:
        form = db.session.get(PaperForm, started[entry.id].form_id)
        assert form.paper_id == paper.id and form.label == entry.form_label
        assert attempts.start_attempt(entry).id == started[entry.id].id  # the same one again

    # One candidate answers every objective item with its key and submits: graded as usual.
    attempt = started[ordered[4].id]
    form = db.session.get(PaperForm, attempt.form_id)
    expected = 0.0
    for seq, fi in enumerate(sorted(form.items, key=lambda f: f.position), 1):
        key = db.session.get(ItemVersion, fi.item_version_id).content["key"]
        attempts.save_response(attempt, fi.id, key, seq)
        expected += fi.points
    assert attempts.submit(attempt).status == AttemptStatus.SUBMITTED
    scores = grading.score_attempt(attempt)
    db.session.commit()
    assert len(scores) == 12 and sum(s.final_score for s in scores) == pytest.approx(expected) == 12.0


def test_too_few_forms_are_refused_when_binding_and_when_filing(pc, db):
    w = pc
    small = per_candidate_papers.assemble(w.admin, w.pb, CANDIDATES - 2, seed=1)
    services.freeze(w.admin, small)
    w.data.paper_id = small.id
    with pytest.raises(ValidationError) as exc:
        svc.update_batch(w.admin, w.batch, w.data)
    assert f"只有 {CANDIDATES - 2} 份" in exc.value.message and f"{CANDIDATES} 名考生" in exc.value.message
    assert w.batch.paper_id != small.id

    exact = per_candidate_papers.assemble(w.admin, w.pb, CANDIDATES, seed=2)
    services.freeze(w.admin, exact)
    w.data.paper_id = exact.id
    svc.update_batch(w.admin, w.batch, w.data)  # as many forms as candidates: accepted
    # A candidate added afterwards gets no form, and filing names both numbers.
    result = rosters.import_roster(w.admin, w.batch, "补充.xlsx", roster_xlsx([("补考生", valid_id_number(8800))]))
    assert result.ok, result.errors
    late = next(e for e in w.batch.roster if e.candidate.name == "补考生")
    assert late.form_label is None or sum(e.form_label == late.form_label for e in w.batch.roster) == 1
    assert sum(e.form_label is None for e in w.batch.roster) == 1
    with pytest.raises(ValidationError) as exc:
        svc.file_batch(w.admin, w.batch)
    assert f"只有 {CANDIDATES} 份" in exc.value.message and f"{CANDIDATES + 1} 名考生" in exc.value.message
    assert w.batch.state == BatchState.PLANNED


def test_count_out_of_range_and_ordinary_assembly_are_refused(pc, db):
    w = pc
    for bad in (0, per_candidate_papers.MAX_FORMS + 1, "十二", ""):
        with pytest.raises(ValidationError, match=f"1–{per_candidate_papers.MAX_FORMS}"):
            per_candidate_papers.request(w.admin, w.pb, bad)
    with pytest.raises(Exception, match="一人一卷"):
        services.assemble(w.admin, w.pb)
    same = services.validate_blueprint(services.snapshot(w.pb) | {"max_shared_items": 12})
    assert any("一人一卷时，任意两份试卷最多共用题数须小于每份题量 12" in p for p in same)
    assert db.session.scalar(select(Job).where(Job.kind == per_candidate_papers.KIND)) is None


def test_a_cap_too_tight_for_the_bank_fails_the_job_with_the_reason(pc, db, client, login_as):
    w = pc
    login_as(Role.EXAM_ADMIN, org=w.org)
    w.pb.max_shared_items = 0  # 30 forms sharing nothing need 360 items; the bank has 144
    db.session.commit()
    resp = client.post(f"/assembly/blueprints/{w.pb.id}/assemble", data={"count": "30"}, follow_redirects=True)
    page = resp.get_data(as_text=True)
    job = db.session.scalar(select(Job).where(Job.kind == per_candidate_papers.KIND))
    db.session.refresh(job)
    assert job.state == JobState.FAILED and "共用不超过 0 道" in job.error and "共用不超过 0 道" in page
    assert db.session.scalar(select(Paper).where(Paper.blueprint_id == w.pb.id)) is None
    # The failed job's page leads back to the blueprint, to change the cap and try again.
    assert "返回细目表修改" in page and f'href="/assembly/blueprints/{w.pb.id}"' in page


def test_discarding_a_per_candidate_draft_removes_every_form(pc, db):
    w = pc
    paper = per_candidate_papers.assemble(w.admin, w.pb, 20, seed=4)
    paper_id = paper.id
    services.discard(w.admin, paper)
    db.session.commit()
    assert db.session.get(Paper, paper_id) is None
    assert db.session.scalar(select(PaperForm).where(PaperForm.paper_id == paper_id)) is None


# --- through the pages --------------------------------------------------------------------------


def test_per_candidate_through_the_pages(pc, db, client, login_as, monkeypatch):
    w = pc
    admin = login_as(Role.EXAM_ADMIN, org=w.org)
    plain = services.save_blueprint(admin, w.org, w.standard, blueprint_data(w.standard, name="普通细目表",
                                                                             max_shared_items=CAP))
    db.session.commit()
    # The option in the editor: shown, explained, saved.
    page = client.get(f"/assembly/blueprints/{plain.id}").get_data(as_text=True)
    assert "一人一卷（千人千卷）" in page and "任意两份试卷最多共用的题数" in page
    fields = _form(services.snapshot(plain), per_candidate="y")
    resp = client.post(f"/assembly/blueprints/{plain.id}", data=fields | {"version": str(plain.version)})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:2000]
    pb = db.session.get(PaperBlueprint, plain.id)
    db.session.refresh(pb)
    assert pb.per_candidate is True
    page = client.get(f"/assembly/blueprints/{pb.id}").get_data(as_text=True)
    assert "生成一人一卷试卷" in page and 'name="count"' in page
    assert re.search(r'<input[^>]*(checked[^>]*name="per_candidate"|name="per_candidate"[^>]*checked)', page)

    # Too many forms: refused with the limit, nothing queued.
    resp = client.post(f"/assembly/blueprints/{pb.id}/assemble", data={"count": "2001"}, follow_redirects=True)
    assert "一人一卷的份数须为 1–2000 之间的整数" in resp.get_data(as_text=True)
    assert db.session.scalar(select(Job).where(Job.kind == per_candidate_papers.KIND)) is None

    # The job: asked for, run, its page links to the paper.
    resp = client.post(f"/assembly/blueprints/{pb.id}/assemble", data={"count": str(CANDIDATES)})
    assert resp.status_code == 303 and "/jobs/" in resp.headers["Location"]
    job = db.session.scalar(select(Job).where(Job.kind == per_candidate_papers.KIND))
    db.session.refresh(job)
    assert job.state == JobState.DONE, job.error
    paper = db.session.get(Paper, job.params["paper_id"])
    job_page = client.get(f"/jobs/{job.id}").get_data(as_text=True)
    assert f"/assembly/papers/{paper.id}" in job_page and "查看试卷" in job_page
    assert " KB · SHA-256" in job_page and "0.0 MB" not in job_page  # the items list is a few KB
    listing = client.get(f"/jobs/{job.id}/result")
    assert listing.status_code == 200 and len(listing.get_data(as_text=True).strip().splitlines()) == CANDIDATES + 1
    w.pb = pb
    _check_paper(w, paper, CANDIDATES)

    # The paper page: summary, the forms' numbers a page at a time, one form shown.
    monkeypatch.setattr(views_papers, "FORMS_PER_PAGE", 5)
    page = client.get(f"/assembly/papers/{paper.id}").get_data(as_text=True)
    assert "一人一卷概况" in page and f"{CANDIDATES} 份（每名考生一份）" in page
    assert f"最多 {paper.solve_stats['overlap_max']} 道（上限 {CAP} 道）" in page
    assert "第 1 份" in page and "第 1 / 3 页" in page and "第 2 份" not in page
    page = client.get(f"/assembly/papers/{paper.id}?page=3").get_data(as_text=True)
    assert f"form={CANDIDATES}" in page and "form=5&" not in page
    page = client.get(f"/assembly/papers/{paper.id}?form=7").get_data(as_text=True)
    assert "第 7 份" in page and "第 7 份 试卷 PDF" in page and "第 2 / 3 页" in page
    resp = client.get(f"/assembly/papers/{paper.id}?form=99")
    assert resp.status_code == 404 and f"没有第 99 份试卷：本试卷共 {CANDIDATES} 份" in resp.get_data(as_text=True)
    # One form's PDF, as a job.
    resp = client.post(f"/assembly/papers/{paper.id}/forms/7/paper.pdf")
    assert resp.status_code == 303
    pdf_job = db.session.scalar(select(Job).where(Job.kind == "paper.form_pdf").order_by(Job.id.desc()))
    db.session.refresh(pdf_job)
    assert pdf_job.state == JobState.DONE and pdf_job.params["label"] == "7", pdf_job.error
    # Printed as the seventh form of the set, on every page, not as a "7卷" (a seventh volume).
    pages = [re.sub(r"\s+", "", p) for p in text_of(client.get(f"/jobs/{pdf_job.id}/result").get_data()).split("\f")]
    pages = [p for p in pages if p]
    assert pages and all("第7份" in p for p in pages)
    assert "7卷" not in "".join(pages)

    # The compliance report PDF: the summary, not a column per form.
    assert client.post(f"/assembly/papers/{paper.id}/compliance.pdf").status_code == 303
    pdf_job = db.session.scalar(select(Job).where(Job.kind == "paper.compliance_pdf"))
    db.session.refresh(pdf_job)
    assert pdf_job.state == JobState.DONE, pdf_job.error
    pdf = client.get(f"/jobs/{pdf_job.id}/result").get_data()
    assert pdf.startswith(b"%PDF")

    # Freeze on the page, bind, file, and every candidate signs in and starts on their own form.
    assert client.post(f"/assembly/papers/{paper.id}/freeze").status_code == 302
    db.session.refresh(paper)
    assert paper.status == PaperStatus.FROZEN
    w.data.paper_id = paper.id
    svc.update_batch(w.admin, w.batch, w.data)
    svc.file_batch(w.admin, w.batch)
    db.session.commit()
    clock.freeze(START + timedelta(minutes=1))
    for entry, id_number in zip(sorted(w.batch.roster, key=lambda e: e.id), w.ids, strict=True):
        resp = client.post("/api/v1/candidate/session", json={"ticket_no": entry.ticket_no, "id_number": id_number})
        assert resp.status_code == 201, resp.get_json()
        token = resp.get_json()["token"]
        resp = client.post(f"/api/v1/exams/{w.batch.id}/attempt", headers={"Authorization": f"Bearer {token}"})
        assert resp.status_code in (200, 201), resp.get_json()
    started = db.session.scalars(select(Attempt).where(Attempt.batch_id == w.batch.id)).all()
    assert len(started) == CANDIDATES and len({a.form_id for a in started}) == CANDIDATES


def test_a_thousand_forms_stay_usable(db, make, client, login_as):
    """1,000 forms: drawn and stored in seconds; the paper page lists a hundred form numbers and
    shows one form; the papers list and freezing do not load every form."""
    org = make.org()
    admin = login_as(Role.EXAM_ADMIN, org=org)
    standard = make_standard()
    make_bank(org, standard, admin, per_point={"judge": 20, "single": 30, "multi": 10})
    pb = services.save_blueprint(admin, org, standard, blueprint_data(standard, per_candidate=True,
                                                                      max_shared_items=8))
    db.session.commit()
    paper = per_candidate_papers.assemble(admin, pb, 1000, seed=1)
    db.session.commit()
    assert paper.compliance["ok"] and paper.compliance["forms"] == 1000
    assert paper.solve_stats["overlap_max"] <= 8
    page = client.get(f"/assembly/papers/{paper.id}").get_data(as_text=True)
    assert len(re.findall(rf"/assembly/papers/{paper.id}\?form=\d+", page)) == views_papers.FORMS_PER_PAGE
    assert "第 1 / 10 页，共 1000 份" in page and page.count('class="card form-card"') == 1
    page = client.get(f"/assembly/papers/{paper.id}?form=1000").get_data(as_text=True)
    assert "第 1000 份" in page and "第 10 / 10 页" in page
    assert "一人一卷 1000 份" in client.get("/assembly/papers").get_data(as_text=True)
    services.freeze(admin, paper)
    assert paper.status == PaperStatus.FROZEN
