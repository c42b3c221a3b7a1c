"""Building a batch archive: the volumes as PDFs, the data as CSV and JSON Lines, and the signed
manifest, written into one zip file as they are made (each document is rendered, deflated into
the zip and dropped before the next), so a batch of any size builds in bounded memory.

The record is read once: one pass over the batch's chains (examsys.audit.verify.event_rows in
(scope, seq) order) writes data/events.jsonl, feeds the verification (`check_rows`, then
`check_history` over the answer history written to data/answer_history.csv), collects the
Merkle leaves and the chain heads, and gathers the attempts' timelines for the hand-out log.
So the verification volume, the manifest's root and heads and the data files all describe the
same events, even if someone appends to the batch's chain meanwhile.

`build_archive` (the CLI) and the archive job (`jobs`, asked for on the batch page) record that
they did so in the batch's chain after the build: the event holds the manifest's SHA-256, so the
record vouches for the archive handed out. Both flush and never commit."""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import hashlib
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import orjson
from flask import current_app
from sqlalchemy import select

from examsys import audit, clock
from examsys.audit import chain, merkle, signing
from examsys.audit.actions import AuditAction
from examsys.audit.archive import datafiles, notes, volumes
from examsys.audit.models import AnswerHistory
from examsys.audit.verify import (
    EventRow,
    Report,
    batch_scopes,
    canonical_of,
    check_history,
    check_rows,
    event_rows,
    seal_claims,
)
from examsys.delivery.exam import services as exam
from examsys.delivery.models import Batch, BatchState
from examsys.delivery.scoring import services as scoring
from examsys.errors import Conflict
from examsys.extensions import db
from examsys.reports import archive as pdf
from examsys.reports import delivery as delivery_pdf
from examsys.reports import papers as papers_pdf
from examsys.reports import results as results_pdf

FORMAT = notes.FORMAT
MANIFEST, SIGNATURE, PUBKEY = notes.MANIFEST, notes.SIGNATURE, notes.PUBKEY
ARCHIVABLE = (BatchState.CLOSED, BatchState.MARKED, BatchState.REVIEWED, BatchState.PUBLISHED, BatchState.ARCHIVED)
# Candidates per document of the long volumes: WeasyPrint holds a whole document in memory (a
# 250-row table peaked ~48 MB above the build, 125 rows ~35 MB). The answer sheets stay at 50 a
# document: each document costs a fixed ~130 ms (fonts, stylesheet, subsetting), and that is what
# batching them saves over one PDF per candidate (bench/archive.py).
SIGN_IN_PART = 100
TABLE_PART = 125
SHEETS_PART = 50
HISTORY_FETCH = 5000


@dataclass
class Built:
    path: Path
    manifest: dict
    manifest_sha256: str

    @property
    def summary(self) -> dict:
        rec = self.manifest["record"]
        return {"manifest_sha256": self.manifest_sha256, "files": len(self.manifest["files"]),
                "merkle_root": rec["merkle_root"], "events": rec["events"], "verified": rec["verified"],
                "retain_until": self.manifest["retain_until"]}


def _libc_trim():
    """glibc's malloc_trim, or None elsewhere."""
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


_TRIM = _libc_trim()


def release_memory() -> None:
    """Hand the pages of the document just rendered back to the system. WeasyPrint frees its
    layout and the font subsetting's buffers (see `reports.pdf.lean_fonts` for the whole font
    files it no longer copies), but glibc keeps the freed pages, and the next document would
    start from that height."""
    gc.collect()
    if _TRIM is not None:
        _TRIM(0)


class _Sink:
    def __init__(self, out):
        self.out, self.digest, self.size = out, hashlib.sha256(), 0

    def write(self, data: bytes) -> None:
        self.out.write(data)
        self.digest.update(data)
        self.size += len(data)


class _Zip:
    """The archive being written: each file deflated in as it comes, its SHA-256 and size noted."""

    def __init__(self, path: Path, progress: Callable[[float, str], None] | None = None):
        self.zf = zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6, allowZip64=True)
        self.files: list[dict] = []
        self.progress = progress

    def step(self, fraction: float, stage: str) -> None:
        """Report how far the build got (a job's progress bar); nothing when nobody listens."""
        if self.progress is not None:
            self.progress(fraction, stage)

    def add(self, name: str, data: bytes) -> None:
        self.zf.writestr(name, data)
        self.files.append({"path": name, "sha256": hashlib.sha256(data).hexdigest(), "size": len(data)})
        if name.endswith(".pdf"):
            release_memory()

    @contextmanager
    def writing(self, name: str) -> Iterator[_Sink]:
        """A file written piece by piece (`sink.write(bytes)`), hashed as it goes."""
        sink = _Sink(self.zf.open(name, "w", force_zip64=True))
        try:
            yield sink
        finally:
            sink.out.close()
        self.files.append({"path": name, "sha256": sink.digest.hexdigest(), "size": sink.size})

    def close(self) -> None:
        self.zf.close()


