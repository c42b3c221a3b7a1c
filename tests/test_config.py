"""Settings are read and checked once, in examsys.config: a malformed value stops start-up with a
message naming the variable and the value; README's table lists every setting config.py reads."""

import ast
import re
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from examsys import create_app
from examsys.config import InvalidSetting, build_config
from examsys.delivery.scoring import marking, workdays

ROOT = Path(__file__).resolve().parent.parent
KEYS = {"SECRET_KEY": "x", "EXAMSYS_DATA_KEY": "y"}


def config(tmp_path, **overrides):
    return build_config(tmp_path, {**KEYS, **overrides})


def test_defaults(tmp_path, monkeypatch):
    for name in ("HOLIDAYS", "EXTRA_WORKDAYS", "MARK_MARGIN", "ARCHIVE_RETENTION_YEARS"):
        monkeypatch.delenv("EXAMSYS_" + name, raising=False)
    cfg = config(tmp_path)
    assert cfg["EXAMSYS_ARCHIVE_RETENTION_YEARS"] == 5
    assert config(tmp_path, EXAMSYS_ARCHIVE_RETENTION_YEARS="30")["EXAMSYS_ARCHIVE_RETENTION_YEARS"] == 30
    assert cfg["EXAMSYS_HOLIDAYS"] == frozenset() and cfg["EXAMSYS_EXTRA_WORKDAYS"] == frozenset()
    assert cfg["EXAMSYS_MARK_MARGIN"] == marking.DEFAULT_MARGIN


@pytest.mark.parametrize("raw", ['["2026-10-01", "2026-10-02"]', "2026-10-01,2026-10-02", " 2026-10-01 , 2026-10-02, "])
def test_holidays_from_the_environment(tmp_path, monkeypatch, raw):
    monkeypatch.setenv("EXAMSYS_HOLIDAYS", raw)
    monkeypatch.setenv("EXAMSYS_EXTRA_WORKDAYS", "2026-10-11")
    cfg = config(tmp_path)
    assert cfg["EXAMSYS_HOLIDAYS"] == {date(2026, 10, 1), date(2026, 10, 2)}
    assert cfg["EXAMSYS_EXTRA_WORKDAYS"] == {date(2026, 10, 11)}


def test_overrides_are_parsed_too(tmp_path):
    cfg = config(tmp_path, EXAMSYS_HOLIDAYS=["2026-10-01", date(2026, 10, 2)], EXAMSYS_MARK_MARGIN="0.5")
    assert cfg["EXAMSYS_HOLIDAYS"] == {date(2026, 10, 1), date(2026, 10, 2)}
    assert cfg["EXAMSYS_MARK_MARGIN"] == 0.5


@pytest.mark.parametrize(("name", "raw", "bad"), [
    ("EXAMSYS_HOLIDAYS", "2026-10-01,2026-13-01", "2026-13-01"),
    ("EXAMSYS_HOLIDAYS", "2026/10/01", "2026/10/01"),
    ("EXAMSYS_HOLIDAYS", '["2026-10-01",', '["2026-10-01",'),
    ("EXAMSYS_HOLIDAYS", '{"d": "2026-10-01"}', '{"d": "2026-10-01"}'),
    ("EXAMSYS_EXTRA_WORKDAYS", "next saturday", "next saturday"),
    ("EXAMSYS_MARK_MARGIN", "20%", "20%"),
    ("EXAMSYS_MARK_MARGIN", "0", "0"),
    ("EXAMSYS_MARK_MARGIN", "1.5", "1.5"),
    ("EXAMSYS_MARK_MARGIN", "nan", "nan"),
    ("EXAMSYS_LOCKOUT_THRESHOLD", "five", "five"),
    ("EXAMSYS_ARCHIVE_RETENTION_YEARS", "five", "five"),
    ("EXAMSYS_ARCHIVE_RETENTION_YEARS", "0", "0"),
    ("EXAMSYS_ARCHIVE_RETENTION_YEARS", "2.5", "2.5"),
    ("EXAMSYS_ARCHIVE_RETENTION_YEARS", "101", "101"),
    ("EXAMSYS_PROXY_COUNT", "one", "one"),
    ("EXAMSYS_PROXY_COUNT", "-1", "-1"),
    ("EXAMSYS_PROXY_COUNT", "9", "9"),
    ("EXAMSYS_AUTOSAVE_RATE", "600 a minute", "600 a minute"),
    ("EXAMSYS_AUTOSAVE_RATE", "lots", "lots"),
])
def test_a_bad_value_stops_the_app_naming_variable_and_value(tmp_path, monkeypatch, name, raw, bad):
    monkeypatch.setenv(name, raw)
    with pytest.raises(InvalidSetting) as refused:
        create_app({**KEYS, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "x.db")})
    assert refused.value.name == name
    assert name in str(refused.value) and bad in str(refused.value)


def test_workdays_and_marking_read_the_parsed_settings(tmp_path):
    app = create_app({**KEYS, "SQLALCHEMY_DATABASE_URI": "sqlite:///" + str(tmp_path / "x.db"),
                      "EXAMSYS_HOLIDAYS": "2026-10-01,2026-10-02", "EXAMSYS_MARK_MARGIN": "0.25"})
    with app.app_context():
        assert workdays.calendar() == ({date(2026, 10, 1), date(2026, 10, 2)}, frozenset())
        # Wednesday 30 September + 1 working day: Thursday 1 October is a holiday, so Friday 2nd
        # is too, and the period ends at the end of Monday 5 October (Asia/Shanghai).
        end = workdays.add_workdays(datetime(2026, 9, 30, 2, tzinfo=UTC), 1)
        assert end == datetime(2026, 10, 5, 16, tzinfo=UTC)
        assert marking.margin_fraction() == 0.25


def _settings_read_by_config() -> set[str]:
    tree = ast.parse((ROOT / "examsys" / "config.py").read_text(encoding="utf-8"))
    names = set()
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and getattr(node.func, "id", None) in {"env", "env_int", "env_bool"}
                and isinstance(node.args[0], ast.Constant)):
            names.add("EXAMSYS_" + node.args[0].value)
    return names


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    table = readme.split("## Configuration", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"`(EXAMSYS_[A-Z0-9_]+)`", table))
    read = _settings_read_by_config()
    assert {"EXAMSYS_HOLIDAYS", "EXAMSYS_EXTRA_WORKDAYS", "EXAMSYS_MARK_MARGIN"} <= read
    assert read - listed == set(), "settings read by config.py but missing from README's table"
    assert listed - read <= {"EXAMSYS_TEST_DATABASE_URL"}, "README lists settings config.py does not read"


def test_no_setting_is_read_outside_config():
    offenders = []
    for path in (ROOT / "examsys").rglob("*.py"):
        if path.name == "config.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"os\.environ|os\.getenv|getenv\(", text):
            offenders.append(str(path.relative_to(ROOT)))
    assert not offenders
