"""Rosters (考生名单) of a batch: import from Excel with optional photos, admission-ticket numbers,
rooms, seats and paper forms.

The sheet has a header row (within its first ten rows) with 姓名 and 身份证号 and optionally
准考证号 and 照片 (a file name inside the uploaded zip of photos). Photos may also come without a
照片 column: a zip member named by the 身份证号 or the 准考证号 (e.g. ``110105199003071234.jpg``).
Import is all-or-nothing: any error (``FILE:ROW: 列名: message``) and nothing is written. Both
files are checked by ``interchange.safety`` before openpyxl or Pillow read them; formulas are
never evaluated (a formula cell is an error).

Ticket numbers, when the sheet gives none, are ``{year}{organisation id:04d}{batch id:05d}
{seq:04d}`` — year of the window's start (Beijing time), then fixed-width organisation and batch
ids and a per-batch sequence: 17 digits, unique because each part has a fixed width and batch ids
are unique (a collision with a number given in some sheet is skipped; the unique constraint on
roster_entries.ticket_no stands behind it).

Seats fill the rooms in order (room 1 seats 1…capacity, then room 2); forms alternate by seat
(A, B, A, …) so neighbours get different forms; each entry gets an ``order_seed`` and a
``start_delay_seconds`` uniform in [0, batch.start_jitter_seconds]."""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from sqlalchemy import select

from examsys import audit, clock
from examsys.accounts import idnumber
from examsys.accounts.candidates import (
    create_candidate,
    find_candidates_by_id_number,
    id_index,
    set_candidate_photo,
)
from examsys.accounts.models import Candidate, Organisation, User
from examsys.assembly.models import Paper
from examsys.audit.actions import AuditAction
from examsys.bank.assets import clean_image
from examsys.delivery.batches.common import form_labels
from examsys.delivery.models import Batch, BatchState, RosterEntry
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.interchange.model import HostileInputError, ImportIssue, InterchangeError
from examsys.interchange.safety import DEFAULT_LIMITS, Limits, check_sheet_rows, open_zip, read_member
from examsys.interchange.xlsx import cell_text, unreadable

HEADERS = {
    "name": ("姓名", "考生姓名"),
    "id_number": ("身份证号", "身份证号码", "证件号码", "公民身份号码"),
    "ticket_no": ("准考证号", "准考证号码"),
    "photo": ("照片", "照片文件", "照片文件名"),
}
COLUMN = {"name": "姓名", "id_number": "身份证号", "ticket_no": "准考证号", "photo": "照片"}
PHOTO_EXT = (".jpg", ".jpeg", ".png")
_TICKET = re.compile(r"^[A-Za-z0-9-]{4,32}$")
MAX_ROWS = 5000
PHOTO_MAX_BYTES = 2 * 1024 * 1024


@dataclass
class RosterRow:
    row: int
    name: str
    id_number: str  # normalised; never shown (the preview shows `masked`)
    masked: str
    ticket_no: str | None
    photo_member: str | None = None
    photo: bytes | None = None
    candidate_id: int | None = None  # an existing candidate of the organisation, reused


@dataclass
class RosterImportResult:
    dry_run: bool
    rows: list[RosterRow] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)
    imported: int = 0
    reused: int = 0
    photos: int = 0

    @property
    def ok(self) -> bool:
        return not self.errors


def _norm_header(value) -> str:
    return re.sub(r"[\s*（）()：:]", "", str(value or ""))


def _field_of(header) -> str | None:
    text = _norm_header(header)
    for key, names in HEADERS.items():
        if text in names:
            return key
    return None


