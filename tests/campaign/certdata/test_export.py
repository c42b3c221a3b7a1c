"""The export to the provincial platform: the documented fields, exactly, in xlsx and JSON."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import select

from examsys.audit.models import AuditEvent
from examsys.campaign.certdata import export
from examsys.campaign.certdata import services as svc
from tests.campaign.certdata.conftest import NOV, person

DOC = Path(__file__).resolve().parents[3] / "docs" / "certificate-data.md"


def _documented() -> list[tuple[str, str]]:
    text = DOC.read_text(encoding="utf-8")
    table = text.split("Fields of each record", 1)[1].split("\n\n", 2)[1]
    return re.findall(r"^\| `([a-z_0-9]+)` \| ([^|]+?) \|", table, re.M)


def _report(world):
    org = world.p.orgs[0]
    first = person(name="赵磊")
    batch = world.batch(org, NOV, [(*first, 82.5), (*person(), 61.0), (*person(), 30.0)])
    svc.run_check(world.exam_admins[org.id], batch)
    return svc.report(world.exam_admins[org.id], batch), first[1]


def test_the_document_lists_exactly_the_exported_fields():
    assert _documented() == [(key, label) for key, label, _get in export.FIELDS]


def test_json_and_xlsx_carry_the_documented_fields_and_are_audited(world, db):
    report, number = _report(world)
    user = world.exam_admins[report.organisation_id]
    doc = json.loads(export.as_json(user, report))
    assert doc["format"] == "examsys.certificate-data" and doc["report"]["records"] == 2
    assert [list(r) for r in doc["records"]] == [[k for k, _l, _g in export.FIELDS]] * 2
    first = doc["records"][0]
    assert first["id_number"] == number and first["name"] == "赵磊" and first["score"] == 82.5
    assert first["result"] == "合格" and first["level"] == 4 and first["gender"] in ("男", "女")
    sheet = load_workbook(io.BytesIO(export.as_xlsx(user, report))).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == [label for _k, label, _g in export.FIELDS]
    assert len(rows) == 3 and rows[1][3] == number
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "cert_report.exported")).all()
    assert [e.data["format"] for e in events] == ["json", "xlsx"]


def test_a_cell_that_looks_like_a_formula_is_neutralised():
    assert export.safe_cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert export.safe_cell("张伟") == "张伟"
