"""双随机 (random batches, random supervisors), verifiable: a pure function from a plan (plain
data, see README "Supervision plan file") and a seed to the batches drawn and the supervisor of
each. No database, no Flask: `examsys supervision draw --plan PLAN.json --seed HEX` runs it on a
published plan, and the app runs the same function on the plan it publishes, so anyone can repeat
a draw once its seed is revealed.

Randomness, portable and repeatable: everything is ordered by a rank, the lowercase hex SHA-256
of the seed's bytes, a "|" and a UTF-8 label, compared as strings:

    rank(label) = sha256(seed_bytes + b"|" + label.encode("utf-8")).hexdigest()

with the labels `org:<code>`, `batch:<id>` and `supervisor:<batch id>:<supervisor id>`.

The rule, per organisation kind (社会培训评价组织, 用人单位): at least `ceil(rate × batches of
the kind)` batches are drawn, counting those drawn earlier in the plan (`already_drawn`), so a
rolling draw tops the year up after new batches are filed. The rate is a floor over the kind as
a whole; within a kind, each next batch goes to the organisation with the lowest drawn share so
far (ties: lower organisation rank), which spreads the draw so each organisation's share is as
close to the rate as whole batches allow. Among an organisation's undrawn batches, those new to
this draw (not in `previous_pool`) come first, then by batch rank.

Each drawn batch gets the eligible supervisor (not of the batch's organisation, no declared
conflict with it) with the fewest assignments so far (`load` plus this draw), ties by rank.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import defaultdict
from fractions import Fraction

PLAN_FORMAT = "examsys-supervision-plan/1"
RESULT_FORMAT = "examsys-supervision-draw/1"
DEFAULT_RATES = {"social": "0.5", "employer": "0.1"}
KINDS = ("social", "employer")


class PlanError(ValueError):
    """The plan or seed is not usable; the message says what and where (in Chinese)."""


def seed_bytes(seed_hex: str) -> bytes:
    text = (seed_hex or "").strip().lower()
    try:
        raw = bytes.fromhex(text)
    except ValueError as exc:
        raise PlanError("随机种子须为十六进制字符串") from exc
    if not 16 <= len(raw) <= 64:
        raise PlanError("随机种子须为 16～64 字节（32～128 个十六进制字符）")
    return raw


def commitment(seed_hex: str) -> str:
    """The published commitment of a seed: the SHA-256 of its bytes."""
    return hashlib.sha256(seed_bytes(seed_hex)).hexdigest()


def rank(seed: bytes, label: str) -> str:
    return hashlib.sha256(seed + b"|" + label.encode("utf-8")).hexdigest()


def canonical(plan: dict) -> bytes:
    return json.dumps(plan, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def _rates(plan: dict) -> dict[str, Fraction]:
    rates = {**DEFAULT_RATES, **(plan.get("rates") or {})}
    out = {}
    for kind in KINDS:
        try:
            value = Fraction(str(rates[kind]))
        except (ValueError, ZeroDivisionError) as exc:
            raise PlanError(f"rates.{kind}：比例须为 0～1 之间的数") from exc
        if not 0 <= value <= 1:
            raise PlanError(f"rates.{kind}：比例须为 0～1 之间的数")
        out[kind] = value
    return out


def _check(plan: dict) -> tuple[dict, list[dict], list[dict]]:
    if not isinstance(plan, dict):
        raise PlanError("计划文件须为 JSON 对象")
    if plan.get("format", PLAN_FORMAT) != PLAN_FORMAT:
        raise PlanError(f"不支持的计划格式 {plan.get('format')!r}，应为 {PLAN_FORMAT}")
    orgs: dict[str, dict] = {}
    for n, org in enumerate(plan.get("organisations") or [], 1):
        code = str(org.get("code") or "")
        if not code:
            raise PlanError(f"organisations 第 {n} 项：缺少 code")
        if code in orgs:
            raise PlanError(f"organisations 第 {n} 项：机构 {code} 重复")
        if org.get("kind") not in (*KINDS, "authority"):
            raise PlanError(f"organisations 第 {n} 项（{code}）：kind 须为 social、employer 或 authority")
        orgs[code] = org
    batches, seen = [], set()
    for n, batch in enumerate(plan.get("batches") or [], 1):
        bid = str(batch.get("id") or "")
        if not bid or bid in seen:
            raise PlanError(f"batches 第 {n} 项：缺少 id 或 id 重复")
        org = orgs.get(str(batch.get("organisation") or ""))
        if org is None:
            raise PlanError(f"batches 第 {n} 项（{bid}）：机构 {batch.get('organisation')!r} 不在 organisations 中")
        if org["kind"] == "authority":
            raise PlanError(f"batches 第 {n} 项（{bid}）：人社部门不是评价机构")
        seen.add(bid)
        batches.append({**batch, "id": bid})
    sups, sup_ids = [], set()
    for n, sup in enumerate(plan.get("supervisors") or [], 1):
        sid = str(sup.get("id") or "")
        if not sid or sid in sup_ids:
            raise PlanError(f"supervisors 第 {n} 项：缺少 id 或 id 重复")
        sup_ids.add(sid)
        sups.append({**sup, "id": sid})
    for bid in plan.get("already_drawn") or []:
        if str(bid) not in seen:
            raise PlanError(f"already_drawn：批次 {bid} 不在 batches 中")
    return orgs, batches, sups


def eligible(supervisor: dict, organisation: str) -> bool:
    """Never a supervisor of the batch's own organisation or one with a declared conflict."""
    return (str(supervisor.get("organisation") or "") != organisation
            and organisation not in {str(c) for c in supervisor.get("conflicts") or []})


