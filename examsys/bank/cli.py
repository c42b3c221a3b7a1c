"""`examsys bank import|export`: the bank's files from the command line."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from examsys import transaction
from examsys.accounts.models import Organisation, User, UserRole
from examsys.bank import exchange
from examsys.bank.models import Item, ItemStatus, QType
from examsys.extensions import db
from examsys.permissions import Role, may_import_items
from examsys.standards.models import AssessmentPoint, Standard, StandardStatus


@click.group("bank", help="题库导入导出 (import and export the item bank).")
def bank_cli() -> None:
    pass


def _standard(code: str, edition: str | None):
    stmt = select(Standard).where(Standard.code == code)
    stmt = stmt.where(Standard.edition == edition) if edition else stmt.where(
        Standard.status == StandardStatus.CURRENT)
    standard = db.session.scalars(stmt.order_by(Standard.edition.desc())).first()
    if standard is None:
        raise click.ClickException(f"职业标准 {code}{' ' + edition if edition else ''} 不存在")
    return standard


def _org(code: str):
    org = db.session.scalar(select(Organisation).where(Organisation.code == code))
    if org is None:
        raise click.ClickException(f"机构 {code} 不存在")
    return org


def _importer(org, username: str | None):
    """The user the import is recorded under: --as, else the organisation's first writer."""
    stmt = select(User).where(User.organisation_id == org.id)
    if username:
        stmt = stmt.where(User.username == username)
    else:
        stmt = stmt.join(UserRole).where(UserRole.role == Role.WRITER)
    user = db.session.scalars(stmt.order_by(User.id)).first()
    if user is None:
        raise click.ClickException(f"机构 {org.code} 中没有可记为导入人的命题专家（用 --as 指定用户名）")
    return user


def _load_map(path: Path, standard) -> dict[str, int | None]:
    """MAPPING.json {"category key": "point code" (or null / "" for "do not import")} → point ids."""
    try:
        raw = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise click.ClickException(f"{path}: 无法读取映射文件：{exc}") from exc
    if not isinstance(raw, dict) or not all(isinstance(v, str | None) for v in raw.values()):
        raise click.ClickException(f'{path}: 映射文件应为 {{"分类": "鉴定点代码", ...}}')
    codes = dict(db.session.execute(select(AssessmentPoint.code, AssessmentPoint.id).where(
        AssessmentPoint.standard_id == standard.id)).all())
    mapping: dict[str, int | None] = {}
    for key, code in raw.items():
        code = (code or "").strip()
        if code and code not in codes:
            raise click.ClickException(f"{path}: {key}: 鉴定点代码 {code} 不在标准 {standard.code} 中")
        mapping[key] = codes[code] if code else None
    return mapping


def _print_categories(unmatched, mapping: dict[str, int | None], as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps({"categories": [{**c.as_json(), "mapped": c.key in mapping} for c in unmatched]},
                              ensure_ascii=False))
        return
    if not unmatched:
        click.echo("所有分类都已对应到鉴定点")
    for c in unmatched:
        mark = "（已映射）" if c.key in mapping else ""
        click.echo(f"{c.key or '（无分类）'}\t{c.count} 道{mark}")
        for s in c.suggestions:
            click.echo(f"    {s.code}\t{s.name}\t{s.score:.2f}")


@bank_cli.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--org", "org_code", required=True, help="Organisation code (机构代码).")
@click.option("--standard", "standard_code", required=True, help="Standard code, e.g. 6-31-01-03.")
@click.option("--edition", default=None, help="Standard edition (default: the current one).")
@click.option("--level", type=click.IntRange(1, 5), default=None, help="Level 1-5 for items that give none.")
@click.option("--partial", is_flag=True, help="Import the good items and list the rest (default: all or nothing).")
@click.option("--dry-run", is_flag=True, help="Show what would be imported; write nothing.")
@click.option("--approve", is_flag=True, help="Items arrive approved (the importing user must be a reviewer).")
@click.option("--as", "username", default=None, help="Username the import is recorded under.")
@click.option("--map", "map_file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help='MAPPING.json placing categories that match no point: {"category key": "point code"}; '
                   'a null or "" code means "do not import" (those items are skipped, so they need --partial).')
