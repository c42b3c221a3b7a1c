"""Anomaly flags with their evidence, as the supervisor's workspace shows them.

A thin adapter: the detectors (examsys.supervision.evidence: `batch_anomalies(batch_id)`,
`attempt_anomalies(attempt_id)`) are being written separately; until they are connected here,
both functions answer an empty result of the shape the workspace and the supervision form
render (`AnomalyResult.flags`: code, label, explanation, evidence)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Evidence:
    """One fact behind a flag: what it is, and where it was seen (an attempt, an item, a time)."""

    label: str
    detail: str = ""
    attempt_id: int | None = None


@dataclass(frozen=True)
class Flag:
    """An anomaly worth a supervisor's look — never a verdict."""

    code: str
    label: str
    explanation: str
    evidence: list[Evidence] = field(default_factory=list)
    attempt_id: int | None = None


@dataclass(frozen=True)
class AnomalyResult:
    flags: list[Flag] = field(default_factory=list)

    def as_data(self) -> list[dict]:
        """Plain data for the signed form's snapshot."""
        return [{"code": f.code, "label": f.label, "explanation": f.explanation, "attempt_id": f.attempt_id,
                 "evidence": [{"label": e.label, "detail": e.detail} for e in f.evidence]} for f in self.flags]


def batch_anomalies(batch_id: int) -> AnomalyResult:
    """The flags of a whole batch (empty until the detectors are connected)."""
    return AnomalyResult()


def attempt_anomalies(attempt_id: int) -> AnomalyResult:
    """The flags of one attempt (empty until the detectors are connected)."""
    return AnomalyResult()


__all__ = ["AnomalyResult", "Evidence", "Flag", "attempt_anomalies", "batch_anomalies"]
