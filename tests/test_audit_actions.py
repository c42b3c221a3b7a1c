"""The audit vocabulary: every action is an AuditAction with one tense, an object prefix that is a
model's audit name, and a Chinese label; record() takes nothing else; stored names migrate."""

import ast
import importlib.util
import re
from pathlib import Path

import flask_migrate
import pytest
from sqlalchemy import select, text

from examsys import audit, create_app
from examsys.audit.actions import AuditAction, label_for
from examsys.audit.models import AuditEvent
from examsys.delivery.exam.proctoring import INCIDENT_ACTIONS
from examsys.delivery.models import IncidentKind
from examsys.extensions import db as _db
from examsys.permissions import Role

ROOT = Path(__file__).resolve().parent.parent
CJK = re.compile(r"[\u4e00-\u9fff]")
# Events about no stored object are named after what was refused, or are about the record as a whole.
NON_MODEL_PREFIXES = {"permission", "audit_log"}


def audit_names() -> set[str]:
    return {getattr(m.class_, "__audit_type__", None) or m.class_.__tablename__
            for m in _db.Model.registry.mappers}


@pytest.mark.parametrize("action", list(AuditAction))
def test_every_action_has_a_chinese_label(action):
    assert action.label.strip() and CJK.search(action.label)


# `<object>.<verb>`: the verb a past participle (regular, or one of the irregular ones used),
# optionally after the thing it happened to (`results_computed`) and before a particle
# (`logged_in`, `timed_out`) or a purpose (`flagged_for_revision`). Never an imperative.
PAST_PARTICIPLE = re.compile(r"[a-z]+(_[a-z]+)*\.([a-z]+_)*([a-z]+ed|set|reset|frozen|given|built)"
                             r"(_in|_out|_for_[a-z_]+)?")


@pytest.mark.parametrize("action", list(AuditAction))
def test_every_action_is_object_dot_past_participle(action):
    assert PAST_PARTICIPLE.fullmatch(action.value), action.value
    assert action.name == action.value.upper().replace(".", "_")


@pytest.mark.parametrize("imperative", ["paper.freeze", "item.create", "batch.file", "attempt.timeout",
                                        "item.flag_revision", "auth.login", "candidate.photo"])
def test_the_tense_rule_refuses_the_old_names(imperative):
    assert not PAST_PARTICIPLE.fullmatch(imperative)


def test_every_prefix_is_a_models_audit_name(app):
    names = audit_names()
    unknown = {a.value for a in AuditAction if a.object_type not in names | NON_MODEL_PREFIXES}
    assert not unknown


def test_labels_are_unique():
    labels = [a.label for a in AuditAction]
    assert len(labels) == len(set(labels))


def test_label_of_a_stored_string():
    assert label_for("paper.frozen") == "试卷定稿"
    assert label_for("legacy.thing") == "legacy.thing"
    assert label_for(None) == ""


def test_every_incident_kind_has_its_action():
    assert set(INCIDENT_ACTIONS) == set(IncidentKind)
    assert all(a.object_type == "incident" for a in INCIDENT_ACTIONS.values())


def test_record_refuses_an_unknown_string(db):
    with pytest.raises(ValueError):
        audit.record("paper.freeze")
    with pytest.raises(ValueError):
        audit.record("anything.else", data={"x": 1})


def test_record_takes_a_members_value_and_stores_the_value(db):
    ev = db.session.get(AuditEvent, audit.record("permission.denied", data={}).id)
    assert ev.action == "permission.denied" and isinstance(ev.action, str)
    ev = audit.record(AuditAction.PERMISSION_DENIED)
    assert type(db.session.scalar(select(AuditEvent.action).where(AuditEvent.id == ev.id))) is str


def test_record_refuses_an_action_about_another_object(db):
    with pytest.raises(ValueError, match="paper.frozen"):
        audit.record(AuditAction.PAPER_FROZEN, object_type="batch", object_id=1)


