"""Categories that name no assessment point: listed with counts and suggestions, placed by a
mapping the user confirms (service, web preview and CLI), and a mapping is never trusted blindly."""

import io
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select

from examsys.bank.categories import similarity, unmatched_categories
from examsys.bank.exchange import import_file
from examsys.bank.importing import import_drafts
from examsys.bank.models import Item
from examsys.errors import ValidationError
from examsys.interchange import parse_file
from examsys.standards.models import AssessmentPoint, Importance, KnowledgeRange, Standard
from tests.factories import PASSWORD

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"

GIFT = """\
$CATEGORY: $course$/top/电工基础/直流电路

::串联电阻:: 电阻串联时，总电阻等于各电阻之和。{T}

$CATEGORY: $course$/top/电工基础/直流电路基础

::欧姆定律:: 部分电路欧姆定律的表达式为（  ）。{=I\\=U/R ~I\\=UR ~I\\=R/U ~U\\=I/R}

::电流方向:: 规定正电荷定向移动的方向为电流的方向。{T}

$CATEGORY: $course$/top/电工基础/欧姆定律

::电阻单位:: 电阻的单位是伏特。{F}

$CATEGORY: $course$/top/杂项

::安全电压:: 我国规定的安全电压额定值等级中最高为（  ）V。{=42 ~36 ~24 ~12}
""".encode()


def moodle_file() -> Path:
    files = sorted((CONFORMANCE / "moodle-xml").glob("*.xml"))
    assert files, f"conformance corpus absent: no Moodle XML file under {CONFORMANCE / 'moodle-xml'}"
    return files[0]


def by_key(infos):
    return {c.key: c for c in infos}


def items_by_stem(db, ids):
    items = db.session.scalars(select(Item).where(Item.id.in_(ids))).all()
    return {re.sub("<[^>]+>", "", i.latest_version.content["stem"]): i for i in items}


def test_similarity_is_bigram_jaccard():
    assert similarity("直流电路基础", "直流电路") == pytest.approx(3 / 5)
    assert similarity("欧姆定律", "交流电路") == 0
    assert similarity("直流电路", "直流电路") == 1


def test_gift_unmatched_categories_with_counts_and_suggestions(bank):
    drafts = parse_file("电工.gift", GIFT).items
    infos = by_key(unmatched_categories(bank.standard, drafts))
    # 电工基础 / 直流电路 names a point of the standard and is not listed.
    assert {k: c.count for k, c in infos.items()} == {
        "电工基础 / 直流电路基础": 2, "电工基础 / 欧姆定律": 1, "杂项": 1}
    near = infos["电工基础 / 直流电路基础"]
    # The range 电工基础 is named, so only its points are candidates; 直流电路 is close enough to
    # be pre-selected.
    assert [s.code for s in near.suggestions] == ["A-01-001", "A-01-002"]
    assert near.best.code == "A-01-001" and near.suggestions[0].score == pytest.approx(0.9)
    vague = infos["电工基础 / 欧姆定律"]
    assert {s.code for s in vague.suggestions} == {"A-01-001", "A-01-002"} and vague.best is None
    assert infos["杂项"].suggestions == []


def test_unmapped_categories_block_and_a_mapping_places_the_items(bank, db):
    drafts = parse_file("电工.gift", GIFT).items
    report = import_drafts(bank.writer, bank.org, bank.standard, drafts)
    assert report.imported == 0 and len(report.errors) == 4
    assert {c.key for c in report.unmatched} == {"电工基础 / 直流电路基础", "电工基础 / 欧姆定律", "杂项"}

    mapping = {"电工基础 / 直流电路基础": bank.points["A-01-001"].id,
               "电工基础 / 欧姆定律": bank.points["A-01-001"].id,
               "杂项": bank.points["B-01-001"].id}
    report = import_drafts(bank.writer, bank.org, bank.standard, drafts, category_map=mapping)
    assert report.ok and report.imported == 5
    placed = {stem: item.point_id for stem, item in items_by_stem(db, report.item_ids).items()}
    assert placed["电阻串联时，总电阻等于各电阻之和。"] == bank.points["A-01-001"].id  # matched on its own
    assert placed["电阻的单位是伏特。"] == bank.points["A-01-001"].id
    assert placed["我国规定的安全电压额定值等级中最高为（  ）V。"] == bank.points["B-01-001"].id
    # The report still names the categories the mapping placed, for the preview.
    assert len(report.unmatched) == 3


