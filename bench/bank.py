"""Benchmark of the item bank: Excel import throughput and search latency.

    python bench/bank.py [--items 100000] [--import-rows 20000] [--database-url URL]

Builds a fresh bank (SQLite file by default), imports a generated 20,000-row Excel file through
the real import path (parse + checks + writes) and reports items/s; grows the bank to 100,000
items and times typical searches through search_items() next to the same filter run as one bare
SQL statement on the same connection in the same run. Ends with one line of JSON whose
"targets_met" says whether: import >= 2,000 items/s, search p95 < 150 ms, and search p95 within
3x the bare query's p95.
"""

from __future__ import annotations

import argparse
import io
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from openpyxl import Workbook  # noqa: E402
from sqlalchemy import text  # noqa: E402

WORDS = ["电动机", "变压器", "接触器", "热继电器", "熔断器", "绝缘电阻", "兆欧表", "万用表", "三相异步",
         "星形联结", "三角形联结", "自锁", "互锁", "可编程控制器", "变频器", "漏电保护", "接地", "接零",
         "安全电压", "触电急救", "电气火灾", "照明线路", "导线截面", "功率因数", "电容器", "晶闸管",
         "二极管", "放大电路", "整流", "稳压", "电流互感器", "电压互感器", "额定电流", "转差率", "同步转速"]
TYPES = [("判断题", 0.3), ("单选题", 0.45), ("多选题", 0.15), ("填空题", 0.1)]


def _stem(rng: random.Random, n: int) -> str:
    a, b, c = rng.sample(WORDS, 3)
    return f"关于{a}与{b}的说法，在{c}的使用中应注意的是（  ）。编号{n}"


def make_rows(rng: random.Random, count: int, points: list[str], start: int = 0):
    kinds = [t for t, _ in TYPES]
    weights = [w for _, w in TYPES]
    for i in range(start, start + count):
        kind = rng.choices(kinds, weights)[0]
        stem = _stem(rng, i)
        opts = [f"{w}的第{j}种情况{i}" for j, w in enumerate(rng.sample(WORDS, 4))]
        if kind == "判断题":
            row = [kind, stem.replace("（  ）", ""), "", "", "", "", rng.choice(["√", "×"])]
        elif kind == "单选题":
            row = [kind, stem, *opts, rng.choice("ABCD")]
        elif kind == "多选题":
            row = [kind, stem, *opts, "".join(sorted(rng.sample("ABCD", rng.randint(2, 4))))]
        else:
            row = [kind, stem.replace("（  ）", "____"), "", "", "", "", f"答案{i}|{i}"]
            row[1] = f"{rng.choice(WORDS)}的额定值为____，编号{i}"
            row[6] = f"答案{i}"
        yield row + [f"解析{i}", rng.randint(1, 5), rng.choice(points), 1]


