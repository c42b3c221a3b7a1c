"""`examsys supervision …`: repeat a 双随机 draw from a published plan file and a revealed seed,
or make a seed and its commitment. Needs no database and never builds the web app (the group is
added to the top-level command, not to the app's)."""

from __future__ import annotations

import json
import secrets
from pathlib import Path

import click

from examsys.supervision import draw as drawing


@click.group("supervision", help="督导：双随机抽取的复现与随机种子 (repeat a 双随机 draw; seeds and commitments).")
def supervision_cli() -> None:
    pass


@supervision_cli.command("draw")
@click.option("--plan", "plan_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), required=True,
              help="计划文件（JSON，格式见 README）。")
@click.option("--seed", "seed_hex", required=True, help="公布的随机种子（十六进制）。")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出抽取结果。")
def draw_command(plan_path: Path, seed_hex: str, as_json: bool) -> None:
    """Draw batches and supervisors from PLAN with SEED: the same inputs always give the same draw."""
    try:
        plan = json.loads(plan_path.read_text(encoding="utf-8"))
        result = drawing.run(plan, seed_hex)
    except json.JSONDecodeError as exc:
        raise click.ClickException(f"{plan_path}：不是有效的 JSON（第 {exc.lineno} 行）") from exc
    except drawing.PlanError as exc:
        raise click.ClickException(f"{plan_path}：{exc}") from exc
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False, indent=2, sort_keys=True))
        return
    click.echo(f"计划 SHA-256 {result['plan_sha256']}\n种子 SHA-256 {result['seed_sha256']}")
    for pick in result["picks"]:
        click.echo(f"{pick['order']:>4}  {pick['batch']:<20} {pick['organisation']:<12} {pick['kind']:<9} "
                   f"{pick['city']:<8} {pick['supervisor'] or '（无可委派督导员）'}")
    for kind, row in result["coverage"]["kinds"].items():
        click.echo(f"{kind}: {row['drawn']}/{row['batches']} 已抽，最低 {row['minimum']}（{row['minimum_rate']:.0%}）"
                   f"{'，达标' if row['met'] else '，未达标'}")


@supervision_cli.command("seed")
def seed_command() -> None:
    """Print a new random seed and its SHA-256 commitment (publish the commitment, keep the seed)."""
    seed = secrets.token_hex(32)
    click.echo(f"seed       {seed}\ncommitment {drawing.commitment(seed)}")
