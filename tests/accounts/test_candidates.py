"""Candidate ID numbers: GB 11643 validation, ciphertext at rest, blind-index lookup, masking,
audited reveal."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from examsys.accounts import idnumber, services
from examsys.accounts.models import Candidate
from examsys.audit.models import AuditEvent
from examsys.errors import PermissionDenied, ValidationError
from examsys.permissions import Role
from tests.factories import valid_id_number

KNOWN_VALID = "11010519491231002X"


def test_checksum_accepts_valid_and_rejects_wrong_digit():
    assert idnumber.validate(KNOWN_VALID) == KNOWN_VALID
    assert idnumber.validate(" 11010519491231002x ") == KNOWN_VALID
    with pytest.raises(idnumber.InvalidIdNumber, match="校验位"):
        idnumber.validate("110105194912310021")
    with pytest.raises(idnumber.InvalidIdNumber, match="出生日期"):
        idnumber.validate(idnumber.make_valid("11010519491331002"))
    with pytest.raises(idnumber.InvalidIdNumber, match="18位"):
        idnumber.validate("1101051949")


@given(st.from_regex(r"\A[1-6][0-9]{5}(19[5-9][0-9]|200[0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}\Z"))
def test_any_generated_number_validates_and_masks(first17):
    number = idnumber.make_valid(first17)
    assert idnumber.validate(number) == number
    masked = idnumber.mask(number)
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:] and set(masked[6:14]) == {"*"}


def test_ciphertext_in_table_and_blind_index_lookup(make, db):
    org = make.org()
    number = valid_id_number(4242)
    cand = make.candidate(org, id_number=number)
    db.session.commit()
    row = db.session.execute(text(
        "SELECT id_number_ciphertext, id_number_index, id_number_masked FROM candidates WHERE id=:i"),
        {"i": cand.id}).one()
    assert number.encode() not in bytes(row[0])
    assert number not in row[1] and row[2] == idnumber.mask(number)
    assert [c.id for c in services.find_candidates_by_id_number(number)] == [cand.id]
    assert services.find_candidates_by_id_number(valid_id_number(4243)) == []


def test_duplicate_and_invalid_are_refused(make, db):
    org = make.org()
    number = valid_id_number(77)
    make.candidate(org, id_number=number)
    with pytest.raises(Exception, match="已存在"):
        make.candidate(org, id_number=number)
    with pytest.raises(ValidationError, match="校验位"):
        make.candidate(org, id_number=number[:-1] + ("0" if number[-1] != "0" else "1"))


def test_pages_show_masked_number_only(client, login_as, make, db):
    me = login_as(Role.EXAM_ADMIN)
    number = valid_id_number(901)
    cand = make.candidate(me.organisation, name="脱敏考生", id_number=number)
    db.session.commit()
    for url in ("/candidates", f"/candidates/{cand.id}"):
        html = client.get(url).get_data(as_text=True)
        assert number not in html, url
        assert idnumber.mask(number) in html, url
    found = client.post("/candidates/lookup", data={"id_number": number}).get_data(as_text=True)
    assert "脱敏考生" in found and number not in found
    missing = client.post("/candidates/lookup", data={"id_number": valid_id_number(999)})
    assert "脱敏考生" not in missing.get_data(as_text=True)


def test_reveal_requires_permission_and_is_audited(client, login_as, make, db):
    me = login_as(Role.EXAM_ADMIN)
    number = valid_id_number(902)
    cand = make.candidate(me.organisation, id_number=number)
    db.session.commit()
    html = client.post(f"/candidates/{cand.id}/reveal", data={"reason": "核对报名信息"}).get_data(
        as_text=True)
    assert number in html
    ev = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "candidate.id_revealed")).one()
    assert ev.data["reason"] == "核对报名信息" and ev.object_id == str(cand.id)
    assert number not in str(ev.data)


def test_proctor_cannot_reveal(client, login_as, make, db):
    me = login_as(Role.PROCTOR)
    cand = make.candidate(me.organisation)
    db.session.commit()
    assert client.post(f"/candidates/{cand.id}/reveal", data={"reason": "x"}).status_code == 403
    with pytest.raises(PermissionDenied):
        services.reveal_id_number(me, cand, reason="x")
    denied = db.session.scalars(select(AuditEvent).where(
        AuditEvent.action == "permission.denied")).all()
    assert denied and denied[-1].data["endpoint"] == "accounts.candidate_reveal"


def test_create_candidate_through_form(client, login_as, db):
    login_as(Role.EXAM_ADMIN)
    number = valid_id_number(903)
    resp = client.post("/candidates/new", data={"name": "新考生", "id_number": number})
    assert resp.status_code == 302
    cand = db.session.scalars(select(Candidate).where(Candidate.name == "新考生")).one()
    assert cand.id_number_masked == idnumber.mask(number)
    bad = client.post("/candidates/new", data={"name": "坏号码", "id_number": "123"})
    assert "18位" in bad.get_data(as_text=True)


def _png(width=40, height=50) -> bytes:
    import io

    from PIL import Image

    img = Image.new("RGB", (width, height), (200, 180, 160))
    buf = io.BytesIO()
    img.save(buf, "PNG", pnginfo=None)
    return buf.getvalue()


def test_photo_upload_is_reencoded_and_served_only_to_the_org(client, login_as, make, db):
    import io

    me = login_as(Role.EXAM_ADMIN)
    cand = make.candidate(me.organisation)
    db.session.commit()
    resp = client.post(f"/candidates/{cand.id}/photo", data={"photo": (io.BytesIO(_png()), "me.png")},
                       content_type="multipart/form-data")
    assert resp.status_code == 302
    photo = client.get(f"/candidates/{cand.id}/photo")
    assert photo.status_code == 200 and photo.data[:3] == b"\xff\xd8\xff"  # re-encoded as JPEG
    assert photo.headers["Cache-Control"] == "no-store"
    ev = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "candidate.photo_set")).one()
    assert ev.object_id == str(cand.id)
    bad = client.post(f"/candidates/{cand.id}/photo", data={"photo": (io.BytesIO(b"%PDF-1.4 not an image"), "x.png")},
                      content_type="multipart/form-data", follow_redirects=True)
    assert "不是支持的图片格式" in bad.get_data(as_text=True)


def test_photo_of_another_org_is_404(client, login_as, make, db):
    import io

    other = make.org()
    cand = make.candidate(other)
    db.session.commit()
    login_as(Role.EXAM_ADMIN)
    assert client.post(f"/candidates/{cand.id}/photo", data={"photo": (io.BytesIO(_png()), "x.png")},
                       content_type="multipart/form-data").status_code == 404
    assert client.get(f"/candidates/{cand.id}/photo").status_code == 404
