"""The certificate-data demo: months of reports across both cities with returns, one organisation
whose returns raise warnings, and one batch whose check left one problem open and one explained."""

from __future__ import annotations

from sqlalchemy import select

from examsys.campaign.certdata import services as svc
from examsys.campaign.certdata.models import CertProblem, CertReport, CertReturn, CertWarning
from examsys.campaign.targets import Scope
from examsys.demo.loader import load_demo


def test_the_demo_shows_certificate_data(db, frozen_clock):
    load_demo()
    db.session.commit()
    reports = db.session.scalars(select(CertReport)).all()
    assert len({r.city_id for r in reports}) == 2 and len({r.reported_at.month for r in reports}) >= 5
    assert db.session.scalar(select(CertReturn.id).limit(1)) is not None
    warned = {w.organisation.code for w in db.session.scalars(select(CertWarning))}
    assert warned == {"SKILL-02"}
    problems = db.session.scalars(select(CertProblem).where(CertProblem.cleared_at.is_(None))).all()
    assert sorted((p.kind, p.explanation is not None) for p in problems) == [("duplicate", True), ("photo", False)]
    checked, rate = svc.targets(2026, Scope())
    assert checked.value == 1.0 and rate.met is False  # SKILL-02 pulls the province above 5 %
    load_demo()  # idempotent
    assert len(db.session.scalars(select(CertReport)).all()) == len(reports)
