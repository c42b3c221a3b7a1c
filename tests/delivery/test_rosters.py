"""Roster import (考生名单): xlsx alone and xlsx + zip of photos, row-numbered errors, all or
nothing, duplicates in the file and against the roster, reused candidates, hostile files."""

from __future__ import annotations

import io
import zipfile

import pytest
from PIL import Image
from sqlalchemy import func, select

from examsys import clock
from examsys.accounts.models import Candidate
from examsys.delivery.batches import rosters
from examsys.delivery.models import RosterEntry
from examsys.interchange.model import HostileInputError, InterchangeError
from tests.delivery.test_batches import batch_world, roster_xlsx
from tests.factories import valid_id_number


@pytest.fixture
def w(make, db):
    w = batch_world(make, db, candidates=0)
    yield w
    clock.freeze(None)


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (60, 80), (200, 180, 160)).save(out, "PNG")
    return out.getvalue()


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in members.items():
            z.writestr(name, data)
    return out.getvalue()


def _count(db, model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_happy_path_with_photos_by_id_number_and_given_ticket_numbers(w, db):
    ids = [valid_id_number(8100 + i) for i in range(3)]
    xlsx = roster_xlsx([("张三", ids[0], "T-0001"), ("李四", ids[1], ""), ("王五", ids[2], "")],
                       header=("姓名", "身份证号", "准考证号"))
    photos = _zip({f"photos/{ids[0]}.png": _png(), "T-0001.jpg": b"ignored", f"{ids[2]}.PNG": _png()})
    preview = rosters.import_roster(w.admin, w.batch, "名单.xlsx", xlsx, "照片.zip", photos, dry_run=True)
    assert preview.ok and preview.dry_run and len(preview.rows) == 3 and preview.photos == 2
    assert w.batch.roster == []
    result = rosters.import_roster(w.admin, w.batch, "名单.xlsx", xlsx, "照片.zip", photos)
    assert result.ok and result.imported == 3
    by_name = {e.candidate.name: e for e in w.batch.roster}
    assert by_name["张三"].ticket_no == "T-0001"
    assert by_name["李四"].ticket_no.endswith("0001") and by_name["王五"].ticket_no.endswith("0002")
    assert by_name["张三"].candidate.photo_sha256 and by_name["王五"].candidate.photo_sha256
    assert by_name["李四"].candidate.photo_sha256 is None
    assert by_name["张三"].candidate.id_number_masked == ids[0][:6] + "********" + ids[0][-4:]


def test_photo_column_names_a_member_of_the_zip(w, db):
    n = valid_id_number(8200)
    xlsx = roster_xlsx([("赵六", n, "zhao.png")], header=("姓名", "身份证号", "照片"))
    result = rosters.import_roster(w.admin, w.batch, "r.xlsx", xlsx, "p.zip", _zip({"zhao.png": _png()}))
    assert result.ok and w.batch.roster[0].candidate.photo_sha256
    missing = rosters.import_roster(w.admin, w.batch, "r2.xlsx",
                                    roster_xlsx([("钱七", valid_id_number(8201), "none.png")],
                                                header=("姓名", "身份证号", "照片")))
    assert [str(e) for e in missing.errors] == ["r2.xlsx:2: 照片: 指定了照片 none.png，但没有上传照片压缩包"]


def test_row_numbered_errors_and_nothing_written(w, db):
    good, dup = valid_id_number(8300), valid_id_number(8301)
    bad = good[:17] + ("0" if good[17] != "0" else "1")
    xlsx = roster_xlsx([("甲", good), ("乙", bad), ("", dup), ("丁", dup), ("戊", dup), ("己", "=A1")])
    before = _count(db, Candidate)
    result = rosters.import_roster(w.admin, w.batch, "名单.xlsx", xlsx)
    assert not result.ok and result.imported == 0
    messages = [str(e) for e in result.errors]
    assert "名单.xlsx:3: 身份证号: 身份证号码校验位不正确" in messages
    assert "名单.xlsx:4: 姓名: 姓名不能为空" in messages
    assert "名单.xlsx:6: 身份证号: 与第 4 行的身份证号重复" in messages
    assert "名单.xlsx:7: 身份证号: 单元格是公式，请改为文本" in messages
    assert w.batch.roster == [] and _count(db, Candidate) == before and _count(db, RosterEntry) == 0


def test_duplicates_against_the_roster_and_existing_candidates_reused(w, make, db):
    n = valid_id_number(8400)
    existing = make.candidate(w.org, name="孙八", id_number=n)
    assert rosters.import_roster(w.admin, w.batch, "a.xlsx", roster_xlsx([("孙八", n)])).ok
    assert w.batch.roster[0].candidate_id == existing.id
    again = rosters.import_roster(w.admin, w.batch, "b.xlsx", roster_xlsx([("孙八", n)]))
    assert str(again.errors[0]).startswith("b.xlsx:2: 身份证号: 该考生已在本批次名单中")
    other = valid_id_number(8401)
    make.candidate(w.org, name="周九", id_number=other)
    mismatch = rosters.import_roster(w.admin, w.batch, "c.xlsx", roster_xlsx([("周久", other)]))
    assert str(mismatch.errors[0]) == "c.xlsx:2: 姓名: 与已登记考生的姓名“周九”不一致"


def test_ticket_number_taken_elsewhere_and_capacity(w, make, db):
    rosters.import_roster(w.admin, w.batch, "a.xlsx", roster_xlsx([("甲", valid_id_number(8500), "X-1000")],
                                                                   header=("姓名", "身份证号", "准考证号")))
    w2 = batch_world(make, db, candidates=0, capacity=1)
    clash = rosters.import_roster(w2.admin, w2.batch, "b.xlsx", roster_xlsx(
        [("乙", valid_id_number(8501), "X-1000"), ("丙", valid_id_number(8502), "")],
        header=("姓名", "身份证号", "准考证号")))
    messages = [str(e) for e in clash.errors]
    assert "b.xlsx:2: 准考证号: 准考证号 X-1000 已被使用" in messages
    assert "b.xlsx: 考场座位不足：共 1 个座位，名单共 2 人" in messages


def test_hostile_and_wrong_files_are_refused_whole(w, db):
    traversal = _zip({"xl/workbook.xml": b"<workbook/>", "../../evil.txt": b"x"})
    with pytest.raises(HostileInputError, match="路径穿越"):
        rosters.import_roster(w.admin, w.batch, "evil.xlsx", traversal)
    with pytest.raises(InterchangeError, match="不是有效的 zip"):
        rosters.import_roster(w.admin, w.batch, "fake.xlsx", b"not a zip at all")
    with pytest.raises(InterchangeError, match="表头"):
        rosters.import_roster(w.admin, w.batch, "x.xlsx", roster_xlsx([("a", "b")], header=("甲", "乙")))
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("p.png", b"\0" * (20 * 1024 * 1024))
    with pytest.raises(HostileInputError, match="压缩比"):
        rosters.import_roster(w.admin, w.batch, "r.xlsx", roster_xlsx([("甲", valid_id_number(8600))]),
                              "bomb.zip", bomb.getvalue())
    assert w.batch.roster == []
