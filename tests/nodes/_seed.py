"""Seed a migrated database for the two-node test, in a process of its own (bench's `seed()` sets
EXAMSYS_* variables in os.environ and builds an app: neither may leak into the test process).

    python tests/nodes/_seed.py DATABASE_URL N TMPDIR OUT.json

bench/delivery.py's `seed()` (one filed batch open now, N roster entries), plus a proctor of
the batch (an examiner's certificate, staff of the batch) who signs in with the factories'
password. Writes {"batch_id", "logins": [{"ticket_no", "id_number"}, …], "proctor"} to OUT.json.
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

    from examsys import create_app
    from examsys.accounts.models import CertificateKind, Organisation
    from examsys.delivery.models import Batch, BatchStaff, StaffRole
    from examsys.extensions import db
    from examsys.permissions import Role
    from tests import factories

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "EXAMSYS_UPLOAD_DIR": str(tmp / "uploads"),
                      "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1}})
    with app.app_context():
        batch = db.session.get(Batch, seeded["batch_id"])
        make = factories.Factories(db)
        proctor = make.user(roles=(Role.PROCTOR,), org=db.session.get(Organisation, batch.organisation_id),
                            username="nodes-proctor", certificates=(CertificateKind.EXAMINER,))
        db.session.add(BatchStaff(batch_id=batch.id, room_id=None, user_id=proctor.id, role=StaffRole.PROCTOR))
        db.session.commit()
        db.session.remove()
        db.engine.dispose()
    seeded["proctor"] = {"username": "nodes-proctor", "password": factories.PASSWORD}
    out.write_text(json.dumps(seeded, ensure_ascii=False), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
