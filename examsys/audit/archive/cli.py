"""`examsys archive build|verify`: the batch archive from the command line. `build` is one
transaction (it records that the archive was built); `verify` needs neither the database nor the
application. Register with `app.cli.add_command(archive_cli)`."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from examsys import transaction
from examsys.audit.archive import build, verify
from examsys.delivery.models import Batch
from examsys.errors import NotFound
from examsys.extensions import db


@click.group("archive", help="批次档案：生成与离线校验 (batch archives: build and verify offline).")
def archive_cli() -> None:
    pass


@archive_cli.command("build")
@click.argument("batch_id", type=int)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="写入的 zip 文件。")
@click.option("--retention-years", type=click.IntRange(1, 100),
              help="保存期限（年），默认取 EXAMSYS_ARCHIVE_RETENTION_YEARS。")
@with_appcontext
@transaction.command
def build_command(batch_id: int, output: Path, retention_years: int | None) -> None:
    """Build the archive of a closed batch: volumes as PDFs, data, signed manifest."""
    batch = db.session.get(Batch, batch_id)
    if batch is None:
        raise NotFound(f"批次 {batch_id} 不存在")
    built = build.build_archive(batch, output, retention_years=retention_years)
    summary = built.summary
    click.echo(f"批次档案已写入 {output}：{summary['files']} 个文件，{summary['events']} 个事件，"
               f"Merkle 根 {summary['merkle_root']}，保存至 {summary['retain_until']}。")
    click.echo(f"清单 SHA-256：{summary['manifest_sha256']}")
    if not summary["verified"]:
        click.echo("注意：生成时过程记录校验未通过，详见档案第 10 卷。", err=True)


@archive_cli.command("verify")
@click.argument("archive", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--pubkey", "pubkey_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="机构公钥文件（examsys audit pubkey 的输出，另行取得）；不给则用档案自带的 pubkey.txt。")
def verify_command(archive: Path, pubkey_file: Path | None) -> None:
    """Check an archive offline: files, signature, chains, answer history, Merkle root.
    Exit status 0 only when everything holds."""
    verifier = pubkey_file.read_text(encoding="utf-8").strip() if pubkey_file else None
    result = verify.check(archive, verifier)
    for line in result.checked:
        click.echo(f"✓ {line}")
    for line in result.warnings:
        click.echo(f"! {line}")
    if result.ok:
        click.echo("结果：批次档案完整，校验全部通过。")
        return
    click.echo(f"结果：未通过，{len(result.problems)} 处问题。第一处：{result.problems[0]}")
    for line in result.problems[1:20]:
        click.echo(f"  另：{line}")
    sys.exit(1)