def make_xlsx(rows) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("试题")
    ws.append(["题型", "题干", "选项A", "选项B", "选项C", "选项D", "答案", "解析", "难度", "鉴定点", "分值"])
    for r in rows:
        ws.append(r)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    k = max(0, min(len(values) - 1, round(p / 100 * (len(values) - 1))))
    return values[k]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--import-rows", type=int, default=20_000)
    ap.add_argument("--repeat", type=int, default=40, help="runs of each search")
    ap.add_argument("--database-url", default=None)
    args = ap.parse_args()

    # A fresh SQLite file by default; --database-url must name a throwaway database (it is reset).
    tmp = tempfile.mkdtemp(prefix="bench-bank-")
    url = args.database_url or f"sqlite:///{tmp}/bank.db"
    from examsys import create_app
    from examsys.accounts.models import OrgKind
    from examsys.bank import exchange, search
    from examsys.bank.importing import import_drafts
    from examsys.extensions import db
    from examsys.interchange import parse_file
    from examsys.permissions import Role
    from tests.factories import Factories

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "EXAMSYS_DATA_KEY": "bench",
                      "EXAMSYS_ARGON2": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
                      "EXAMSYS_UPLOAD_DIR": f"{tmp}/uploads"})
    rng = random.Random(7)
    with app.app_context():
        db.drop_all()
        db.create_all()
        make = Factories(db)
        org = make.org(OrgKind.SOCIAL)
        writer = make.user(roles=(Role.WRITER,), org=org)
        std, points = _standard(db)
        db.session.commit()

        data = make_xlsx(make_rows(rng, args.import_rows, points))
        t0 = time.perf_counter()
        result = exchange.import_file(writer, org, std, "bench.xlsx", data, level=4)
        db.session.commit()
        import_s = time.perf_counter() - t0
        assert result.imported == args.import_rows, result.as_json()["errors"][:5]
        import_rate = args.import_rows / import_s

        # Grow the bank to --items with the same import service, from drafts (no Excel parsing).
        done = args.import_rows
        while done < args.items:
            n = min(20_000, args.items - done)
            drafts = parse_file("grow.xlsx", make_xlsx(make_rows(rng, n, points, start=done))).items
            import_drafts(writer, org, std, drafts, level=4)
            db.session.commit()
            done += n
        db.session.execute(text("ANALYZE"))
        db.session.commit()

        cases = {
            "text_2chars": search.SearchFilters(text="互锁"),
            "text_word": search.SearchFilters(text="热继电器"),
            "text_rare": search.SearchFilters(text="编号12345"),
            "filters": search.SearchFilters(standard_id=std.id, qtype="single", difficulty_min=3,
                                            difficulty_max=3),
            "text_and_filters": search.SearchFilters(text="变频器", qtype="multi", level=4),
        }
        figures = {}
        for name, f in cases.items():
            app_times, bare_times = [], []
            sql, params = _bare_sql(db, f, org.id)
            for _ in range(args.repeat):
                t = time.perf_counter()
                search.search_items(writer, f, page=1, per_page=30)
                app_times.append((time.perf_counter() - t) * 1000)
                db.session.expunge_all()
                t = time.perf_counter()
                db.session.execute(text(sql["count"]), params).scalar()
                db.session.execute(text(sql["page"]), params).all()
                bare_times.append((time.perf_counter() - t) * 1000)
            figures[name] = {"p50_ms": round(pct(app_times, 50), 2), "p95_ms": round(pct(app_times, 95), 2),
                             "bare_p50_ms": round(pct(bare_times, 50), 2),
                             "bare_p95_ms": round(pct(bare_times, 95), 2),
                             "ratio_p95": round(pct(app_times, 95) / max(pct(bare_times, 95), 0.01), 2)}
        worst_p95 = max(v["p95_ms"] for v in figures.values())
        worst_ratio = max(v["ratio_p95"] for v in figures.values())
        out = {"bench": "bank", "database": db.engine.dialect.name, "items": done,
               "import_rows": args.import_rows, "import_seconds": round(import_s, 2),
               "import_items_per_s": round(import_rate), "search": figures,
               "search_p95_worst_ms": worst_p95, "search_ratio_worst": worst_ratio,
               "median_p50_ms": round(statistics.median(v["p50_ms"] for v in figures.values()), 2)}
        out["targets_met"] = bool(import_rate >= 2000 and worst_p95 < 150 and worst_ratio <= 3)
        db.session.remove()
    print(json.dumps(out, ensure_ascii=False))
    return 0


def _standard(db):
    from examsys.standards.models import AssessmentPoint, Importance, KnowledgeRange, Standard

    std = Standard(code="6-31-01-03", name="电工", edition="2018", levels=[5, 4, 3])
    db.session.add(std)
    db.session.flush()
    codes = []
    for a in "ABCDEF":
        top = KnowledgeRange(standard_id=std.id, code=a, name=f"范围{a}", weights={})
        db.session.add(top)
        db.session.flush()
        for b in range(1, 6):
            sub = KnowledgeRange(standard_id=std.id, parent_id=top.id, code=f"{a}-{b:02d}", name=f"范围{a}{b}",
                                 weights={})
            db.session.add(sub)
            db.session.flush()
            for c in range(1, 5):
                code = f"{a}-{b:02d}-{c:03d}"
                db.session.add(AssessmentPoint(standard_id=std.id, range_id=sub.id, code=code, name=code,
                                               importance=Importance.X, levels=[5, 4, 3]))
                codes.append(code)
    db.session.flush()
    return std, codes


def _bare_sql(db, f, org_id: int) -> tuple[dict, dict]:
    """The same search written by hand: one count and one page query, no ORM."""
    sqlite = db.engine.dialect.name == "sqlite"
    where, params = ["organisation_id = :org"], {"org": org_id}
    if f.text:
        where.append("instr(search_text, :t) > 0" if sqlite else "strpos(search_text, :t) > 0")
        params["t"] = f.text
    if f.standard_id:
        where.append("standard_id = :std")
        params["std"] = f.standard_id
    if f.qtype:
        where.append("qtype = :qt")
        params["qt"] = f.qtype
    if f.level:
        where.append("(level_mask & :lm) != 0")
        params["lm"] = 1 << f.level
    if f.difficulty_min:
        where.append("difficulty >= :dmin")
        params["dmin"] = f.difficulty_min
    if f.difficulty_max:
        where.append("difficulty <= :dmax")
        params["dmax"] = f.difficulty_max
    clause = " AND ".join(where)
    return ({"count": f"SELECT count(*) FROM (SELECT id FROM items WHERE {clause} LIMIT 10001) s",
             "page": f"SELECT * FROM items WHERE {clause} ORDER BY updated_at DESC, id DESC LIMIT 30"}, params)


if __name__ == "__main__":
    sys.exit(main())
