"""The archive's machine-readable files and their exact formats, shared by the build and the
offline verification (which must read them back without the database):

- data/events.jsonl: one event per line, `examsys.audit.verify.row_as_dict` as JSON, in (scope,
  seq) order — the Merkle tree's leaf order;
- data/answer_history.csv: every acknowledged save (attempt, form item, seq, the answer as
  JSON, flagged, saved_at), the answer exactly as stored so its digest can be recomputed;
- data/candidates.csv, data/results.csv, data/incidents.csv, data/score_reviews.csv,
  data/survey.csv and data/batch.json for people and spreadsheets.

CSV files are UTF-8 with a byte-order mark (spreadsheets then read the Chinese right), comma
separated, CRLF line ends (RFC 4180); cells a spreadsheet would evaluate get a leading quote."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any

import orjson

from examsys.audit import chain
from examsys.audit.verify import EventRow, row_as_dict, row_from_dict
from examsys.reports.results import safe_cell

EVENTS = "data/events.jsonl"
HISTORY = "data/answer_history.csv"
HISTORY_FIELDS = ("attempt_id", "form_item_id", "seq", "answer_json", "flagged", "saved_at")
BOM = "\ufeff"


def csv_bytes(header: Iterable[str], rows: Iterable[Iterable[Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow([safe_cell(_cell(v)) for v in row])
    return (BOM + out.getvalue()).encode("utf-8")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return chain.iso_utc(value)
    if value is None:
        return ""
    return value


def event_line(row: EventRow) -> bytes:
    return orjson.dumps(row_as_dict(row)) + b"\n"


def read_events(lines: Iterable[bytes]) -> Iterator[EventRow]:
    """Parse data/events.jsonl; raises ValueError naming the line that is not an event."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            values = orjson.loads(line)
            if not isinstance(values, dict):
                raise ValueError
        except ValueError:
            raise ValueError(f"{EVENTS} 第 {n} 行不是 JSON 对象") from None
        yield row_from_dict(values)


def history_header() -> bytes:
    return (BOM + ",".join(HISTORY_FIELDS) + "\r\n").encode("utf-8")


def history_line(attempt_id: int, form_item_id: int, seq: int, answer: Any, flagged: bool | None,
                 saved_at: datetime) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow([
        attempt_id, form_item_id, seq, orjson.dumps(answer).decode(), "" if flagged is None else int(flagged),
        chain.iso_utc(saved_at)])
    return out.getvalue().encode("utf-8")


def read_history(text: str) -> Iterator[tuple[int, int, int, Any]]:
    """(attempt, form item, seq, answer) of data/answer_history.csv; ValueError names the row."""
    reader = csv.reader(io.StringIO(text.removeprefix(BOM)))
    header = next(reader, None)
    if tuple(header or ()) != HISTORY_FIELDS:
        raise ValueError(f"{HISTORY} 的表头不正确")
    for n, row in enumerate(reader, 2):
        try:
            yield int(row[0]), int(row[1]), int(row[2]), orjson.loads(row[3])
        except (IndexError, ValueError):
            raise ValueError(f"{HISTORY} 第 {n} 行格式不正确") from None


__all__ = ["EVENTS", "HISTORY", "HISTORY_FIELDS", "csv_bytes", "event_line", "history_header", "history_line",
           "read_events", "read_history"]
