"""Bridging the bank and the interchange formats: stored items → drafts for export, and one
import operation (parse a file, then hand its drafts to the bank's import service)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from examsys import interchange
from examsys.bank.importing import import_drafts
from examsys.bank.models import Item, ItemVersion
from examsys.extensions import db
from examsys.interchange import ImportIssue, InterchangeError, ItemDraft, SourceRef
from examsys.standards.models import AssessmentPoint

EXPORT_FORMATS = {"xlsx": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
                  "moodle-xml": ("xml", "application/xml"),
                  "qti3": ("zip", "application/zip")}


def version_to_draft(item: Item, version: ItemVersion, point_codes: dict[int, str]) -> ItemDraft:
    return ItemDraft(
        qtype=version.qtype.value,
        content=version.content,
        difficulty=version.difficulty,
        kp_code=point_codes.get(version.point_id) if version.point_id else None,
        points=version.points,
        external_id=item.external_id or f"examsys-{item.id}",
        source=SourceRef(file="examsys", name=str(item.id)),
    )


def export_items(items: list[Item], fmt: str, *, approved_only: bool = True) -> bytes:
    """Emit items (their approved version, or the latest one) in one interchange format."""
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f"unknown export format {fmt}")
    point_ids = {it.point_id for it in items if it.point_id}
    codes = dict(db.session.execute(select(AssessmentPoint.id, AssessmentPoint.code)
                                    .where(AssessmentPoint.id.in_(point_ids))).all()) if point_ids else {}
    drafts = []
    for item in items:
        version = item.active_version if approved_only else (item.latest_version or item.active_version)
        if version is not None:
            drafts.append(version_to_draft(item, version, codes))
    return interchange.emit(fmt, drafts)


def load_items_for_export(stmt) -> list[Item]:
    return list(db.session.scalars(stmt.options(selectinload(Item.active_version),
                                                selectinload(Item.latest_version))))


@dataclass
class FileImportResult:
    """What an import of one file did (or, on a dry run, would do)."""

    imported: int = 0
    skipped: int = 0
    by_type: dict[str, int] = field(default_factory=dict)
    errors: list[ImportIssue] = field(default_factory=list)
    unsupported: list[ImportIssue] = field(default_factory=list)
    notes: list[ImportIssue] = field(default_factory=list)
    dry_run: bool = False
    item_ids: list[int] = field(default_factory=list)
    # Categories naming no point of the standard (CategoryInfo), for the user to map.
    unmatched: list = field(default_factory=list)
    # Items that import as drafts lacking what review needs ("缺少评分要点"), one issue each.
    incomplete: list[ImportIssue] = field(default_factory=list)
    # The file as a whole could not be read (wrong format, malformed, too large): nothing to confirm.
    refused: bool = False

    @property
    def complete(self) -> bool:
        return not self.errors and not self.unsupported

    def as_json(self) -> dict:
        problems = self.errors + self.unsupported
        return {"imported": self.imported, "skipped": self.skipped, "by_type": self.by_type,
                "errors": [{"where": p.where + (f": {p.field}" if p.field else ""), "message": p.message}
                           for p in problems],
                "incomplete": [{"where": p.where, "message": p.message} for p in self.incomplete],
                "dry_run": self.dry_run}


def import_file(user, org, standard, filename: str, data: bytes, *, level: int | None = None,
                partial: bool = False, dry_run: bool = False, approve: bool = False,
                category_map: Mapping[str, int | None] | None = None, progress=None) -> FileImportResult:
    """Parse `data` and import its questions into `org`'s bank under `standard`.

    All-or-nothing unless `partial`: with any error (including a question type this system
    cannot hold, or an unmatched category left unmapped or mapped to "do not import") nothing is
    written. `category_map` is passed to `import_drafts`. Raises nothing for bad content (a file
    refused whole comes back as one error naming the file); raises what `import_drafts` raises
    (PermissionDenied; ValidationError for a bad level or a mapped point not of `standard`).
    `progress(fraction, stage)`: as `import_drafts` takes it (the import job's page)."""
    result = FileImportResult(dry_run=dry_run)
    try:
        parsed = interchange.parse_file(filename, data)
    except InterchangeError as exc:
        result.errors.append(ImportIssue(where=exc.file + (f":{exc.line}" if exc.line else ""),
                                         field=None, message=exc.message))
        result.refused = True
        return result
    result.unsupported = list(parsed.unsupported)
    result.notes = list(parsed.notes)
    result.errors = list(parsed.errors)
    blocked = bool(parsed.errors or parsed.unsupported) and not partial
    report = import_drafts(user, org, standard, parsed.items, level=level, approve=approve,
                                    partial=partial, dry_run=dry_run or blocked, category_map=category_map,
                                    progress=progress)
    result.errors.extend(report.errors)
    result.unmatched = list(report.unmatched)
    result.incomplete = list(report.incomplete)
    result.by_type = dict(report.by_type)
    if blocked or (report.errors and not partial):
        result.imported = 0
        result.skipped = len(parsed.items) + len(parsed.unsupported) + len(parsed.errors)
    else:
        result.imported = report.imported
        result.skipped = len(parsed.items) - report.imported + len(parsed.unsupported) + len(parsed.errors)
        result.item_ids = list(getattr(report, "item_ids", []))
    return result