def run(plan: dict, seed_hex: str) -> dict:
    """The draw. Raises PlanError for an unusable plan or seed."""
    seed = seed_bytes(seed_hex)
    orgs, batches, sups = _check(plan)
    rates = _rates(plan)
    drawn_before = {str(b) for b in plan.get("already_drawn") or []}
    previous_pool = {str(b) for b in plan.get("previous_pool") or []} | drawn_before
    by_org: dict[str, list[dict]] = defaultdict(list)
    for b in batches:
        by_org[b["organisation"]].append(b)
    drawn = set(drawn_before)
    picks: list[dict] = []
    for kind in KINDS:
        members = sorted((c for c in by_org if orgs[c]["kind"] == kind), key=lambda c: rank(seed, f"org:{c}"))
        total = sum(len(by_org[c]) for c in members)
        need = math.ceil(rates[kind] * total) - sum(1 for c in members for b in by_org[c] if b["id"] in drawn)
        queues = {c: sorted((b for b in by_org[c] if b["id"] not in drawn),
                            key=lambda b: (b["id"] in previous_pool, rank(seed, f"batch:{b['id']}")))
                  for c in members}
        while need > 0:
            open_orgs = [c for c in members if queues[c]]
            if not open_orgs:
                break
            org = min(open_orgs, key=lambda c: (Fraction(sum(1 for b in by_org[c] if b["id"] in drawn),
                                                         len(by_org[c])), rank(seed, f"org:{c}")))
            batch = queues[org].pop(0)
            drawn.add(batch["id"])
            picks.append({"batch": batch["id"], "organisation": org, "kind": kind,
                          "city": str(orgs[org].get("city") or ""), "rank": rank(seed, f"batch:{batch['id']}")})
            need -= 1
    load = defaultdict(int, {str(k): int(v) for k, v in (plan.get("load") or {}).items()})
    for n, pick in enumerate(picks, 1):
        pick["order"] = n
        candidates = [s for s in sups if eligible(s, pick["organisation"])]
        if not candidates:
            pick["supervisor"] = None
            continue
        chosen = min(candidates, key=lambda s: (load[s["id"]], rank(seed, f"supervisor:{pick['batch']}:{s['id']}")))
        load[chosen["id"]] += 1
        pick["supervisor"] = chosen["id"]
    return {"format": RESULT_FORMAT, "year": plan.get("year"), "draw": plan.get("draw", 1),
            "plan_sha256": hashlib.sha256(canonical(plan)).hexdigest(), "seed": seed.hex(),
            "seed_sha256": hashlib.sha256(seed).hexdigest(), "picks": picks,
            "coverage": coverage(plan, drawn)}


def coverage(plan: dict, drawn: set[str]) -> dict:
    """Drawn against the minimum rates per kind, and the drawn share per organisation and city."""
    orgs, batches, _ = _check(plan)
    rates = _rates(plan)
    kinds = {k: {"batches": 0, "drawn": 0} for k in KINDS}
    per_org: dict[str, dict] = {}
    per_city: dict[str, dict] = {}
    for b in batches:
        org = orgs[b["organisation"]]
        hit = b["id"] in drawn
        for bucket in (kinds[org["kind"]],
                       per_org.setdefault(org["code"], {"organisation": org["code"], "name": org.get("name", ""),
                                                        "kind": org["kind"], "city": str(org.get("city") or ""),
                                                        "batches": 0, "drawn": 0}),
                       per_city.setdefault(str(org.get("city") or ""), {"city": str(org.get("city") or ""),
                                                                       "batches": 0, "drawn": 0})):
            bucket["batches"] += 1
            bucket["drawn"] += hit
    for kind, row in kinds.items():
        row["minimum_rate"] = float(rates[kind])
        row["minimum"] = math.ceil(rates[kind] * row["batches"])
        row["met"] = row["drawn"] >= row["minimum"]
    for row in (*per_org.values(), *per_city.values(), *kinds.values()):
        row["rate"] = round(row["drawn"] / row["batches"], 4) if row["batches"] else 0.0
    return {"kinds": kinds, "organisations": sorted(per_org.values(), key=lambda r: r["organisation"]),
            "cities": sorted(per_city.values(), key=lambda r: r["city"])}
