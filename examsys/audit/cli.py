"""`examsys audit …`: checkpoints, verification, public keys and inclusion proofs of the process
record. Register with `app.cli.add_command(audit_cli)`."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from flask.cli import with_appcontext

from examsys import transaction
from examsys.audit import checkpoints, proofs, runs, signing
from examsys.audit.verify import Report


@click.group("audit", help="过程记录：检查点、校验、公钥、包含证明 (the process record: checkpoints, "
                           "verification, keys, inclusion proofs).")
def audit_cli() -> None:
    pass


@audit_cli.command("checkpoint")
@click.option("--org", "org_code",
              help="机构代码：只含该机构的链，用该机构的密钥签名；不给则全省，由省级主管部门签名。")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="写入的文件（请保存在数据库以外的地方）。")
@with_appcontext
@transaction.command
def checkpoint_command(org_code: str | None, output: Path) -> None:
    """Write a signed checkpoint: every chain's size and head hash (C2SP signed note)."""
    note = checkpoints.take(org_code)
    output.write_text(note, encoding="utf-8")
    chains = note.split("\n", 2)[1]
    click.echo(f"检查点已写入 {output}：{chains} 条链。")


def _print_report(report: Report, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(report.as_dict(), ensure_ascii=False, indent=2))
        return
    click.echo(f"校验 {report.scopes} 条链、{report.events} 个事件、{report.history_rows} 条作答历史，"
               f"用时 {report.seconds} 秒。")
    if report.ok:
        click.echo("结果：全部通过。")
        return
    click.echo(f"结果：未通过，{len(report.failures)} 处问题。第一处：")
    first = report.first
    click.echo(f"  链 {first.scope}，第 {first.seq if first.seq is not None else '-'} 条"
               f"{f'（事件 {first.event_id}）' if first.event_id else ''}：{first.what}")
    for failure in report.failures[1:20]:
        click.echo(f"  另：链 {failure.scope}，第 {failure.seq if failure.seq is not None else '-'} 条：{failure.what}")


@audit_cli.command("verify")
@click.option("--batch", "batch_id", type=int, help="只校验该批次的链（批次链与各考生作答链）。")
@click.option("--checkpoint", "checkpoint_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="与该签名检查点比对：发现被截断的尾部或恢复的旧数据库。")
@click.option("--pubkey", "pubkey_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="检查点签名者的公钥文件（examsys audit pubkey 的输出）；不给则用本机该机构的密钥。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出结果。")
@with_appcontext
@transaction.command
def verify_command(batch_id: int | None, checkpoint_file: Path | None, pubkey_file: Path | None,
                   as_json: bool) -> None:
    """Verify every chain link by link, the seals, the answer history and, if given, a checkpoint.
    Exit status 0 only when everything verifies; the first broken event is printed."""
    note = checkpoint_file.read_text(encoding="utf-8") if checkpoint_file else None
    verifier = pubkey_file.read_text(encoding="utf-8").strip() if pubkey_file else None
    report = runs.verify(batch_id, note, verifier)
    _print_report(report, as_json)
    if not report.ok:
        sys.exit(1)  # the run is still recorded (transaction.command commits before exiting)


@audit_cli.command("pubkey")
@click.option("--org", "org_code", required=True, help="机构代码。")
@with_appcontext
def pubkey_command(org_code: str) -> None:
    """Print the organisation's verifier key (give it to whoever checks its checkpoints and archives)."""
    click.echo(signing.public_verifier_key(org_code))


@audit_cli.command("prove")
@click.option("--batch", "batch_id", type=int, required=True)
@click.option("--event", "event_id", type=int, required=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
@transaction.command
def prove_command(batch_id: int, event_id: int, output: Path) -> None:
    """Write the inclusion proof of one event in its batch's Merkle tree (JSON)."""
    proof = proofs.prove(batch_id, event_id)
    output.write_text(json.dumps(proof, ensure_ascii=False, indent=2), encoding="utf-8")
    click.echo(f"证明已写入 {output}：批次 {batch_id} 的 {proof['size']} 个事件中的第 {proof['index'] + 1} 个，"
               f"根哈希 {proof['root']}。")


@audit_cli.command("check-proof")
@click.argument("proof_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--root", help="信任的根哈希（如批次档案签名清单中的）；不给则用证明自带的。")
def check_proof_command(proof_file: Path, root: str | None) -> None:
    """Check an inclusion proof offline, without the database."""
    try:
        proof = json.loads(proof_file.read_text(encoding="utf-8"))
    except ValueError:
        raise click.ClickException(f"{proof_file}：不是 JSON 文件") from None
    holds, why = proofs.check_proof(proof, root)
    click.echo(why)
    if not holds:
        sys.exit(1)