def _read_sheet(filename: str, data: bytes, limits: Limits) -> tuple[dict[str, int], list[tuple[int, list]]]:
    """(column index per field, [(row number, cells)]) of the first sheet with a roster header."""
    from openpyxl import load_workbook  # heavy: loaded only when a roster file is read

    if data[:4] == b"\xd0\xcf\x11\xe0":
        raise InterchangeError(filename, "这是旧版 Excel（.xls）文件，请另存为 .xlsx 后再导入")
    archive = open_zip(filename, data, limits)
    if "xl/workbook.xml" not in archive.namelist():
        raise InterchangeError(filename, "不是 Excel（.xlsx）文件")
    check_sheet_rows(filename, archive, Limits(max_sheet_rows=MAX_ROWS + 10))  # a few rows above the header
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception as exc:  # openpyxl raises many types for broken or hostile files
        raise unreadable(filename, exc) from exc
    try:
        for ws in book.worksheets:
            ws.reset_dimensions()
            rows = ws.iter_rows()
            columns: dict[str, int] = {}
            for number, row in enumerate(rows, 1):
                columns = {}
                for idx, cell in enumerate(row):
                    key = _field_of(cell.value)
                    if key and key not in columns:
                        columns[key] = idx
                if "name" in columns and "id_number" in columns:
                    body = []
                    for n, r in enumerate(rows, number + 1):
                        body.append((n, [c.value for c in r]))
                        if len(body) > MAX_ROWS:
                            raise InterchangeError(filename, f"名单超过 {MAX_ROWS} 行，请分批导入")
                    return columns, body
                if number >= 10:
                    break
    except InterchangeError:
        raise
    except Exception as exc:
        raise unreadable(filename, exc) from exc
    finally:
        book.close()
    raise InterchangeError(filename, "没有找到表头（需要“姓名”和“身份证号”两列）")


def parse_roster(batch: Batch, filename: str, data: bytes, photos_name: str | None = None,
                 photos_data: bytes | None = None, *, limits: Limits = DEFAULT_LIMITS) -> RosterImportResult:
    """Read and check a roster against the batch; writes nothing. Raises InterchangeError for a
    file refused as a whole (hostile, unreadable, no header)."""
    result = RosterImportResult(dry_run=True)
    columns, body = _read_sheet(filename, data, limits)
    archive, members = None, {}
    if photos_data:
        photos_name = photos_name or "photos.zip"
        archive = open_zip(photos_name, photos_data, limits)
        members = {PurePosixPath(n).name: n for n in archive.namelist() if not n.endswith("/")}

    def err(row: int, col: str | None, message: str) -> None:
        result.errors.append(ImportIssue(f"{filename}:{row}", COLUMN.get(col, col) if col else None, message))

    existing_ids = {e.candidate.id_number_index: e for e in batch.roster}
    seen_ids: dict[str, int] = {}
    seen_tickets: dict[str, int] = {}

    for row, cells in body:
        def get(key: str, cells=cells) -> object:
            idx = columns.get(key)
            return cells[idx] if idx is not None and idx < len(cells) else None

        raw = {k: get(k) for k in COLUMN}
        if all(v is None or str(v).strip() == "" for v in raw.values()):
            continue
        bad = False
        for key, value in raw.items():
            if isinstance(value, str) and value.startswith("="):
                err(row, key, "单元格是公式，请改为文本")
                bad = True
        if bad:
            continue
        name = cell_text(raw["name"])
        if not name:
            err(row, "name", "姓名不能为空")
        elif len(name) > 100:
            err(row, "name", "姓名过长（最多 100 个字符）")
        number = None
        try:
            number = idnumber.validate(cell_text(raw["id_number"]))
        except idnumber.InvalidIdNumber as exc:
            err(row, "id_number", str(exc) if cell_text(raw["id_number"]) else "身份证号不能为空")
        ticket = cell_text(raw["ticket_no"]) or None
        if ticket is not None and not _TICKET.match(ticket):
            err(row, "ticket_no", "准考证号应为 4～32 位字母、数字或连字符")
            ticket = None
        candidate_id = None
        if number is not None:
            index = id_index(number)
            if number in seen_ids:
                err(row, "id_number", f"与第 {seen_ids[number]} 行的身份证号重复")
            elif index in existing_ids:
                err(row, "id_number", f"该考生已在本批次名单中（准考证号 {existing_ids[index].ticket_no}）")
            seen_ids.setdefault(number, row)
            found = find_candidates_by_id_number(number, batch.organisation_id)
            if found:
                candidate_id = found[0].id
                if name and found[0].name != name:
                    err(row, "name", f"与已登记考生的姓名“{found[0].name}”不一致")
        if ticket is not None:
            if ticket in seen_tickets:
                err(row, "ticket_no", f"与第 {seen_tickets[ticket]} 行的准考证号重复")
            elif db.session.scalar(select(RosterEntry.id).where(RosterEntry.ticket_no == ticket)):
                err(row, "ticket_no", f"准考证号 {ticket} 已被使用")
            seen_tickets.setdefault(ticket, row)
        photo_member, photo = None, None
        wanted = cell_text(raw["photo"])
        if wanted:
            if archive is None:
                err(row, "photo", f"指定了照片 {wanted}，但没有上传照片压缩包")
            elif PurePosixPath(wanted).name not in members:
                err(row, "photo", f"照片压缩包中没有文件 {wanted}")
            else:
                photo_member = members[PurePosixPath(wanted).name]
        elif archive is not None:
            for key in (number, ticket):
                for ext in PHOTO_EXT:
                    if key and f"{key}{ext}" in members:
                        photo_member = photo_member or members[f"{key}{ext}"]
                    if key and f"{key}{ext.upper()}" in members:
                        photo_member = photo_member or members[f"{key}{ext.upper()}"]
        if photo_member is not None:
            try:
                photo = read_member(photos_name, archive, photo_member)
                clean_image(photo_member, photo, max_bytes=PHOTO_MAX_BYTES)
            except HostileInputError:
                raise
            except (InterchangeError, ValidationError) as exc:
                err(row, "photo", getattr(exc, "message", str(exc)))
                photo = None
        if number is not None and name:
            result.rows.append(RosterRow(row=row, name=name, id_number=number, masked=idnumber.mask(number),
                                         ticket_no=ticket, photo_member=photo_member, photo=photo,
                                         candidate_id=candidate_id))
    if not result.rows and not result.errors:
        result.errors.append(ImportIssue(filename, None, "名单中没有考生"))
    seats = sum(r.capacity for r in batch.rooms)
    total = len(batch.roster) + len(result.rows)
    if not batch.rooms:
        result.errors.append(ImportIssue(filename, None, "批次尚未设置考场，请先编辑批次添加考场"))
    elif total > seats:
        result.errors.append(ImportIssue(filename, None, f"考场座位不足：共 {seats} 个座位，名单共 {total} 人"))
    result.reused = sum(1 for r in result.rows if r.candidate_id)
    result.photos = sum(1 for r in result.rows if r.photo)
    return result


