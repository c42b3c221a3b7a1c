"""The PDFs of a batch: the filing pack (认定计划申报表, 考务实施方案, roster, rooms and staff) as
one document, the admission tickets (准考证, two per A4 page), and a room's exam record
(考场记录). ID numbers are printed masked only; photos are embedded as data: URIs (the PDF
renderer loads nothing else)."""

from __future__ import annotations

import base64

from examsys import clock
from examsys.accounts.candidates import photo_path
from examsys.accounts.models import CertificateKind, Organisation
from examsys.assembly.models import Paper
from examsys.delivery.batches import services as svc
from examsys.delivery.exam import services as exam
from examsys.delivery.models import Batch, BatchRoom
from examsys.extensions import db
from examsys.reports.pdf import render_pdf
from examsys.standards.models import LEVELS, Standard

# 考场规则 printed on every admission ticket.
EXAM_RULES = [
    "考生凭准考证和有效身份证件，于考试开始前 15 分钟进入考场，按准考证上的考场和座位号就座。",
    "考试开始 15 分钟后不得进入考场；开考后 30 分钟内不得交卷离场。",
    "除规定的文具外，不得携带书籍、资料、手机及其他电子设备进入考场；已携带的须关机后放在指定位置。",
    "登录考试系统须使用本人准考证号和身份证号；不得代考，不得与他人交谈、传递物品或偷看他人答题。",
    "考试期间不得离开考试页面、复制粘贴或退出全屏；系统记录的异常情况将作为考场记录的依据。",
    "考试时间以服务器时间为准；到时未交卷的，由系统自动收卷。",
    "违反考场纪律的，由考评员记录并按有关规定处理，情节严重的终止其考试。",
]


def _local(value, fmt="%Y-%m-%d %H:%M") -> str:
    local = clock.to_display(value)
    return local.strftime(fmt) if local else ""


def _common(batch: Batch) -> dict:
    standard = db.session.get(Standard, batch.standard_id)
    org = db.session.get(Organisation, batch.organisation_id)
    paper = db.session.get(Paper, batch.paper_id) if batch.paper_id else None
    return {"batch": batch, "standard": standard, "org": org, "paper": paper,
            "level_label": LEVELS.get(batch.level, str(batch.level)), "window": svc.window_label(batch),
            "local": _local, "printed_at": _local(clock.now())}


def photo_uri(candidate) -> str | None:
    if not candidate.photo_sha256:
        return None
    path = photo_path(candidate.photo_sha256)
    if not path.exists():
        return None
    return "data:image/jpeg;base64," + base64.b64encode(path.read_bytes()).decode("ascii")


def filing_pack_pdf(batch: Batch, *, part: dict | None = None, roster: list | None = None) -> bytes:
    """The filing pack; with `part` ({index, count, first, last}) and `roster` (that part's
    entries, in seating order) one part of it: the forms in part 1, the roster's rows in each."""
    rooms = []
    counts = svc.room_counts(batch)
    for room in batch.rooms:
        rooms.append({"room": room, "count": counts.get(room.id, 0),
                      "proctors": [(s.user, svc.certificate_status(s.user, CertificateKind.EXAMINER, batch)[1])
                                   for s in svc.proctors_of(batch, room)]})
    supervisor = None
    if batch.supervisor is not None:
        supervisor = (batch.supervisor, svc.certificate_status(batch.supervisor, CertificateKind.SUPERVISOR,
                                                               batch)[1])
    markers = [s.user for s in svc.markers_of(batch)]
    if roster is None:
        roster = sorted(batch.roster, key=lambda e: (e.room.position if e.room else 999, e.seat_no or 0))
    return render_pdf("reports/delivery/filing_pack.html", rooms=rooms, supervisor=supervisor, markers=markers,
                      roster=roster, total=len(batch.roster), part=part, **_common(batch))


def ticket_order(batch: Batch) -> list:
    """The roster in the order tickets are printed: by room, then seat."""
    return sorted(batch.roster, key=lambda e: (e.room.position if e.room else 999, e.seat_no or 0))


def tickets_pdf(batch: Batch, *, entries: list | None = None) -> bytes:
    """The admission tickets of the batch, or of `entries` (a run of `ticket_order`, so that a
    long roster can be rendered part by part)."""
    roster = ticket_order(batch) if entries is None else entries
    tickets = [{"entry": e, "photo": photo_uri(e.candidate)} for e in roster]
    return render_pdf("reports/delivery/tickets.html", tickets=tickets, rules=EXAM_RULES, **_common(batch))


def room_record_pdf(batch: Batch, room: BatchRoom) -> bytes:
    record = exam.room_record(batch, room)
    return render_pdf("reports/delivery/room_record.html", record=record,
                      incident_labels=exam.INCIDENT_LABELS, **_common(batch))
