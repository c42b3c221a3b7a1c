"""`examsys demo`: load the demo data and print the demo logins."""

from __future__ import annotations

import json

import click
from flask.cli import with_appcontext

from examsys import transaction
from examsys.demo.loader import load_demo


@click.command("demo")
@click.option("--json", "as_json", is_flag=True, help="Print the demo logins as one JSON object.")
@with_appcontext
@transaction.command
def demo(as_json: bool) -> None:
    """Load the demo data (idempotent) and print the demo logins."""
    summary = load_demo()
    if as_json:
        click.echo(json.dumps(summary, ensure_ascii=False))
        return
    click.echo("演示机构 / demo organisations:")
    for org in summary["organisations"]:
        click.echo(f"  {org['code']:<10} {org['name']}（{org['kind']}）")
    click.echo("演示账户 / demo logins (demo only):")
    for user in summary["users"]:
        click.echo(f"  {user['username']:<16} {user['password']:<18} "
                   f"{','.join(user['roles']):<20} {user['organisation']}")
    for batch in summary.get("batches", []):
        click.echo(f"演示批次 / demo batch: #{batch['id']} {batch['name']}（{batch['state']}）")
    if summary.get("candidates"):
        coded = any(c.get("access_code") for c in summary["candidates"])
        columns = "准考证号 身份证号 考场口令" if coded else "准考证号 身份证号；不要求考场口令"
        click.echo(f"演示考生（{columns}）/ demo candidates — exam login at /exam/:")
        for cand in summary["candidates"][:10]:
            code = f"  {cand['access_code']}" if cand.get("access_code") else ""
            click.echo(f"  {cand['name']:<6} {cand['ticket_no']}  {cand['id_number']}{code}")
        if len(summary["candidates"]) > 10:
            click.echo(f"  … {len(summary['candidates']) - 10} more: examsys demo --json")
