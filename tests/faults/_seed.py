"""Seed a migrated database for the fault tests, in a process of its own (bench's `seed()` sets
EXAMSYS_* variables in os.environ and builds an app: neither may leak into the test process).

    python tests/faults/_seed.py DATABASE_URL N TMPDIR OUT.json

Writes {"batch_id": …, "logins": [{"ticket_no", "id_number"}, …]} to OUT.json.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import delivery  # noqa: E402  (bench/delivery.py)


def main() -> int:
    url, n, tmp, out = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]), Path(sys.argv[4])
    seeded = delivery.seed(url, n, tmp)
    out.write_text(json.dumps(seeded, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