def _record_calls(tree: ast.AST):
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
        if name == "record" and node.args:
            yield node, node.args[0]
        for kw in node.keywords:
            if kw.arg == "action" and name != "get":
                yield node, kw.value


def _stringy(expr: ast.AST) -> bool:
    """A literal, an f-string or a string built at run time (concatenation, format, join)."""
    match expr:
        case ast.Constant(value=str()) | ast.JoinedStr() | ast.BinOp():
            return True
        case ast.IfExp(body=body, orelse=orelse):
            return _stringy(body) or _stringy(orelse)
        case ast.Call(func=ast.Attribute(value=value)):
            return _stringy(value)
    return False


def test_no_action_is_written_as_a_string():
    offenders = []
    for path in sorted((ROOT / "examsys").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for call, action in _record_calls(tree):
            if _stringy(action):
                offenders.append(f"{path.relative_to(ROOT)}:{call.lineno}")
    assert not offenders, "audit actions written as strings, not AuditAction members: " + ", ".join(offenders)


def test_the_walker_finds_string_actions():
    src = 'audit.record("x.y", obj=o)\nrecord(f"p.{k}")\naudit.record("a_" + b)\n_transition(a, action="t.u")'
    assert sum(_stringy(a) for _, a in _record_calls(ast.parse(src))) == 4
    assert not any(_stringy(a) for _, a in _record_calls(ast.parse("audit.record(AuditAction.PAPER_FROZEN)")))


def _migration():
    [path] = (ROOT / "migrations" / "versions").glob("*_audit_action_vocabulary.py")
    spec = importlib.util.spec_from_file_location("audit_action_vocabulary", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_migration_renames_into_the_vocabulary():
    renamed = _migration().RENAMED
    values = {a.value for a in AuditAction}
    assert set(renamed.values()) <= values
    assert not set(renamed) & values  # no old name is still in use, so no rename is chained
    assert len(set(renamed.values())) == len(renamed)  # and downgrade is unambiguous


def test_the_log_page_shows_the_label(client, login_as, db):
    login_as(Role.PROVINCIAL_ADMIN)
    audit.record(AuditAction.PERMISSION_DENIED, data={"path": "/x"})
    db.session.commit()
    page = client.get("/audit/?action=permission.").get_data(as_text=True)
    assert "拒绝越权访问" in page and "permission.denied" in page


def test_the_migration_moves_stored_rows_and_back(empty_database_url):
    app = create_app({"SQLALCHEMY_DATABASE_URI": empty_database_url, "TESTING": True,
                      "SECRET_KEY": "x", "EXAMSYS_DATA_KEY": "y"})
    rows = [("auth.login", "users"), ("auth.session_end", "user"), ("paper.freeze", "paper"),
            ("organisation.create", "organisations"), ("legacy.kept", None)]
    with app.app_context():
        flask_migrate.upgrade(revision=_migration().down_revision)
        with _db.engine.begin() as conn:
            for action, object_type in rows:
                conn.execute(text("INSERT INTO audit_events (occurred_at, action, object_type, data) "
                                  "VALUES (CURRENT_TIMESTAMP, :a, :t, '{}')"), {"a": action, "t": object_type})
        flask_migrate.upgrade(revision=_migration().revision)
        with _db.engine.connect() as conn:
            after = conn.execute(text("SELECT action, object_type FROM audit_events ORDER BY id")).all()
        assert [tuple(r) for r in after] == [("user.logged_in", "user"), ("user.session_ended", "user"),
                                             ("paper.frozen", "paper"), ("organisation.created", "organisation"),
                                             ("legacy.kept", None)]
        flask_migrate.downgrade(revision=_migration().down_revision)
        with _db.engine.connect() as conn:
            back = conn.execute(text("SELECT action, object_type FROM audit_events ORDER BY id")).all()
        assert [tuple(r) for r in back] == rows
        flask_migrate.downgrade(revision="base")
        _db.engine.dispose()
