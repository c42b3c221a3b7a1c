"""The supervisor's findings and the internal supervision form (内部督导表): findings are
recorded with their event; the form is filled in, rendered as a PDF (read back with pdftotext),
signed — which freezes it, with an event — and corrected only by a new version."""

from __future__ import annotations

import shutil
import subprocess

import pytest
from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.errors import Conflict, ValidationError
from examsys.permissions import Role
from examsys.supervision import services as supervision
from examsys.supervision.models import SupervisionFinding, SupervisionForm
from tests.supervision.conftest import login

pdftotext = shutil.which("pdftotext")


def _actions(db, object_type):
    return db.session.scalars(select(AuditEvent.action).where(AuditEvent.object_type == object_type)
                              .order_by(AuditEvent.id)).all()


def test_a_finding_is_recorded_with_its_event(client, delivery_world, authority, sat, db):
    login(client, authority.supervisor)
    w, aid = delivery_world, sat[0]
    resp = client.post(f"/supervision/batches/{w.batch.id}/findings",
                       data={"category": "discipline", "text": "第1题两次改答，已核对考场记录", "attempt_id": str(aid)})
    assert resp.status_code == 303 and f"/supervision/attempts/{aid}" in resp.headers["Location"]
    row = db.session.scalar(select(SupervisionFinding))
    assert (row.batch_id, row.attempt_id, row.supervisor_id, row.category) == (
        w.batch.id, aid, authority.supervisor.id, "discipline")
    assert _actions(db, "supervision_finding") == ["supervision_finding.recorded"]
    page = client.get(f"/supervision/batches/{w.batch.id}").get_data(as_text=True)
    assert "第1题两次改答" in page and "考场纪律与作答异常" in page
    client.post(f"/supervision/batches/{w.batch.id}/findings", data={"category": "other", "text": "  "})
    assert db.session.query(SupervisionFinding).count() == 1  # an empty finding is refused


@pytest.mark.skipif(pdftotext is None, reason="poppler-utils (pdftotext) not installed")
def test_the_form_renders_signs_freezes_and_versions(client, delivery_world, authority, sat, db):
    w = delivery_world
    login(client, authority.supervisor)
    client.post(f"/supervision/batches/{w.batch.id}/findings", data={"category": "record", "text": "过程记录完整"})
    with pytest.raises(ValidationError):  # nothing to sign yet
        supervision.sign_form(authority.supervisor, supervision.save_form(
            authority.supervisor, w.batch, checks=[], conclusion=""))
    db.session.rollback()
    client.post(f"/supervision/batches/{w.batch.id}/form",
                data={"checks": ["filing", "answers"], "conclusion": "本批次考务组织规范。"})
    form = db.session.scalar(select(SupervisionForm))
    assert (form.version, form.checks, form.signed) == (1, ["filing", "answers"], False)

    draft = client.get(f"/supervision/forms/{form.id}/form.pdf")
    assert draft.status_code == 200 and draft.data.startswith(b"%PDF")
    text = subprocess.run([pdftotext, "-", "-"], input=draft.data, capture_output=True, check=True).stdout.decode()
    flat = "".join(text.split())
    assert w.batch.name in flat and "草稿" in flat and authority.supervisor.display_name in flat
    assert "过程记录完整" in flat and "本批次考务组织规范" in flat and "督导员证" in flat

    assert client.post(f"/supervision/forms/{form.id}/sign").status_code == 303
    db.session.expire_all()
    form = db.session.get(SupervisionForm, form.id)
    assert form.signed and form.content["findings"][0]["text"] == "过程记录完整"
    assert _actions(db, "supervision_form") == ["supervision_form.created", "supervision_form.signed"]
    signed = client.get(f"/supervision/forms/{form.id}/form.pdf").data
    flat = "".join(subprocess.run([pdftotext, "-", "-"], input=signed, capture_output=True,
                                  check=True).stdout.decode().split())
    assert w.batch.name in flat and "草稿" not in flat and "签署后内容已冻结" in flat

    client.post(f"/supervision/batches/{w.batch.id}/form", data={"checks": ["staff"], "conclusion": "改写"})
    db.session.expire_all()
    assert db.session.get(SupervisionForm, form.id).conclusion == "本批次考务组织规范。"  # frozen
    with pytest.raises(Conflict):
        supervision.save_form(authority.supervisor, w.batch, checks=["staff"], conclusion="改写")
    db.session.rollback()
    client.post(f"/supervision/batches/{w.batch.id}/form/new")
    versions = db.session.scalars(select(SupervisionForm).order_by(SupervisionForm.version)).all()
    assert [(v.version, v.signed) for v in versions] == [(1, True), (2, False)]
    assert versions[1].conclusion == "本批次考务组织规范。"


def test_another_supervisors_form_is_not_found(client, delivery_world, authority, make, db):
    form = supervision.save_form(authority.supervisor, delivery_world.batch, checks=["filing"], conclusion="x")
    db.session.commit()
    other = make.user(roles=Role.SUPERVISOR, org=authority.province)
    db.session.commit()
    login(client, other)
    assert client.get(f"/supervision/forms/{form.id}/form.pdf").status_code == 404
    assert client.post(f"/supervision/forms/{form.id}/sign").status_code == 404
