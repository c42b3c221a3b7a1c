"""Runs one HiGHS solve in a child process under a hard wall-clock cap.

HiGHS can overshoot its own time limit on large models, and a request must
never hang, so the parent (``run_milp``) starts this file as a fresh Python
process, sends the model as an ``.npz`` on stdin, and kills the child when the
cap passes. The child (``main``) imports only numpy and highspy: running it by
path keeps the app package and its import cost out of the child. No pickle
crosses the boundary. Each child solves one model and exits; one spare child
is kept started and idle (blocked on stdin) so a request does not wait for the
interpreter and highspy to load. A spare inherited across fork is never used.
"""

from __future__ import annotations

import atexit
import io
import os
import resource
import subprocess
import sys
import threading
import time

import numpy as np

# The child stops HiGHS a little before the parent's cap so a good incumbent
# still comes back; the parent's kill is the guarantee, this is the courtesy.
STARTUP_ALLOWANCE = 0.25
CHILD_SHARE = 0.9

_spare_lock = threading.Lock()
_spare: tuple[int, subprocess.Popen] | None = None


def _start_worker() -> subprocess.Popen:
    return subprocess.Popen(  # noqa: S603 - fixed argv: this interpreter and this file
        [sys.executable, "-P", os.path.abspath(__file__)],  # -P: no script dir on sys.path
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def _take_worker() -> subprocess.Popen:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare[0] == os.getpid() and spare[1].poll() is None:
        return spare[1]
    return _start_worker()


def _refill_spare() -> None:
    global _spare
    with _spare_lock:
        if _spare is None or _spare[0] != os.getpid():
            _spare = (os.getpid(), _start_worker())


@atexit.register
def _discard_spare() -> None:
    global _spare
    with _spare_lock:
        spare, _spare = _spare, None
    if spare is not None and spare[0] == os.getpid():
        spare[1].kill()
        spare[1].communicate()


def run_milp(
    arrays: dict[str, np.ndarray], *, time_limit: float, seed: int = 0, mip_gap: float = 1e-4,
    total: dict[str, np.ndarray] | None = None,
) -> dict:
    """Solve in a child process. Returns a dict with ``status`` one of
    "optimal", "feasible" (stopped early with a solution), "infeasible",
    "timeout" (no solution within the cap), "error"; plus ``x``, ``objective``,
    ``mip_gap``, ``highs_seconds``, ``wall_seconds``, ``peak_rss_kb``, ``message``,
    ``stage``. ``total``: the aggregate model's arrays plus ``link_t`` (its
    column per group) and ``link_c`` (groups x forms columns of the full model)."""
    started = time.monotonic()
    if time_limit <= 0:
        return {"status": "timeout", "wall_seconds": 0.0, "message": "no time left"}
    options = {
        "time_limit": np.float64(max(0.01, time_limit * CHILD_SHARE - STARTUP_ALLOWANCE)),
        "seed": np.int64(seed % 2_147_483_647),
        "mip_gap": np.float64(mip_gap),
    }
    buf = io.BytesIO()
    extra = {} if total is None else {
        (k if k.startswith("link_") else "r_" + k): v for k, v in total.items()}
    np.savez(buf, **arrays, **extra, **options)
    proc = _take_worker()
    try:
        out, err = proc.communicate(buf.getvalue(), timeout=time_limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        _refill_spare()
        return {
            "status": "timeout",
            "wall_seconds": time.monotonic() - started,
            "message": f"killed after {time_limit:.1f}s",
        }
    wall = time.monotonic() - started
    _refill_spare()
    if proc.returncode != 0 or not out:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-3:]
        return {"status": "error", "wall_seconds": wall,
                "message": f"worker exit {proc.returncode}: {' | '.join(tail)}"}
    with np.load(io.BytesIO(out), allow_pickle=False) as res:
        result = {
            "status": str(res["status"]),
            "x": res["x"],
            "objective": float(res["objective"]),
            "mip_gap": float(res["mip_gap"]),
            "highs_seconds": float(res["runtime"]),
            "peak_rss_kb": int(res["peak_rss_kb"]),
            "message": str(res["message"]),
            "stage": str(res["stage"]),
        }
    result["wall_seconds"] = wall
    return result


def _highs(data, prefix: str, time_limit: float, *, zero_cost: bool = False):
    import highspy  # heavy: only the solver subprocess loads it

    def arr(name):
        return data[prefix + name]

    lp = highspy.HighsLp()
    lp.num_col_ = int(len(arr("col_cost")))
    lp.num_row_ = int(len(arr("row_lower")))
    lp.col_cost_ = np.zeros(lp.num_col_) if zero_cost else arr("col_cost")
    lp.col_lower_ = arr("col_lower")
    lp.col_upper_ = arr("col_upper")
    lp.row_lower_ = arr("row_lower")
    lp.row_upper_ = arr("row_upper")
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = lp.num_col_
    lp.a_matrix_.num_row_ = lp.num_row_
    lp.a_matrix_.start_ = arr("a_start")
    lp.a_matrix_.index_ = arr("a_index")
    lp.a_matrix_.value_ = arr("a_value")
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(v)] for v in arr("integrality")]
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", max(0.01, float(time_limit)))
    h.setOptionValue("random_seed", int(data["seed"]))
    h.setOptionValue("mip_rel_gap", float(data["mip_gap"]))
    h.passModel(lp)
    return h


