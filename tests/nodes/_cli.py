"""Several `examsys` commands in ONE process (importing the app once, not once per command):

    python tests/nodes/_cli.py 'delivery sweep' 'audit verify --json' …

Prints a JSON list of {"exit_code", "output"}, one per command, in order; the app comes from the
environment (EXAMSYS_DATABASE_URL …) as the `examsys` command's does."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from examsys import create_app  # noqa: E402


def main() -> int:
    runner = create_app().test_cli_runner()
    results = []
    for command in sys.argv[1:]:
        result = runner.invoke(args=shlex.split(command))
        results.append({"exit_code": result.exit_code, "output": result.output})
    print(json.dumps(results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
