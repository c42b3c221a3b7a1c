"""The `examsys` command group: Flask's commands (db upgrade, run, shell, routes) plus examsys's own.

`examsys --help`, and every command that needs no database (`assembly solve`, `audit
check-proof`, `archive verify`), start without building the web app, and `--help` without
importing Flask at all: each command, Flask's and the plugins' included, is imported only when it
runs, by its `module:attribute` below (its one-line help is kept here, and a test holds the two
equal). Flask's command line is loaded when a command runs, which gives commands that need the
app (`with_appcontext`) examsys's factory to build it with.
"""

from __future__ import annotations

import contextlib
import importlib
import os
import sys
from typing import TYPE_CHECKING

import click

from examsys import create_app

if TYPE_CHECKING:
    from flask import Flask

# name → ("module:attribute", the help line `examsys --help` shows)
COMMANDS: dict[str, tuple[str, str]] = {
    "analysis": ("examsys.analysis.cli:analysis_cli",
                 "题目与试卷统计（离线）。"),
    "archive": ("examsys.audit.archive.cli:archive_cli",
                "批次档案：生成与离线校验 (batch archives: build and verify offline)."),
    "assembly": ("examsys.assembly.solve_cli:assembly_cli", "组卷：按细目表求解试卷。"),
    "audit": ("examsys.audit.cli:audit_cli",
              "过程记录：检查点、校验、公钥、包含证明 (the process record: checkpoints, verification, keys, "
              "inclusion proofs)."),
    "bank": ("examsys.bank.cli:bank_cli", "题库导入导出 (import and export the item bank)."),
    "campaign": ("examsys.campaign.cli:campaign_cli",
                 "质量提升行动：年度目标与证书数据预警 (campaign targets and certificate-data warnings)."),
    "create-admin": ("examsys.accounts.cli:create_admin",
                     "Create a provincial administrator with a password you type in (never a default one)."),
    "delivery": ("examsys.delivery.cli:delivery_cli", "考试实施：收卷等后台任务 (exam delivery jobs)."),
    "demo": ("examsys.demo.cli:demo", "Load the demo data (idempotent) and print the demo logins."),
    "jobs": ("examsys.jobs.cli:jobs_cli", "后台任务：批次档案等耗时工作的执行进程 (the job worker)."),
    "supervision": ("examsys.supervision.cli:supervision_cli",
                    "督导：双随机抽取的复现与随机种子 (repeat a 双随机 draw; seeds and commitments)."),
}
# Commands of Flask and of its extensions, which need the app.
FLASK_COMMANDS: dict[str, tuple[str, str]] = {
    "db": ("flask_migrate.cli:db", "Perform database migrations."),
    "limiter": ("flask_limiter.commands:cli", "Flask-Limiter maintenance & utility commands"),
    "routes": ("flask.cli:routes_command", "Show the routes for the app."),
    "run": ("flask.cli:run_command", "Run a development server."),
    "shell": ("flask.cli:shell_command", "Run a shell in the app context."),
}
ALL_COMMANDS = {**COMMANDS, **FLASK_COMMANDS}


def load_command(name: str) -> click.Command:
    module, _, attribute = ALL_COMMANDS[name][0].partition(":")
    return getattr(importlib.import_module(module), attribute)


# Commands cron runs every minute while candidates are being served. They give the CPU away before
# anything is imported: their start-up (the whole app, about 2 s of CPU) must not take a core
# from the web workers.
BACKGROUND = {("delivery", "sweep")}


def yield_cpu() -> None:
    """The lowest CPU priority for this process: nice 19, and, run without a terminal (cron,
    systemd, a script), nice 19 for its own scheduling group too. Linux gives each session a
    group of its own ("autogroup"), and groups share the CPU equally whatever their processes'
    nice: a cron job's session would otherwise weigh as much as all of gunicorn's workers (seen
    under load: a minute's sweep took 40-68 % of a core for 6 s and every request waited)."""
    with contextlib.suppress(OSError):
        os.nice(19 - os.nice(0))
    if sys.stdin is not None and sys.stdin.isatty():
        return  # typed in a terminal: the session's group is the user's shell, leave it alone
    with contextlib.suppress(OSError):
        os.setsid()  # a group of its own (already so when started as a session: EPERM, fine)
    with contextlib.suppress(OSError), open("/proc/self/autogroup", "w", encoding="ascii") as fh:
        fh.write("19")


class ExamsysGroup(click.Group):
    """A group whose commands are imported when they run, never to be listed."""

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return load_command(name) if name in ALL_COMMANDS else None

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(ALL_COMMANDS)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, ALL_COMMANDS[name][1]) for name in self.list_commands(ctx)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if tuple(args[:2]) in BACKGROUND and tuple(sys.argv[1:3]) == tuple(args[:2]):
            yield_cpu()  # the process is this command (not a test calling it in-process)
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context):
        # Flask's command-line state: a command that needs the app (`with_appcontext`) builds it
        # with examsys's factory. Loaded here, after --help has been answered without it.
        if ctx.obj is None:
            ctx.obj = importlib.import_module("flask.cli").ScriptInfo(create_app=create_app)
        return super().invoke(ctx)


@click.group(cls=ExamsysGroup,
             help="examsys: 职业技能等级认定在线考试与题库系统 (online exams and question banks).\n\n"
                  "Each of examsys's own commands is one transaction: it commits when the command succeeds "
                  "and writes nothing when it fails (每条命令为一个事务：成功则提交，失败则不写入).")
def main() -> None:
    """Entry point of the `examsys` console script."""


def register_cli(app: Flask) -> None:
    """examsys's commands on the app's own group too (`flask --app examsys …`)."""
    for name in COMMANDS:
        app.cli.add_command(load_command(name), name)
