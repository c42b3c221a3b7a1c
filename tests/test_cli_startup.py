"""`examsys --help` and the commands that need no database start without the web app: checked on
what a fresh interpreter has imported (a timing test would be flaky; the import graph is not)."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from examsys.cli import ALL_COMMANDS, COMMANDS, load_command, main
from tests.assembly.test_solver_formats import BP, bank_doc, write

ROOT = Path(__file__).resolve().parent.parent
# Present only once the web app is being built (or its database layer loaded).
WEB_APP = {"examsys.web", "examsys.models", "examsys.extensions", "flask_sqlalchemy", "sqlalchemy"}


def _modules_after(args: list[str], cwd: Path) -> tuple[int, set[str]]:
    code = ("import json, sys\n"
            "from examsys.cli import main\n"
            f"rc = main({args!r}, standalone_mode=False)\n"
            "print(json.dumps({'rc': rc or 0, 'modules': sorted(sys.modules)}))\n")
    out = subprocess.run([sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=300,
                         env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)}, check=True)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return result["rc"], set(result["modules"])


def test_help_imports_neither_flask_nor_the_app(tmp_path):
    rc, modules = _modules_after(["--help"], tmp_path)
    assert rc == 0
    assert not modules & (WEB_APP | {"flask", "werkzeug"})
    assert not {m for m in modules if m.startswith("examsys.") and m not in {"examsys.cli", "examsys.config"}}


def test_assembly_solve_does_not_build_the_web_app(tmp_path):
    args = write(tmp_path, bank_doc(), BP)
    rc, modules = _modules_after(["assembly", *args], tmp_path)
    assert rc == 0 and json.loads((tmp_path / "FORMS.json").read_text(encoding="utf-8"))["status"] == "ok"
    assert not modules & WEB_APP


@pytest.mark.parametrize("name", sorted(ALL_COMMANDS))
def test_the_listed_help_is_the_commands_own(name):
    assert load_command(name).get_short_help_str(1000) == ALL_COMMANDS[name][1]


def test_help_lists_every_command():
    from click.testing import CliRunner

    result = CliRunner().invoke(main, ["--help"])
    assert result.exit_code == 0
    for name in ALL_COMMANDS:
        assert f"  {name} " in result.output


def test_the_app_has_examsys_commands_too(app):
    assert set(COMMANDS) <= set(app.cli.commands)


# Run as `examsys delivery sweep` (argv as cron gives it), stopping where the sweep would begin.
_SWEEP_START = """
import json, os, sys
import examsys.cli as cli
yield_cpu = cli.yield_cpu
def probe():
    before = [m for m in ("flask", "sqlalchemy", "examsys.web") if m in sys.modules]
    yield_cpu()
    group = open("/proc/self/autogroup").read() if os.path.exists("/proc/self/autogroup") else None
    print(json.dumps({"imported_before": before, "nice": os.nice(0), "group": group}))
    raise SystemExit(0)
cli.yield_cpu = probe
sys.argv = ["examsys", "delivery", "sweep"]
cli.main()
"""


def test_the_sweep_gives_the_cpu_away_before_the_app_starts(tmp_path):
    """cron's minute sweep starts at nice 19 in a scheduling group of its own at nice 19 (a
    session's group weighs as much as all of gunicorn's whatever the nice of its processes)."""
    out = subprocess.run([sys.executable, "-c", _SWEEP_START], cwd=tmp_path, capture_output=True, text=True,
                         timeout=120, stdin=subprocess.DEVNULL, env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
                         check=True)
    seen = json.loads(out.stdout.strip().splitlines()[-1])
    assert seen["imported_before"] == []
    assert seen["nice"] == 19
    if seen["group"] is not None:
        assert seen["group"].split()[-1] == "19"


def test_a_sweep_called_in_process_leaves_the_priority_alone(monkeypatch):
    import examsys.cli as cli

    calls = []
    monkeypatch.setattr(cli, "yield_cpu", lambda: calls.append(1))
    main.make_context("examsys", ["delivery", "sweep"])
    assert calls == []  # a test (or the flask command) calling it: not the process's own command
    monkeypatch.setattr(sys, "argv", ["examsys", "delivery", "sweep"])
    main.make_context("examsys", ["delivery", "sweep"])
    assert calls == [1]