def import_roster(actor: User, batch: Batch, filename: str, data: bytes, photos_name: str | None = None,
                  photos_data: bytes | None = None, *, dry_run: bool = False,
                  progress: Callable[[float, str], None] | None = None) -> RosterImportResult:
    """Check and (unless `dry_run`, and only when there is no error) add the candidates to the
    batch's roster: all or nothing. `progress(fraction, stage)`, if given, hears how far it got
    (a large import runs as a job). Raises Conflict once the batch is filed (the roster is
    locked), InterchangeError for a file refused as a whole."""
    if batch.state != BatchState.PLANNED:
        raise Conflict("批次已备案，考生名单已锁定")
    if progress is not None:
        progress(0.02, "正在检查名单")
    result = parse_roster(batch, filename, data, photos_name, photos_data)
    result.dry_run = dry_run
    if dry_run or result.errors:
        return result
    org = batch_org(batch)
    tickets = TicketNumbers(batch)
    for n, row in enumerate(result.rows):
        if progress is not None and n % 50 == 0:
            progress(0.1 + 0.85 * n / len(result.rows), f"正在登记考生 {n} / {len(result.rows)}")
        cand = db.session.get(Candidate, row.candidate_id) if row.candidate_id else \
            create_candidate(org, name=row.name, id_number=row.id_number)
        if row.photo is not None:
            set_candidate_photo(cand, row.photo_member or "photo", row.photo)
        entry = RosterEntry(candidate_id=cand.id, ticket_no=row.ticket_no or tickets.next(),
                            order_seed=secrets.randbelow(2**31),
                            start_delay_seconds=secrets.SystemRandom().randint(0, max(batch.start_jitter_seconds, 0)))
        batch.roster.append(entry)
        result.imported += 1
    db.session.flush()
    assign_seats(batch)
    db.session.flush()
    audit.record(AuditAction.BATCH_ROSTER_IMPORTED, obj=batch, data={"file": filename, "candidates": result.imported,
                                                         "reused": result.reused, "photos": result.photos,
                                                         "photos_file": photos_name if photos_data else None})
    return result


