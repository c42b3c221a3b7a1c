"""The demo blueprint (电工 四级, A/B forms) against the real demo data files: it assembles from
the approved items alone (no database), and, loaded through the ORM, idempotently creates one
blueprint whose papers meet every rule."""

from __future__ import annotations

from examsys.assembly import prefill, services
from examsys.assembly.checker import check_forms
from examsys.assembly.formats import BankItem
from examsys.assembly.solver import solve
from examsys.demo.blueprints import NAME, demo_blueprint_data, load_demo_blueprint
from examsys.permissions import Role
from tests.assembly.app_factories import demo_items, demo_tree, load_demo_world


def _importance(tree: dict) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(nodes):
        for node in nodes:
            out.update({p["code"]: p["importance"] for p in node.get("points") or []})
            walk(node.get("children") or [])

    walk(tree["ranges"])
    return out


def test_demo_blueprint_assembles_from_the_demo_files():
    tree = demo_tree()
    importance = _importance(tree)
    bank = [BankItem(id=it["id"], type=it["qtype"], kp=it["kp"], difficulty=it["difficulty"],
                     importance=importance[it["kp"]], points=it["points"])
            for it in demo_items() if it["status"] == "approved" and 4 in it["levels"]]
    data = demo_blueprint_data(prefill.tree_range_weights(tree, 4), standard_id=1)
    assert services.validate_blueprint(data) == []
    assert sum(s["count"] * s["points"] for s in data["sections"]) == 100
    spec = services.to_form_spec(data)
    for seed in (1, 2, 3):
        result = solve(bank, spec, seed=seed, time_limit=20)
        assert result.status == "ok", result.reasons
        assert [f.label for f in result.forms] == ["A", "B"]
        assert check_forms(bank, spec, result.forms) == []


def test_load_demo_blueprint_is_idempotent_and_assembles(db, make):
    org = make.org()
    admin = make.user(roles=Role.EXAM_ADMIN, org=org)
    standard = load_demo_world(org, admin)
    pb = load_demo_blueprint(org, standard, admin)
    assert load_demo_blueprint(org, standard, admin) is pb
    assert pb.name == NAME and pb.level == 4 and pb.forms == 2
    assert [(s["type"], s["count"]) for s in pb.sections] == [("judge", 20), ("single", 70), ("multi", 10)]
    assert {"kp_prefix": "B-01", "types": None, "min": 20, "max": 24} in pb.content_rules
    assert all(row["ok"] for row in services.feasibility(pb))
    paper = services.assemble(admin, pb, seed=5)
    assert paper.compliance["ok"] and [f.label for f in paper.forms] == ["A", "B"]
    services.freeze(admin, paper)
    assert services.assemble(admin, pb, seed=6).compliance["ok"]  # no exclusions: repeatable
