"""The internal supervision form (内部督导表) as a PDF: the batch, the supervisor and their
certificate, the checks done, the anomaly flags reviewed, the findings, the conclusion, the
signature line and date. A signed version prints its frozen snapshot; a draft prints what it
holds now, marked as a draft."""

from __future__ import annotations

from examsys.delivery.batches import services as svc
from examsys.delivery.models import Batch
from examsys.reports.delivery import _common
from examsys.reports.pdf import render_pdf
from examsys.supervision import flags
from examsys.supervision import services as supervision
from examsys.supervision.models import SupervisionForm
from examsys.supervision.timeline import show


def supervision_form_pdf(form: SupervisionForm, batch: Batch) -> bytes:
    if form.signed:
        content = form.content
    else:
        content = {
            "supervisor": {"name": form.supervisor.display_name, "organisation": form.supervisor.organisation.name},
            "certificate": supervision.certificate_of(form.supervisor, batch),
            "checks": [{"code": c, "label": supervision.CHECKS[c]} for c in form.checks],
            "flags": flags.batch_anomalies(batch.id).as_data(),
            "findings": [{"category": f.category_label, "text": f.text,
                          "ticket_no": f.attempt.roster_entry.ticket_no if f.attempt else None,
                          "at": f.created_at.isoformat()} for f in supervision.findings(batch)],
        }
    content = {**content, "findings": [{**f, "at_local": show(f.get("at"))} for f in content.get("findings", [])]}
    common = _common(batch)
    return render_pdf("reports/supervision/form.html", form=form, content=content, all_checks=supervision.CHECKS,
                      state_label=svc.BATCH_STATE_LABELS[batch.state], **common)