def batch_org(batch: Batch):
    return db.session.get(Organisation, batch.organisation_id)


class TicketNumbers:
    """Generated admission-ticket numbers of one batch (see the module docstring)."""

    def __init__(self, batch: Batch):
        year = clock.to_display(batch.window_start).year
        self.prefix = f"{year:04d}{batch.organisation_id:04d}{batch.id:05d}"
        taken = db.session.scalars(select(RosterEntry.ticket_no).where(
            RosterEntry.ticket_no.like(self.prefix + "%"))).all()
        self.taken = set(taken) | {e.ticket_no for e in batch.roster}
        self.seq = 0

    def next(self) -> str:
        while True:
            self.seq += 1
            number = f"{self.prefix}{self.seq:04d}"
            if number not in self.taken:
                self.taken.add(number)
                return number


def assign_seats(batch: Batch) -> None:
    """Give every entry without a seat the next free seat, filling rooms in order; then forms."""
    used = {(e.room_id, e.seat_no) for e in batch.roster if e.room_id is not None and e.seat_no is not None}
    free = [(room.id, seat) for room in batch.rooms for seat in range(1, room.capacity + 1)
            if (room.id, seat) not in used]
    waiting = sorted((e for e in batch.roster if e.room_id is None or e.seat_no is None),
                     key=lambda e: (e.id or 0, e.ticket_no))
    if len(waiting) > len(free):
        raise ValidationError(f"考场座位不足：还差 {len(waiting) - len(free)} 个座位")
    for entry, (room_id, seat) in zip(waiting, free, strict=False):
        entry.room_id, entry.seat_no = room_id, seat
    assign_forms(batch)


def assign_forms(batch: Batch) -> None:
    """Forms by seat: seat 1 A, seat 2 B, seat 3 A, … (over the paper's forms). A paper with one
    form per candidate gives every entry its own form instead, in roster order (room, seat,
    ticket): stored on the entry, so it holds across restarts and concurrent starts. Entries
    beyond the forms get none (filing refuses such a batch)."""
    labels = form_labels(batch)
    paper = db.session.get(Paper, batch.paper_id) if batch.paper_id else None
    if paper is not None and paper.per_candidate:
        room_order = {r.id: r.position for r in batch.rooms}
        entries = sorted(batch.roster, key=lambda e: (e.room_id is None, room_order.get(e.room_id, 0),
                                                      e.seat_no is None, e.seat_no or 0, e.ticket_no))
        for n, entry in enumerate(entries):
            entry.form_label = labels[n] if n < len(labels) else None
        db.session.flush()
        return
    for entry in batch.roster:
        if entry.seat_no is not None:
            entry.form_label = labels[(entry.seat_no - 1) % len(labels)]
    db.session.flush()


def clear_roster(actor: User, batch: Batch) -> int:
    """Remove every entry of a PLANNED batch (to import a corrected list). Raises Conflict once
    filed. Candidates stay registered."""
    if batch.state != BatchState.PLANNED:
        raise Conflict("批次已备案，考生名单已锁定")
    n = len(batch.roster)
    batch.roster.clear()
    db.session.flush()
    audit.record(AuditAction.BATCH_ROSTER_CLEARED, obj=batch, data={"removed": n})
    return n


def template_xlsx() -> bytes:
    """An empty roster sheet with the header row."""
    from openpyxl import Workbook  # heavy: loaded only when the template is asked for
    from openpyxl.styles import Font

    book = Workbook()
    ws = book.active
    ws.title = "考生名单"
    ws.append(["姓名", "身份证号", "准考证号", "照片"])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    ws.column_dimensions["B"].width = 24
    ws.column_dimensions["C"].width = 22
    ws.column_dimensions["D"].width = 26
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
