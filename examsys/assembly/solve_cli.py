"""The offline solver CLI: ``examsys assembly solve`` for bank managers who test
a blueprint against a bank export. Owns only argument handling and exit codes;
the formats live in ``formats`` and the work in ``solver``.

Exit status: 0 forms written; 2 infeasible (reasons written); 3 timeout or
solver error (reasons written); 4 invalid input (nothing written).
"""

from __future__ import annotations

import click

from .jsonfiles import FormatError, load_bank, load_blueprint, write_forms
from .solver import DEFAULT_TIME_LIMIT, solve

EXIT_INFEASIBLE = 2
EXIT_TIMEOUT = 3
EXIT_BAD_INPUT = 4


@click.command("solve")
@click.option("--bank", "bank_path", required=True, type=click.Path(dir_okay=False),
              help="题库导出文件 BANK.json")
@click.option("--blueprint", "bp_path", required=True, type=click.Path(dir_okay=False),
              help="细目表 BP.json")
@click.option("--seed", default=0, show_default=True, type=int, help="随机种子（相同种子结果相同）")
@click.option("--time-limit", default=DEFAULT_TIME_LIMIT, show_default=True,
              type=click.FloatRange(min=0.1), help="求解时限（秒），超时即终止")
@click.option("-o", "--output", "out_path", required=True, type=click.Path(dir_okay=False),
              help="输出文件 FORMS.json")
def solve_command(bank_path: str, bp_path: str, seed: int, time_limit: float,
                  out_path: str) -> None:
    """按细目表从题库组卷，写出 FORMS.json。"""
    try:
        bank = load_bank(bank_path)
        spec = load_blueprint(bp_path)
    except FormatError as exc:
        click.echo(str(exc), err=True)
        raise SystemExit(EXIT_BAD_INPUT) from exc
    result = solve(bank, spec, seed=seed, time_limit=time_limit)
    write_forms(out_path, result)
    if result.status == "ok":
        sizes = "、".join(f"{f.label} 卷 {len(f.items)} 题" for f in result.forms)
        click.echo(f"组卷成功：{sizes}；用时 {result.stats.get('wall_seconds', 0):.2f} 秒 → {out_path}")
        return
    click.echo(f"组卷失败（{result.status}）：", err=True)
    for reason in result.reasons:
        click.echo(f"  - [{reason['rule']}] {reason['message']}", err=True)
    raise SystemExit(EXIT_INFEASIBLE if result.status == "infeasible" else EXIT_TIMEOUT)


assembly_cli = click.Group("assembly", help="组卷：按细目表求解试卷。")
assembly_cli.add_command(solve_command)


if __name__ == "__main__":
    assembly_cli()