def test_do_not_import_counts_as_skipped_and_blocks_unless_partial(bank, db):
    drafts = parse_file("电工.gift", GIFT).items
    mapping = {"电工基础 / 直流电路基础": bank.points["A-01-001"].id,
               "电工基础 / 欧姆定律": bank.points["A-01-002"].id, "杂项": None}
    report = import_drafts(bank.writer, bank.org, bank.standard, drafts, category_map=mapping)
    assert report.imported == 0
    assert [str(e) for e in report.errors] == ["电工.gift:17: category: 分类「杂项」已选择不导入"]
    report = import_drafts(bank.writer, bank.org, bank.standard, drafts, category_map=mapping, partial=True)
    assert (report.imported, report.skipped) == (4, 1)


def test_mapping_to_a_point_of_another_standard_is_refused(bank, db):
    other = Standard(code="6-29-99-99", name="焊工", edition="2019", levels=[4])
    db.session.add(other)
    db.session.flush()
    rng = KnowledgeRange(standard_id=other.id, code="A", name="焊接基础", weights={})
    db.session.add(rng)
    db.session.flush()
    foreign = AssessmentPoint(standard_id=other.id, range_id=rng.id, code="A-01", name="焊条",
                              importance=Importance.Y, levels=[4])
    db.session.add(foreign)
    db.session.flush()
    drafts = parse_file("电工.gift", GIFT).items
    with pytest.raises(ValidationError, match="不属于标准"):
        import_drafts(bank.writer, bank.org, bank.standard, drafts, category_map={"杂项": foreign.id})
    with pytest.raises(ValidationError):
        import_file(bank.writer, bank.org, bank.standard, "电工.gift", GIFT, category_map={"杂项": foreign.id})
    assert db.session.scalar(select(Item.id).where(Item.organisation_id == bank.org.id)) is None


def test_moodle_conformance_categories_map_and_import(bank, db):
    path = moodle_file()
    data = path.read_bytes()
    dry = import_file(bank.writer, bank.org, bank.standard, path.name, data, level=4, dry_run=True)
    counts = {c.key: c.count for c in dry.unmatched}
    assert counts == {"Iota": 1, "Iota / Kappa": 2, "Iota / Kappa / Lambda": 1, "Iota / Mu": 1}
    assert dry.imported == 0 and not dry.complete
    mapping = dict.fromkeys(counts, bank.points["A-01-002"].id)
    mapping["Iota / Mu"] = bank.points["B-01-002"].id
    # With the mapping, everything imports: the file's essay (no reference answer, no scoring points)
    # becomes a draft flagged as incomplete, to be completed before review.
    result = import_file(bank.writer, bank.org, bank.standard, path.name, data, level=4, category_map=mapping)
    assert result.errors == [] and (result.imported, result.skipped) == (5, 0)
    assert {(e.where, e.field) for e in result.incomplete} == {
        (f"{path.name}:55", "reference_answer"), (f"{path.name}:55", "scoring_points")}
    items = items_by_stem(db, result.item_ids)
    assert items["Testing Mu Question"].point_id == bank.points["B-01-002"].id
    assert items["Testing Lambda Question"].point_id == bank.points["A-01-002"].id


def _login(client, user):
    assert client.post("/login", data={"username": user.username, "password": PASSWORD}).status_code == 302


def _select(html, n):
    return html.split(f'name="map-{n}-point"')[1].split("</select>")[0]