# --- the record, in one pass -------------------------------------------------------------------


@dataclass
class RecordPass:
    """What one pass over the batch's chains gave: the verification report, the Merkle root over
    the events in file order, and the attempts' timelines."""

    scopes: list[str]
    report: Report
    root: str
    timeline: volumes.Timeline


def write_record(out: _Zip, batch: Batch) -> RecordPass:
    """Write data/events.jsonl and data/answer_history.csv, verifying as they are written."""
    scopes = batch_scopes(batch.id)
    timeline = volumes.Timeline()
    leaves: list[bytes] = []
    with out.writing(datafiles.EVENTS) as sink:
        def rows() -> Iterator[EventRow]:
            for row in event_rows(scopes):
                sink.write(datafiles.event_line(row))
                leaves.append(merkle.leaf_hash(canonical_of(row)))
                timeline.add(row)
                yield row

        report, saves = check_rows(rows(), seals=seal_claims(scopes))
    attempts = [ident for kind, ident in map(chain.parse_scope, scopes) if kind == "attempt"]
    h = AnswerHistory.__table__
    stmt = (select(h.c.attempt_id, h.c.form_item_id, h.c.seq, h.c.answer, h.c.flagged, h.c.saved_at)
            .where(h.c.attempt_id.in_(attempts or [-1])).order_by(h.c.attempt_id, h.c.form_item_id, h.c.seq))
    with out.writing(datafiles.HISTORY) as sink:
        sink.write(datafiles.history_header())

        def history() -> Iterator[tuple]:
            streamed = stmt.execution_options(stream_results=True, max_row_buffer=HISTORY_FETCH)
            for part in db.session.connection().execute(streamed).partitions(HISTORY_FETCH):
                for r in part:
                    sink.write(datafiles.history_line(*r))
                    yield r[0], r[1], r[2], r[3]

        check_history(history(), saves, report, set(attempts))
    return RecordPass(scopes, report, merkle.root_of_hashes(leaves).hex(), timeline)


# --- the volumes -------------------------------------------------------------------------------


