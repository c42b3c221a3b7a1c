"""Batch archives: a built archive holds every volume, the data and a signed manifest and verifies
offline; one changed byte of any file, a removed file, an edited event line, or a manifest signed
by another key is refused with the right message. The CLI builds and records the build; the
batch page's button downloads for the batch's admins and the province, and records it."""

from __future__ import annotations

import csv
import io
import json
import zipfile
from datetime import timedelta

import orjson
import pytest
from PIL import Image
from sqlalchemy import func, select

from examsys import audit, clock
from examsys.accounts import candidates
from examsys.accounts.models import CertificateKind, OrgKind
from examsys.audit import signing
from examsys.audit.actions import AuditAction
from examsys.audit.archive import build, notes
from examsys.audit.archive import verify as offline
from examsys.audit.models import AuditEvent
from examsys.audit.verify import batch_scopes, event_rows, verify_database
from examsys.delivery.batches import services as batches
from examsys.delivery.exam import services as exam
from examsys.delivery.models import BatchState
from examsys.errors import Conflict
from examsys.jobs.models import Job
from examsys.permissions import Role
from examsys.supervision import services as supervision
from tests import factories
from tests.delivery.world import build_world


def _photo() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (120, 160), (200, 180, 160)).save(out, "PNG")
    return out.getvalue()


def sit(w, entry: int, answers: dict) -> object:
    """Sign in, start, save `answers` (qtype → answer), submit; returns the attempt."""
    exam.login(w.tickets[entry], w.id_numbers[entry], ip="10.0.0.9", user_agent="pytest")
    attempt = exam.start_attempt(w.entries[entry])
    label = next(label for label, form in w.forms.items() if form.id == attempt.form_id)
    for n, (qtype, answer) in enumerate(answers.items(), 1):
        clock.freeze(clock.now() + timedelta(seconds=1))
        exam.save_response(attempt, w.form_items[(label, qtype)].id, answer, n, ip="10.0.0.9")
    exam.submit(attempt)
    return attempt


@pytest.fixture
def world(db, frozen_clock, app, tmp_path):
    """The delivery world's batch, closed: two candidates sat (one with a photo), one absent, an
    incident, a survey answer, a supervisor."""
    app.config["EXAMSYS_KEY_DIR"] = str(tmp_path / "keys")
    app.config["EXAMSYS_UPLOAD_DIR"] = str(tmp_path / "uploads")
    w = build_world(db)
    # The printed paper needs the blueprint's figures (the world keeps only its sections).
    w.paper.blueprint_snapshot = {**w.paper.blueprint_snapshot, "name": "考试细目表", "level": 4,
                                  "duration_minutes": 60, "total_points": 10, "pass_mark": 6, "forms": 2}
    make = factories.Factories(db)
    make.org(OrgKind.AUTHORITY)
    w.supervisor = make.user(roles=(Role.SUPERVISOR,))
    w.batch.supervisor_id = w.supervisor.id
    candidates.set_candidate_photo(w.entries[0].candidate, "photo.png", _photo())
    sit(w, 0, {"judge": True, "single": "B", "multi": ["A", "C"], "fill": ["50", "220"], "short": "断电后施救"})
    sit(w, 1, {"judge": False, "single": "A"})
    exam.proctor_note(w.proctor, w.batch, reason="考生2 举手询问，已答复", room_id=w.room.id)
    exam.submit_survey(w.entries[0], {f"q{i}": 5 for i in range(1, 6)}, "组织有序")
    batches.close_batch(w.admin, w.batch)
    db.session.commit()
    return w


@pytest.fixture
def built(world, db, tmp_path):
    path = tmp_path / "archive.zip"
    result = build.build_archive(world.batch, path)
    db.session.commit()
    return path, result


def _pubkey(world) -> str:
    return signing.public_verifier_key(world.org.code)