def test_web_preview_maps_then_confirms(client, bank, db):
    db.session.commit()
    _login(client, bank.writer)
    base = {"standard_id": bank.standard.id, "level": "4"}
    html = client.post("/bank/import", data={**base, "preview": "1", "file": (io.BytesIO(GIFT), "电工.gift")},
                       content_type="multipart/form-data").get_data(as_text=True)
    assert "未匹配的分类" in html and "可导入 0 道" in html and "按映射重新预检" in html
    keys = re.findall(r'name="map-(\d+)-key" value="([^"]*)"', html)
    index = {key: n for n, key in keys}
    assert set(index) == {"电工基础 / 直流电路基础", "电工基础 / 欧姆定律", "杂项"}
    # The good suggestion is pre-selected, the vague one is not; every list offers "不导入".
    near = _select(html, index["电工基础 / 直流电路基础"])
    assert f'value="{bank.points["A-01-001"].id}" selected' in near and "不导入这些试题" in near
    vague = _select(html, index["电工基础 / 欧姆定律"])
    assert 'value="" selected' in vague and vague.count(" selected") == 1
    token = html.split('name="token" type="hidden" value="')[1].split('"')[0]

    mapping = {f"map-{n}-key": key for key, n in index.items()}
    mapping[f"map-{index['电工基础 / 直流电路基础']}-point"] = str(bank.points["A-01-001"].id)
    mapping[f"map-{index['电工基础 / 欧姆定律']}-point"] = str(bank.points["A-01-002"].id)
    mapping[f"map-{index['杂项']}-point"] = "skip"
    html = client.post("/bank/import", data={**base, **mapping, "token": token, "remap": "1"}).get_data(as_text=True)
    assert "可导入 0 道" in html and "已选择不导入" in html and "须勾选“部分导入”" in html
    assert f'name="token" type="hidden" value="{token}"' in html
    assert 'value="skip" selected' in _select(html, index["杂项"])

    # A point id of no point of this standard is refused, and nothing is imported.
    bad = {**mapping, f"map-{index['杂项']}-point": "999999"}
    html = client.post("/bank/import", data={**base, **bad, "token": token, "confirm": "1"}).get_data(as_text=True)
    assert "不属于标准" in html
    assert db.session.scalar(select(Item.id).where(Item.organisation_id == bank.org.id)) is None

    resp = client.post("/bank/import", data={**base, **mapping, "token": token, "partial": "y", "confirm": "1"})
    assert resp.status_code == 302
    stems = items_by_stem(db, db.session.scalars(select(Item.id).where(Item.organisation_id == bank.org.id)).all())
    assert len(stems) == 4 and stems["电阻的单位是伏特。"].point_id == bank.points["A-01-002"].id


def test_cli_show_categories_and_map(app, bank, db, tmp_path):
    db.session.commit()
    gift = tmp_path / "电工.gift"
    gift.write_bytes(GIFT)
    args = ["bank", "import", str(gift), "--org", bank.org.code, "--standard", bank.standard.code,
            "--edition", "2018", "--as", bank.writer.username, "--level", "4"]
    runner = app.test_cli_runner()
    shown = runner.invoke(args=[*args, "--show-categories", "--json"])
    assert shown.exit_code == 0, shown.output
    categories = {c["key"]: c for c in json.loads(shown.output)["categories"]}
    assert {k: c["count"] for k, c in categories.items()} == {
        "电工基础 / 直流电路基础": 2, "电工基础 / 欧姆定律": 1, "杂项": 1}
    assert categories["电工基础 / 直流电路基础"]["suggestions"][0]["code"] == "A-01-001"

    failed = runner.invoke(args=[*args, "--json"])
    assert failed.exit_code == 1 and json.loads(failed.output)["imported"] == 0

    mapping = tmp_path / "mapping.json"
    mapping.write_text(json.dumps({"电工基础 / 直流电路基础": "A-01-001", "电工基础 / 欧姆定律": "A-01-002",
                                   "杂项": "B-01-001"}, ensure_ascii=False), encoding="utf-8")
    done = runner.invoke(args=[*args, "--map", str(mapping), "--json"])
    assert done.exit_code == 0, done.output
    assert json.loads(done.output)["imported"] == 5
    stems = items_by_stem(db, db.session.scalars(select(Item.id).where(Item.organisation_id == bank.org.id)).all())
    assert stems["我国规定的安全电压额定值等级中最高为（  ）V。"].point_id == bank.points["B-01-001"].id

    mapping.write_text(json.dumps({"杂项": "Z-99"}), encoding="utf-8")
    refused = runner.invoke(args=[*args, "--map", str(mapping)])
    assert refused.exit_code != 0 and "Z-99" in refused.output

    helptext = runner.invoke(args=["bank", "import", "--help"]).output
    assert "--map" in helptext and "--show-categories" in helptext