def _outcome(h) -> tuple[str, np.ndarray | None]:
    import highspy  # heavy: only the solver subprocess loads it

    status = h.getModelStatus()
    has_solution = h.getInfo().primal_solution_status == 2  # kSolutionStatusFeasible
    S = highspy.HighsModelStatus
    if status == S.kOptimal:
        name = "optimal"
    elif status in (S.kInfeasible, S.kUnboundedOrInfeasible):
        name = "infeasible"
    elif has_solution:
        name = "feasible"
    elif status in (S.kTimeLimit, S.kInterrupt, S.kIterationLimit):
        name = "timeout"
    else:
        name = "error"
    x = np.asarray(h.getSolution().col_value, dtype=np.float64) if has_solution else None
    return name, x


def _result(name, x, objective, gap, started, message, stage) -> dict[str, np.ndarray]:
    return {
        "status": np.array(name),
        "x": np.zeros(0) if x is None else x,
        "objective": np.float64(objective),
        "mip_gap": np.float64(gap),
        "runtime": np.float64(time.monotonic() - started),
        "message": np.array(message),
        "stage": np.array(stage),
    }


def _split(data, totals: np.ndarray, balanced: bool, deadline: float) -> np.ndarray | None:
    """Share each group's total among the forms so every form meets every rule.
    ``balanced``: each form takes floor(T/F) or ceil(T/F) of a group, which
    turns most columns into fixed values or binaries and is usually feasible."""
    link = data["link_c"]
    n, F = link.shape
    h = _highs(data, "", deadline - time.monotonic(), zero_cost=True)
    if balanced:
        lo = np.floor(totals / F)
        hi = np.ceil(totals / F)
        cols = link.reshape(-1).astype(np.int32)
        h.changeColsBounds(len(cols), cols, np.repeat(lo, F), np.repeat(hi, F))
    h.addRows(n, totals, totals, n * F, np.arange(0, n * F, F, dtype=np.int32),
              link.reshape(-1).astype(np.int32), np.ones(n * F))
    h.run()
    return _outcome(h)[1]


def _solve(data) -> dict[str, np.ndarray]:
    """Solve the model; when an aggregate model (prefix ``r_``) is given, first
    solve it and try to split its optimum into forms (a feasibility problem that
    is far easier than optimising the full model); fall back to the full model."""
    started = time.monotonic()
    deadline = started + float(data["time_limit"])
    if "r_col_cost" in data:
        hr = _highs(data, "r_", deadline - time.monotonic())
        hr.run()
        name, xr = _outcome(hr)
        if name == "infeasible":  # the aggregate is a relaxation
            return _result(name, None, 0.0, 0.0, started, "aggregate infeasible", "total")
        if name == "optimal":
            totals = np.rint(xr[data["link_t"]])
            for balanced in (True, False):
                xs = _split(data, totals, balanced, deadline)
                if xs is not None:
                    info = hr.getInfo()
                    return _result("optimal", xs, info.objective_function_value, info.mip_gap,
                                   started, "aggregate optimum split into forms",
                                   "split-balanced" if balanced else "split")
    h = _highs(data, "", deadline - time.monotonic())
    h.run()
    name, x = _outcome(h)
    info = h.getInfo()
    has = x is not None
    return _result(name, x, info.objective_function_value if has else 0.0,
                   info.mip_gap if has else 0.0, started,
                   h.modelStatusToString(h.getModelStatus()), "full")


def main() -> None:
    import highspy  # noqa: F401 - heavy: loaded in the worker while idle, before the job arrives

    # Keep the result channel clean: HiGHS prints a banner on stdout when created.
    result_fd = os.dup(1)
    os.dup2(2, 1)
    payload = sys.stdin.buffer.read()
    if not payload:  # the parent exited or discarded this spare
        return
    with np.load(io.BytesIO(payload), allow_pickle=False) as data:
        result = _solve(data)
    result["peak_rss_kb"] = np.int64(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    buf = io.BytesIO()
    np.savez(buf, **result)
    with os.fdopen(result_fd, "wb") as out:
        out.write(buf.getvalue())


if __name__ == "__main__":
    main()