def _rewrite(src, dst, *, change=None, drop=None, extra=None):
    """Copy the zip `src` to `dst`, changing (name → new bytes), dropping or adding files."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == drop:
                continue
            data = zin.read(info.filename)
            if change and info.filename in change:
                data = change[info.filename](data)
            zout.writestr(info.filename, data)
        for name, data in (extra or {}).items():
            zout.writestr(name, data)
    return dst


def test_a_built_archive_holds_the_volumes_data_and_signed_manifest(built, world):
    path, result = built
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
        manifest = json.loads(zf.read("manifest.json"))
        events = [orjson.loads(line) for line in zf.read("data/events.jsonl").splitlines()]
        people = list(csv.reader(io.StringIO(zf.read("data/candidates.csv").decode("utf-8-sig"))))
    for no in range(1, 12):
        assert any(n.startswith(f"volumes/{no:02d}-") and n.endswith(".pdf") for n in names), no
    assert {"volumes/06-试卷-A卷.pdf", "volumes/06-答案-B卷.pdf", "volumes/02-签到表.pdf",
            "volumes/04-考场记录与异常情况-01-第1考场.pdf"} <= names
    assert {"data/results.csv", "data/answer_history.csv", "data/survey.csv", "pubkey.txt", "manifest.sig"} <= names
    assert {f["path"] for f in manifest["files"]} == names - {"manifest.json", "manifest.sig"}
    assert manifest["organisation"]["code"] == world.org.code and manifest["batch"]["id"] == world.batch.id
    assert manifest["retention_years"] == 5
    assert manifest["retain_until"] == (clock.to_display(world.batch.window_end).date()
                                        .replace(year=clock.to_display(world.batch.window_end).year + 5)).isoformat()
    rec = manifest["record"]
    assert rec["verified"] and rec["events"] == len(events) == sum(c["size"] for c in rec["chains"].values())
    assert set(rec["chains"]) == set(batch_scopes(world.batch.id))
    stored = list(event_rows(batch_scopes(world.batch.id)))
    # Everything but the build's own event, recorded after the build.
    assert [e["id"] for e in events] == [r.id for r in stored if r.action != "batch.archive_built"]
    assert people[1][3] == world.entries[0].candidate.id_number_masked and "*" in people[1][3]
    assert world.id_numbers[0] not in zf_text(path)
    # The build is in the batch's chain, after the events it archived, with the manifest's hash.
    event = db_event(AuditAction.BATCH_ARCHIVE_BUILT)
    assert event.data["manifest_sha256"] == result.manifest_sha256 and event.scope == f"batch/{world.batch.id}"
    assert verify_database(batch_scopes(world.batch.id)).ok


def zf_text(path) -> str:
    with zipfile.ZipFile(path) as zf:
        return "".join(zf.read(n).decode("utf-8", "ignore") for n in zf.namelist() if not n.endswith(".pdf"))


def db_event(action):
    from examsys.extensions import db

    return db.session.scalars(select(AuditEvent).where(AuditEvent.action == action.value)).one()


def test_a_built_archive_verifies_offline(built, world):
    path, _ = built
    result = offline.check(path, _pubkey(world))
    assert result.ok, result.problems
    assert len(result.checked) == 5 and not result.warnings
    assert any("Merkle 根：一致" in line for line in result.checked)
    # Without a key of its own the archive is checked with its pubkey.txt, and says so.
    alone = offline.check(path)
    assert alone.ok and alone.warnings


def test_one_changed_byte_of_any_file_is_refused(built, world, tmp_path):
    path, _ = built
    with zipfile.ZipFile(path) as zf:
        names = [n for n in zf.namelist() if n not in ("manifest.json", "manifest.sig")]
    for name in names:
        def flip(data: bytes) -> bytes:
            i = len(data) // 2
            return data[:i] + bytes([data[i] ^ 1]) + data[i + 1:]

        result = offline.check(_rewrite(path, tmp_path / "x.zip", change={name: flip}), _pubkey(world))
        assert not result.ok
        assert result.problems[0] == f"文件 {name} 的 SHA-256 与清单不符（文件被改动）", name


def test_a_removed_file_is_refused(built, world, tmp_path):
    path, _ = built
    result = offline.check(_rewrite(path, tmp_path / "x.zip", drop="volumes/05-督导记录.pdf"), _pubkey(world))
    assert result.problems[0] == "缺少文件 volumes/05-督导记录.pdf（清单中列出，档案中没有）"
    added = offline.check(_rewrite(path, tmp_path / "y.zip", extra={"volumes/99-补充.pdf": b"%PDF"}), _pubkey(world))
    assert added.problems[0] == "档案中有清单未列出的文件 volumes/99-补充.pdf"


def test_an_edited_event_line_is_refused_by_its_hash_and_by_its_chain(built, world, tmp_path):
    path, _ = built

    def edit(data: bytes) -> bytes:
        lines = data.split(b"\n")
        for i, line in enumerate(lines):
            if b'"attempt.answer_saved"' in line:
                event = orjson.loads(line)
                event["ip"] = "10.9.9.9"
                lines[i] = orjson.dumps(event)
                break
        return b"\n".join(lines)

    result = offline.check(_rewrite(path, tmp_path / "x.zip", change={"data/events.jsonl": edit}), _pubkey(world))
    assert result.problems[0] == "文件 data/events.jsonl 的 SHA-256 与清单不符（文件被改动）"
    assert any("内容与其哈希不符（记录被改动）" in p for p in result.problems)
    assert any(p.startswith("Merkle 根不符") for p in result.problems)


def test_a_manifest_signed_by_another_key_is_refused(built, world, tmp_path, db):
    path, result = built
    other = factories.Factories(db).org()
    with zipfile.ZipFile(path) as zf:
        body = zf.read("manifest.json")
    signed = notes.parse_note_text(signing.open_note(zipfile.ZipFile(path).read("manifest.sig").decode(),
                                                     _pubkey(world)))
    forged = signing.sign_note(notes.note_text(world.org.code, world.batch.id, result.manifest_sha256,
                                               signed["root"], signed["events"]), other.code)
    assert signing.key_name(other.code) in forged
    forged_zip = _rewrite(path, tmp_path / "x.zip", change={
        "manifest.sig": lambda _d: forged.encode(),
        "pubkey.txt": lambda _d: (signing.public_verifier_key(other.code) + "\n").encode()})
    refused = offline.check(forged_zip, _pubkey(world))
    assert not refused.ok
    assert refused.problems[0] == f"清单签名无效：签名文件中没有 {signing.key_name(world.org.code)} 的签名"
    # An edited manifest (another retention date) no longer matches its signature.
    edited = _rewrite(path, tmp_path / "y.zip", change={"manifest.json": lambda d: d.replace(b"20", b"21", 1)})
    assert offline.check(edited, _pubkey(world)).problems[0] == \
        "清单签名无效：签名针对的不是这份 manifest.json（清单被改动）"
    assert body


def test_an_open_batch_is_not_archived(db, frozen_clock, app, tmp_path):
    app.config["EXAMSYS_KEY_DIR"] = str(tmp_path / "keys")
    w = build_world(db)
    with pytest.raises(Conflict, match="考试结束后"):
        build.write_archive(w.batch, tmp_path / "a.zip")


def test_retention_follows_the_setting(world, db, app, tmp_path):
    app.config["EXAMSYS_ARCHIVE_RETENTION_YEARS"] = 30
    built = build.write_archive(world.batch, tmp_path / "a.zip")
    assert built.manifest["retention_years"] == 30
    assert built.manifest["retain_until"].startswith(str(clock.to_display(world.batch.window_end).year + 30))
    assert world.batch.state == BatchState.CLOSED


def test_an_event_recorded_during_the_archive_does_not_break_it(built, world, db, tmp_path):
    audit.record(AuditAction.BATCH_UPDATED, obj=world.batch, data={"note": "after"})
    again = build.write_archive(world.batch, tmp_path / "b.zip")
    assert offline.check(again.path, _pubkey(world)).ok


def test_a_verifier_key_whose_base64_holds_a_plus_parses():
    """Base64 has "+" in its alphabet: a key string splits at its first two "+" only."""
    seed = next(bytes([i]) * 32 for i in range(256)
                if "+" in signing.verifier_key("examsys-X", _key(bytes([i]) * 32).public_key()).split("+", 2)[2])
    key = _key(seed)
    text = signing.verifier_key("examsys-X", key.public_key())
    assert signing.parse_verifier_key(text)[0] == "examsys-X"


def _key(seed: bytes):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.from_private_bytes(seed)


# --- the batch page's button ------------------------------------------------------------------


@pytest.mark.parametrize(("roles", "same_org", "status"), [
    ((Role.EXAM_ADMIN,), True, 200), ((Role.ORG_ADMIN,), True, 200), ((Role.PROVINCIAL_ADMIN,), False, 200),
    ((Role.EXAM_ADMIN,), False, 404), ((Role.PROCTOR,), True, 403),
    # a supervisor not assigned to the batch does not learn it exists; the assigned one takes the archive away
    ((Role.SUPERVISOR,), False, 404), (("assigned supervisor",), False, 200),
])
def test_the_download_button_is_for_the_batchs_admins_and_the_province(world, db, client, make, roles, same_org,
                                                                         status, tmp_path):
    if roles == ("assigned supervisor",):
        province = make.org(OrgKind.AUTHORITY)
        admin = make.user(roles=Role.PROVINCIAL_ADMIN, org=province)
        user = make.user(roles=Role.SUPERVISOR, org=province, certificates=(CertificateKind.SUPERVISOR,))
        supervision.assign(admin, world.batch, user)
    else:
        other = make.user(roles=roles, org=world.org if same_org else None) if Role.SUPERVISOR not in roles else None
        user = other or world.supervisor
    db.session.commit()
    client.post("/login", data={"username": user.username, "password": factories.PASSWORD})
    page = client.get(f"/delivery/batches/{world.batch.id}")
    asked = client.post(f"/delivery/batches/{world.batch.id}/archive.zip")
    downloads = lambda: db.session.scalars(select(AuditEvent).where(  # noqa: E731
        AuditEvent.action == AuditAction.BATCH_ARCHIVE_DOWNLOADED.value)).all()
    if status != 200:
        assert asked.status_code == status
        assert db.session.scalar(select(func.count()).select_from(Job)) == 0
        assert downloads() == [] and "下载批次档案" not in page.get_data(as_text=True)
        return
    assert "下载批次档案" in page.get_data(as_text=True)
    assert asked.status_code == 302 and "/jobs/" in asked.location  # built by the job worker
    job_page = client.get(asked.location).get_data(as_text=True)
    assert "已完成" in job_page and "批次档案-" in job_page
    assert downloads() == []  # built, not yet taken
    job = db.session.scalar(select(Job))
    resp = client.get(f"/jobs/{job.id}/result")
    assert resp.status_code == 200 and resp.mimetype == "application/zip"
    path = tmp_path / "down.zip"
    path.write_bytes(resp.get_data())
    assert offline.check(path, _pubkey(world)).ok
    assert [(e.actor_user_id, e.scope) for e in downloads()] == [(user.id, f"batch/{world.batch.id}")]
    built = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == AuditAction.BATCH_ARCHIVE_BUILT.value)).all()
    assert [(e.actor_user_id, e.data["job"]) for e in built] == [(user.id, job.id)]


def test_the_archive_job_reports_its_progress(world, db, app, make, monkeypatch, tmp_path):
    """The build tells its job how far it got, from reading the record to signing."""
    seen = []
    built = build.write_archive(world.batch, tmp_path / "p.zip", progress=lambda f, stage: seen.append((f, stage)))
    assert offline.check(built.path, _pubkey(world)).ok
    fractions = [f for f, _s in seen]
    assert fractions == sorted(fractions) and fractions[0] < 0.1 and fractions[-1] > 0.9
    assert any("考生答卷" in stage for _f, stage in seen)


def test_an_open_batch_gets_no_archive_job(world, db, client):
    world.batch.state = BatchState.OPEN
    db.session.commit()
    client.post("/login", data={"username": world.admin.username, "password": factories.PASSWORD})
    resp = client.post(f"/delivery/batches/{world.batch.id}/archive.zip", follow_redirects=True)
    assert "考试结束后才能生成批次档案" in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Job)) == 0


def test_the_command_line_builds_and_verifies(world, db, app, tmp_path):
    path, key = tmp_path / "cli.zip", tmp_path / "key.txt"
    runner = app.test_cli_runner()
    out = runner.invoke(args=["archive", "build", str(world.batch.id), "-o", str(path)])
    assert out.exit_code == 0, out.output
    assert "批次档案已写入" in out.output
    key.write_text(_pubkey(world))
    ok = runner.invoke(args=["archive", "verify", str(path), "--pubkey", str(key)])
    assert ok.exit_code == 0 and "校验全部通过" in ok.output and "Merkle 根：一致" in ok.output
    broken = _rewrite(path, tmp_path / "x.zip", drop="data/results.csv")
    refused = runner.invoke(args=["archive", "verify", str(broken), "--pubkey", str(key)])
    assert refused.exit_code == 1 and "第一处：缺少文件 data/results.csv" in refused.output


def test_a_supervisor_change_is_in_the_supervision_record(world, db):
    from examsys.audit.archive import volumes
    from examsys.reports import archive as pdf

    timeline = volumes.Timeline()
    for row in event_rows(batch_scopes(world.batch.id)):
        timeline.add(row)
    assert timeline.supervision == []
    row = next(event_rows(batch_scopes(world.batch.id)))._replace(
        action="batch.filing_changed", scope=f"batch/{world.batch.id}",
        data={"reason": "督导员调整", "changes": {"supervisor_id": {"before": 1, "after": 2}}})
    timeline.add(row)
    assert [e["action"] for e in timeline.supervision] == ["变更备案信息"]
    assert pdf.describe(row.data) == "原因：督导员调整；变更：督导员：1 → 2"


def test_the_answer_sheets_show_each_candidates_facts_and_answers(built, world):
    from pypdf import PdfReader

    path, _result = built
    with zipfile.ZipFile(path) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("volumes/11-")]
        text = "".join(page.extract_text() for n in sheets for page in PdfReader(io.BytesIO(zf.read(n))).pages)
    entry = world.entries[0]
    for fact in ("姓名", "准考证号", "身份证号", "考场/座位", "试卷", "作答时间", "合计得分", entry.candidate.name,
                 entry.ticket_no, entry.candidate.id_number_masked):
        assert fact in text, fact
    assert world.id_numbers[0] not in text


def test_pdf_fonts_are_subset_without_copying_whole_font_files(app, monkeypatch):
    """A PDF embeds subsets of the CJK fonts, its text still reads back, and no font file was
    copied whole on the way (the copy cost ~25 MB per face and document)."""
    from pypdf import PdfReader
    from weasyprint.pdf import stream

    from examsys.reports import archive as archive_pdf
    from examsys.reports.pdf import lean_fonts, render_pdf

    assert lean_fonts() and lean_fonts()  # idempotent
    fonts = []
    clean = stream.Font.clean
    monkeypatch.setattr(stream.Font, "clean", lambda self, *a: (fonts.append(self.__dict__["_file_content"]),
                                                                  clean(self, *a))[1])
    with app.test_request_context():
        data = render_pdf("reports/archive/_volume.html", volume_no=1, volume_title=archive_pdf.VOLUMES[1],
                          batch={"name": "二〇二六年第一批", "id": 7}, org={"name": "测试机构", "code": "T1"},
                          standard={"name": "电工"}, level_label="四级", window="", part=None, printed_at="")
    assert fonts and all(not isinstance(content, bytes) for content in fonts)  # never loaded whole
    text = PdfReader(io.BytesIO(data)).pages[0].extract_text()
    assert "二〇二六年第一批" in text and "测试机构" in text
    assert len(data) < 2_000_000  # subsets: the collections are 19-27 MB each