def parts(rows: list, size: int) -> Iterator[tuple[dict | None, list]]:
    """(part, rows of the part); part None when the volume fits in one document."""
    count = max(1, -(-len(rows) // size))
    for i in range(count):
        chunk = rows[i * size:(i + 1) * size]
        part = None if count == 1 else {"index": i + 1, "count": count, "first": i * size + 1,
                                        "last": i * size + len(chunk)}
        yield part, chunk


def _name(no: int, title: str, part: dict | None = None, suffix: str = "") -> str:
    tail = f"-part{part['index']:02d}" if part else ""
    return f"volumes/{no:02d}-{title}{suffix}{tail}.pdf"


def write_volumes(out: _Zip, batch: Batch, record: RecordPass) -> list[dict]:
    """Render every volume into the zip; returns the candidate rows (for the data files)."""
    head = volumes.header(batch)
    entries = volumes.roster(batch)
    attempts = volumes.attempts_by_entry(batch)
    rows = volumes.candidate_rows(entries, attempts, volumes.sign_ins(batch), record.timeline)
    out.step(0.2, "正在生成案卷：备案材料、签到表、试卷交接记录")
    for part, chunk in parts(entries, TABLE_PART):
        out.add(_name(1, pdf.VOLUMES[1], part), delivery_pdf.filing_pack_pdf(batch, part=part, roster=chunk))
    by_photo = {e.candidate.photo_sha256: e.candidate for e in entries if e.candidate.photo_sha256}
    for part, chunk in parts(rows, SIGN_IN_PART):
        photos = {r["photo_sha256"]: by_photo[r["photo_sha256"]] for r in chunk if r["photo_sha256"]}
        out.add(_name(2, pdf.VOLUMES[2], part), pdf.sign_in_pdf(head, chunk, part, photos))
    summary = volumes.handout_summary(rows)
    for part, chunk in parts(rows, TABLE_PART):
        first = part is None or part["index"] == 1
        out.add(_name(3, pdf.VOLUMES[3], part), pdf.handout_pdf(head, chunk, part, summary if first else None))
    out.step(0.35, "正在生成案卷：考场记录、督导记录、试卷与答案、评价结果、复核记录")
    rooms = [exam.room_record(batch, room) for room in batch.rooms]
    out.add(_name(4, pdf.VOLUMES[4]), pdf.incidents_pdf(head, rooms, volumes.incident_rows(batch, entries, attempts)))
    for n, room in enumerate(batch.rooms, 1):
        out.add(_name(4, pdf.VOLUMES[4], suffix=f"-{n:02d}-{room.name}"), delivery_pdf.room_record_pdf(batch, room))
    out.add(_name(5, pdf.VOLUMES[5]), pdf.supervision_pdf(head, volumes.supervision(batch, record.timeline)))
    paper = head["paper"]
    for view in volumes.paper_views(batch):
        out.add(_name(6, "试卷", suffix=f"-{view.label}卷"), papers_pdf.paper_pdf(paper, view, head["standard"]))
        out.add(_name(6, "答案", suffix=f"-{view.label}卷"), papers_pdf.answer_key_pdf(paper, view, head["standard"]))
    scores = scoring.score_list(batch)
    stats = results_pdf.score_list_stats(scores)
    for part, chunk in parts(scores, TABLE_PART):
        out.add(_name(7, pdf.VOLUMES[7], part), results_pdf.score_list_pdf(batch, rows=chunk, stats=stats, part=part))
    del scores
    out.add(_name(8, pdf.VOLUMES[8]), pdf.reviews_pdf(head, volumes.review_record(batch)))
    out.add(_name(9, pdf.VOLUMES[9]), pdf.survey_pdf(head, volumes.survey_summary(batch)))
    who = {f"attempt/{r['attempt_id']}": f"{r['name']} {r['ticket_no']}" for r in rows if r["attempt_id"]}
    who |= {f"entry/{r['entry_id']}": f"{r['name']} {r['ticket_no']}（登录）" for r in rows}
    chains = [(scope, size, h) for scope, (size, h) in sorted(record.report.heads.items())]
    for part, chunk in parts(chains, TABLE_PART):
        out.add(_name(10, pdf.VOLUMES[10], part),
                pdf.verification_pdf(head, record.report, record.root, chunk, who, part))
    sheets = volumes.AnswerSheets(batch)
    sat = [r for r in rows if r["attempt_id"]]
    for part, chunk in parts(sat, SHEETS_PART):
        done = (part["index"] - 1) / part["count"] if part else 0.0
        which = f"（{part['first']}–{part['last']}）" if part else ""
        out.step(0.5 + 0.45 * done, f"正在生成考生答卷{which}")
        out.add(_name(11, pdf.VOLUMES[11], part), pdf.answer_sheets_pdf(head, sheets.sheets(chunk), part))
        db.session.expire_all()  # let the chunk's ORM objects go
    return rows


def write_tables(out: _Zip, batch: Batch, rows: list[dict]) -> None:
    """The data files for people and spreadsheets (data/*.csv, data/batch.json)."""
    out.add("data/candidates.csv", datafiles.csv_bytes(
        ("序号", "准考证号", "姓名", "身份证号（脱敏）", "考场", "座位", "试卷", "签到时间", "开始作答", "交卷/收卷",
         "收卷方式", "作答题数", "状态"),
        ((r["no"], r["ticket_no"], r["name"], r["id_masked"], r["room"], r["seat"], r["form"], r["signed_in"],
          r["started"], r["finished"], r["finish_how"], r["answered"], r["status"]) for r in rows)))
    sections = scoring.section_meta(batch)
    out.add("data/results.csv", datafiles.csv_bytes(
        ("准考证号", "姓名", "身份证号（脱敏）", *(f"{s['numeral']}、{s['name']}" for s in sections),
         "原始总分", "总分", "结果", "含更正", "复核人", "复核时间"),
        ((r.entry.ticket_no, r.name, r.id_masked,
          *({s["index"]: s["score"] for s in r.sections}.get(s["index"]) for s in sections),
          r.result.total if r.result else None, r.result.final_total if r.result else None, r.status_label,
          "是" if r.corrected else "", r.result.reviewed_by.display_name if r.result and r.result.reviewed_by else "",
          r.result.reviewed_at if r.result else None) for r in scoring.score_list(batch))))
    entries = volumes.roster(batch)
    out.add("data/incidents.csv", datafiles.csv_bytes(
        ("时间", "类别", "考场", "考生", "情况与原因", "记录人", "延长分钟"),
        ((i["at"], i["kind"], i["room"], i["who"], i["reason"], i["by"], i["minutes"])
         for i in volumes.incident_rows(batch, entries, volumes.attempts_by_entry(batch)))))
    out.add("data/score_reviews.csv", datafiles.csv_bytes(
        ("准考证号", "范围", "申请理由", "申请时间", "答复期限", "答复时间", "结果", "答复"),
        ((q.roster_entry.ticket_no, q.scope_label, q.reason, q.applied_at, q.due_at, q.answered_at, q.outcome_label,
          q.answer or "") for q in scoring.review_requests(batch))))
    survey = volumes.survey_summary(batch)
    out.add("data/survey.csv", datafiles.csv_bytes(
        ("准考证号", *(k for k, _t in exam.SURVEY_QUESTIONS), "满意", "意见建议", "提交时间"),
        ((s.roster_entry.ticket_no, *(s.answers.get(k) for k, _t in exam.SURVEY_QUESTIONS),
          "是" if s.satisfied else "否", s.comment, s.submitted_at) for s in survey["responses"])))
    head = volumes.header(batch)
    out.add("data/batch.json", orjson.dumps({
        "id": batch.id, "name": batch.name, "organisation": head["org"].name, "standard": head["standard"].name,
        "level": head["level_label"], "venue": batch.venue, "window": head["window"], "state": batch.state_label,
        "paper": head["paper"].name if head["paper"] else None, "duration_minutes": batch.duration_minutes,
        "supervisor": batch.supervisor.display_name if batch.supervisor else None,
        "rooms": [{"name": r.name, "capacity": r.capacity} for r in batch.rooms],
        "filed_at": batch.filed_at and chain.iso_utc(batch.filed_at),
        "published_at": batch.published_at and chain.iso_utc(batch.published_at)},
        option=orjson.OPT_INDENT_2) + b"\n")


# --- the archive -------------------------------------------------------------------------------


def retain_until(batch: Batch, years: int) -> date:
    """The exam's last day (Asia/Shanghai) plus `years` (29 February → 28 February)."""
    last = clock.to_display(batch.window_end).date()
    try:
        return last.replace(year=last.year + years)
    except ValueError:
        return last.replace(year=last.year + years, day=28)


def write_archive(batch: Batch, path: Path, *, retention_years: int | None = None,
                  progress: Callable[[float, str], None] | None = None) -> Built:
    """Build the archive of `batch` into `path` (records nothing), telling `progress(fraction,
    stage)` how far it got. Raises Conflict for a batch that is not closed yet."""
    if batch.state not in ARCHIVABLE:
        raise Conflict(f"批次状态为“{batch.state_label}”，考试结束后才能生成批次档案")
    years = retention_years or current_app.config["EXAMSYS_ARCHIVE_RETENTION_YEARS"]
    org = volumes.header(batch)["org"]
    out = _Zip(path, progress)
    try:
        out.step(0.02, "正在读取并校验过程记录")
        record = write_record(out, batch)
        rows = write_volumes(out, batch, record)
        out.step(0.96, "正在生成数据文件并签名")
        write_tables(out, batch, rows)
        out.add(PUBKEY, (signing.public_verifier_key(org.code) + "\n").encode())
        manifest = manifest_of(batch, org, record, out.files, years)
        body = orjson.dumps(manifest, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS) + b"\n"
        sha = hashlib.sha256(body).hexdigest()
        out.zf.writestr(MANIFEST, body)
        out.zf.writestr(SIGNATURE, signing.sign_note(
            notes.note_text(org.code, batch.id, sha, record.root, record.report.events), org.code))
    finally:
        out.close()
    return Built(path, manifest, sha)


def manifest_of(batch: Batch, org, record: RecordPass, files: list[dict], years: int) -> dict:
    report = record.report
    return {
        "format": FORMAT, "built_at": chain.iso_utc(clock.now()),
        "batch": {"id": batch.id, "name": batch.name, "state": batch.state.value, "level": batch.level,
                  "standard_id": batch.standard_id, "venue": batch.venue,
                  "window_start": chain.iso_utc(batch.window_start), "window_end": chain.iso_utc(batch.window_end)},
        "organisation": {"id": org.id, "code": org.code, "name": org.name},
        "retention_years": years, "retain_until": retain_until(batch, years).isoformat(),
        "record": {"events": report.events, "chains": {s: {"size": n, "head": h}
                                                       for s, (n, h) in sorted(report.heads.items())},
                   "merkle_root": record.root, "history_rows": report.history_rows, "verified": report.ok,
                   "failures": [f.as_dict() for f in report.failures[:50]]},
        "signing_key": signing.key_name(org.code),
        "files": files,
    }


def build_archive(batch: Batch, path: Path, *, retention_years: int | None = None) -> Built:
    """The CLI's build: write the archive, then record BATCH_ARCHIVE_BUILT (flushed)."""
    built = write_archive(batch, path, retention_years=retention_years)
    audit.record(AuditAction.BATCH_ARCHIVE_BUILT, obj=batch, data=built.summary)
    return built


__all__ = ["ARCHIVABLE", "FORMAT", "MANIFEST", "PUBKEY", "SIGNATURE", "Built",
           "build_archive", "manifest_of", "parts", "retain_until", "write_archive"]
