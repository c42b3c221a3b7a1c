"""Candidates: people who sit exams. ID numbers are stored encrypted (AES-GCM) with a keyed blind
index for lookups and a masked copy for display; photos are re-encoded and kept privately."""

from __future__ import annotations

import hashlib
import io
import os
import tempfile
from pathlib import Path

from flask import current_app
from PIL import Image
from sqlalchemy import select

from examsys import audit, crypto
from examsys.accounts import idnumber
from examsys.accounts.models import Candidate, Organisation, User
from examsys.audit.actions import AuditAction
from examsys.bank.assets import clean_image  # the bank owns image checking and re-encoding
from examsys.errors import Conflict, ValidationError
from examsys.extensions import db
from examsys.permissions import may_reveal_id_number

ID_PURPOSE = "candidate.id_number"


# --- candidates ------------------------------------------------------------------------------


def id_index(number: str) -> str:
    return crypto.blind_index(crypto.current_keys(), idnumber.normalise(number), purpose=ID_PURPOSE)


def create_candidate(org: Organisation, *, name: str, id_number: str) -> Candidate:
    """Raises ValidationError (bad ID or name) or Conflict (already registered in this org)."""
    name = name.strip()
    if not name:
        raise ValidationError("姓名不能为空", field="name")
    try:
        number = idnumber.validate(id_number)
    except idnumber.InvalidIdNumber as exc:
        raise ValidationError(str(exc), field="id_number") from exc
    index = id_index(number)
    if db.session.scalar(select(Candidate.id).where(Candidate.organisation_id == org.id,
                                                    Candidate.id_number_index == index)):
        raise Conflict("该身份证号码的考生已存在", field="id_number")
    cand = Candidate(organisation_id=org.id, name=name,
                     id_number_ciphertext=crypto.encrypt(crypto.current_keys(), number,
                                                         purpose=ID_PURPOSE),
                     id_number_index=index, id_number_masked=idnumber.mask(number))
    db.session.add(cand)
    db.session.flush()
    audit.record(AuditAction.CANDIDATE_CREATED, obj=cand, data={"name": name,
                                                      "id_number": cand.id_number_masked})
    return cand


def find_candidates_by_id_number(id_number: str, organisation_id: int | None = None) -> list[Candidate]:
    """Blind-index lookup; the number itself is never put in a query."""
    try:
        number = idnumber.validate(id_number)
    except idnumber.InvalidIdNumber:
        return []
    stmt = select(Candidate).where(Candidate.id_number_index == id_index(number))
    if organisation_id is not None:
        stmt = stmt.where(Candidate.organisation_id == organisation_id)
    return list(db.session.scalars(stmt))


def reveal_id_number(actor: User, candidate: Candidate, *, reason: str) -> str:
    """The full ID number, for a user holding CANDIDATE_ID_REVEAL; audited with the reason."""
    may_reveal_id_number(actor, candidate.organisation_id).enforce()
    if not reason.strip():
        raise ValidationError("请填写查看原因", field="reason")
    audit.record(AuditAction.CANDIDATE_ID_REVEALED, obj=candidate, data={"reason": reason.strip()})
    return crypto.decrypt(crypto.current_keys(), candidate.id_number_ciphertext, purpose=ID_PURPOSE)


# --- candidate photos ------------------------------------------------------------------------


def photo_path(sha256: str) -> Path:
    """Photos are personal data: kept apart from bank images, served only by an authorised route."""
    return Path(current_app.config["EXAMSYS_UPLOAD_DIR"]) / "photos" / sha256[:2] / f"{sha256}.jpg"


def set_candidate_photo(candidate: Candidate, filename: str, data: bytes) -> None:
    """Check (magic bytes, size, pixel count), re-encode as JPEG without metadata, store by hash.
    Raises ValidationError naming the file."""
    cleaned = clean_image(filename, data, max_bytes=2 * 1024 * 1024)
    image = Image.open(io.BytesIO(cleaned.data)).convert("RGB")
    image.thumbnail((600, 800))  # an ID photo; bigger only costs space
    out = io.BytesIO()
    image.save(out, "JPEG", quality=88)
    encoded = out.getvalue()
    sha = hashlib.sha256(encoded).hexdigest()
    path = photo_path(sha)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent)
        with os.fdopen(fd, "wb") as fh:
            fh.write(encoded)
        os.replace(tmp, path)
    candidate.photo_sha256 = sha
    db.session.flush()
    audit.record(AuditAction.CANDIDATE_PHOTO_SET, obj=candidate, data={"sha256": sha, "bytes": len(encoded)})