@click.option("--show-categories", is_flag=True,
              help="Write nothing; list the file's unmatched categories with item counts and suggested "
                   "points (as JSON with --json).")
@click.option("--json", "as_json", is_flag=True, help='Print {"imported", "skipped", "by_type", "errors"}.')
@with_appcontext
@transaction.command
def import_cmd(file: Path, org_code: str, standard_code: str, edition: str | None, level: int | None,
               partial: bool, dry_run: bool, approve: bool, username: str | None, map_file: Path | None,
               show_categories: bool, as_json: bool) -> None:
    """Import questions from FILE (.xlsx, Moodle XML, GIFT, QTI .xml or .zip).

    Categories (a point code, or a path of names such as Moodle's
    $course$/电工基础/直流电路) place each question on the standard's
    assessment point. A category key is the code, or the path's names joined
    with " / " (e.g. "电工基础 / 直流电路"). Keys naming no single point are
    errors unless --map places them; --show-categories lists them first:

    \b
      examsys bank import q.xml --org ORG --standard 6-31-01-03 --show-categories --json
      {"categories": [{"key": "电工基础 / 欧姆定律", "count": 3,
        "suggestions": [{"point_id": 7, "code": "A-01-001", "name": "直流电路", "score": 0.3}],
        "mapped": false}]}
      examsys bank import q.xml --org ORG --standard 6-31-01-03 --map mapping.json
      mapping.json: {"电工基础 / 欧姆定律": "A-01-001", "杂项": null}

    Exit status 0 when everything asked for was imported (or the categories
    were listed), 1 otherwise."""
    org = _org(org_code)
    standard = _standard(standard_code, edition)
    user = _importer(org, username)
    may_import_items(user, org.id, approve=approve).enforce()
    mapping = _load_map(map_file, standard) if map_file else {}
    dry_run = dry_run or show_categories
    result = exchange.import_file(user, org, standard, file.name, file.read_bytes(), level=level,
                                  partial=partial, dry_run=dry_run, approve=approve, category_map=mapping)
    if dry_run or not result.imported:
        transaction.discard()
    if show_categories:
        _print_categories(result.unmatched, mapping, as_json)
        sys.exit(0)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False))
    else:
        verb = "可导入" if dry_run else "已导入"
        click.echo(f"{verb} {result.imported} 道，跳过 {result.skipped} 道 "
                   + " ".join(f"{t}={n}" for t, n in sorted(result.by_type.items())))
        for issue in result.errors + result.unsupported:
            click.echo(f"  {issue}", err=True)
        unmapped = [c for c in result.unmatched if c.key not in mapping]
        if unmapped:
            click.echo(f"  {len(unmapped)} 个分类未对应鉴定点：用 --show-categories 查看，用 --map 映射", err=True)
    sys.exit(0 if result.complete and (result.imported or dry_run) else 1)


@bank_cli.command("export")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "moodle-xml", "qti3"]), required=True)
@click.option("-o", "output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--org", "org_code", default=None, help="Only this organisation's items.")
@click.option("--standard", "standard_code", default=None)
@click.option("--qtype", default=None, help="judge|single|multi|fill|short|calc|essay|case")
@click.option("--point", "code_prefix", default=None, help="Range or assessment-point code prefix.")
@with_appcontext
def export_cmd(fmt: str, output: Path, org_code: str | None, standard_code: str | None, qtype: str | None,
               code_prefix: str | None) -> None:
    """Export approved items to the Excel template, Moodle XML or a QTI 3.0 package."""
    stmt = select(Item).where(Item.status == ItemStatus.APPROVED).order_by(Item.id)
    if org_code:
        stmt = stmt.where(Item.organisation_id == _org(org_code).id)
    if standard_code:
        stmt = stmt.where(Item.standard_id == _standard(standard_code, None).id)
    if qtype:
        stmt = stmt.where(Item.qtype == QType(qtype))
    if code_prefix:
        stmt = stmt.join(AssessmentPoint, AssessmentPoint.id == Item.point_id).where(
            AssessmentPoint.code.startswith(code_prefix))
    items = exchange.load_items_for_export(stmt)
    output.write_bytes(exchange.export_items(items, fmt))
    click.echo(f"exported {len(items)} items to {output}")
