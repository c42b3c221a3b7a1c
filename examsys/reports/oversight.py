"""The supervision file (督导档案) of an organisation and the periodic-assessment dossier with
its decision, as PDFs."""

from __future__ import annotations

from examsys import clock
from examsys.reports.pdf import render_pdf


def file_pdf(f) -> bytes:
    return render_pdf("reports/supervision/file.html", f=f, printed=clock.to_display(clock.now()))


def dossier_pdf(org, assessment, dossier: dict) -> bytes:
    return render_pdf("reports/supervision/dossier.html", org=org, a=assessment, d=dossier,
                      printed=clock.to_display(clock.now()))
