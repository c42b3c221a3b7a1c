"""Data shapes of the interchange package: drafts, issues, results and whole-file errors.

Parsers turn files into `ItemDraft`s whose `content` follows CONTENT_FORMAT.md; nothing
here knows about the database. The bank decides what to do with a `ParseResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

QTYPE_LABELS: dict[str, str] = {
    "judge": "判断题",
    "single": "单项选择题",
    "multi": "多项选择题",
    "fill": "填空题",
    "short": "简答题",
    "calc": "计算题",
    "essay": "论述题",
    "case": "案例分析题",
}
QTYPES = tuple(QTYPE_LABELS)
OBJECTIVE_QTYPES = frozenset({"judge", "single", "multi", "fill"})
OPEN_QTYPES = frozenset({"short", "calc", "essay", "case"})
CHOICE_QTYPES = frozenset({"single", "multi"})
OPTION_LABELS = "ABCDEFGH"

# Keys of ItemDraft.meta that every format knows how to carry.
META_KEYS = ("consistency", "origin")


@dataclass(frozen=True)
class SourceRef:
    """Where a draft came from: a file plus a row/line number or a question name."""

    file: str
    row: int | None = None
    name: str | None = None

    def __str__(self) -> str:
        if self.row is not None:
            return f"{self.file}:{self.row}"
        if self.name:
            return f"{self.file}:{self.name}"
        return self.file


@dataclass(frozen=True)
class Attachment:
    """A file embedded in or shipped with a question (an image, usually)."""

    name: str
    data: bytes


@dataclass
class ItemDraft:
    """One parsed question, not yet validated by the bank nor stored."""

    qtype: str
    content: dict
    difficulty: int | None = None
    kp_code: str | None = None
    kp_path: list[str] = field(default_factory=list)
    points: float | None = None
    external_id: str | None = None
    tags: list[str] = field(default_factory=list)
    source: SourceRef = field(default_factory=lambda: SourceRef(""))
    attachments: list[Attachment] = field(default_factory=list)
    # Free metadata of the national bank template (consistency 一致性, origin 出处).
    meta: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ImportIssue:
    """A problem with one question or row; `where` is usually str(SourceRef)."""

    where: str
    field: str | None
    message: str

    def __str__(self) -> str:
        if self.field:
            return f"{self.where}: {self.field}: {self.message}"
        return f"{self.where}: {self.message}"


def issues_summary(issues: list[ImportIssue], limit: int = 10) -> str:
    """The first `limit` issues as one line of Chinese ("文件:行 字段：说明；…") and how many more:
    what a failed import job says."""
    shown = "；".join(f"{i.where} {i.field or ''}：{i.message}".replace(" ：", "：") for i in issues[:limit])
    return shown + (f"（另有 {len(issues) - limit} 处）" if len(issues) > limit else "")


@dataclass
class ParseResult:
    """Everything a parser found. Callers import nothing unless `errors` is empty
    (or the user asked for a partial import); `unsupported` lists question types this
    system cannot hold, one by one; `notes` are harmless remarks (skipped descriptions,
    partial-credit answers that were dropped)."""

    items: list[ItemDraft] = field(default_factory=list)
    errors: list[ImportIssue] = field(default_factory=list)
    unsupported: list[ImportIssue] = field(default_factory=list)
    notes: list[ImportIssue] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors and not self.unsupported

    def extend(self, other: ParseResult) -> None:
        self.items.extend(other.items)
        self.errors.extend(other.errors)
        self.unsupported.extend(other.unsupported)
        self.notes.extend(other.notes)


class InterchangeError(Exception):
    """A whole file is refused (hostile, unreadable, wrong format); nothing in it is used."""

    def __init__(self, file: str, message: str, line: int | None = None):
        self.file = file
        self.message = message
        self.line = line
        super().__init__(str(self))

    def __str__(self) -> str:
        if self.line is not None:
            return f"{self.file}:{self.line}: {self.message}"
        return f"{self.file}: {self.message}"


class HostileInputError(InterchangeError):
    """Refused for safety (size, zip bomb, path traversal, DTD): never partially used,
    even when it is one member of a larger package."""


def make_content(
    qtype: str,
    stem: str,
    *,
    options: list[dict] | None = None,
    key=None,
    reference_answer: str = "",
    scoring_points: list[dict] | None = None,
    explanation: str = "",
) -> dict:
    """Build a content dict with every key of the contract present, so all parsers
    produce the same shape (options [] for non-choice types, key None for open ones)."""
    return {
        "stem": stem,
        "options": list(options or []),
        "key": key,
        "reference_answer": reference_answer if qtype in OPEN_QTYPES else "",
        "scoring_points": list(scoring_points or []) if qtype in OPEN_QTYPES else [],
        "explanation": explanation,
    }


def number(value: float) -> float | int:
    """Points as JSON-friendly numbers: 2 rather than 2.0."""
    return int(value) if float(value).is_integer() else float(value)
