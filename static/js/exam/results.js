// 我的成绩: published results (GET /candidate/results) under the exam list, with the 公示 dates,
// the candidate's score review applications, and — while the application window is open — a
// dialog to apply for a score review (POST /candidate/results/review). Shown only after
// publication: before it the server returns nothing and the section stays hidden.
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, el = X.el;

  var SCOPE_TEXT = {
    unmarked: "漏评（未评分部分）", adding: "合分错误", recording: "登分错误", zero_or_absent: "机评试卷 0 分或无成绩",
  };
  var current = null; // the result the dialog applies for

  function showBox(box, message) {
    box.textContent = message || "";
    X.show(box, !!message);
  }

  function num(v) {
    if (v === null || v === undefined) return "—";
    var n = Number(v);
    return isNaN(n) ? String(v) : String(Math.round(n * 100) / 100);
  }

  function reviewText(r) {
    var scope = SCOPE_TEXT[r.scope] || r.scope_label || r.scope;
    if (r.status === "answered") {
      return "成绩复核（" + scope + "）已答复" + (r.outcome_label ? "：" + r.outcome_label : "") +
        (r.answer ? "。" + r.answer : "");
    }
    return "成绩复核（" + scope + "）处理中，答复期限：" + X.localTime(r.due_at);
  }

  function renderResult(res) {
    var scored = res.status === "scored";
    var passed = !!res.passed;
    var head = el("div", { className: "exam-result-head" }, [
      el("h3", { text: res.batch_name || "理论知识考试" }),
      el("span", { className: "exam-result-verdict " + (passed ? "is-pass" : "is-fail"), text: passed ? "合格" : "不合格" }),
    ]);
    var total = el("p", { className: "exam-result-total" }, scored
      ? ["总分 ", el("strong", { className: "exam-result-score", text: num(res.total) }),
        " / " + num(res.total_points) + "　（合格线 " + num(res.pass_mark) + " 分）"]
      : [el("strong", { className: "exam-result-score", text: "无成绩" }), "（缺考或未交卷）"]);
    var rows = (res.sections || []).map(function (s) {
      return el("tr", null, [el("th", { scope: "row", text: s.name }), el("td", { text: num(s.score) }),
        el("td", { text: num(s.max) })]);
    });
    var table = rows.length ? el("table", { className: "exam-result-sections" }, [
      el("caption", { text: "各部分得分" }),
      el("thead", null, [el("tr", null, [el("th", { scope: "col", text: "部分" }), el("th", { scope: "col", text: "得分" }),
        el("th", { scope: "col", text: "满分" })])]),
      el("tbody", null, rows),
    ]) : null;
    var dates = [];
    if (res.notice_ends_at) dates.push("公示期至：" + X.localTime(res.notice_ends_at));
    if (res.can_apply && res.review_apply_until) dates.push("复核申请截止：" + X.localTime(res.review_apply_until));
    var reviews = res.reviews || [];
    var list = reviews.length ? el("ul", { className: "exam-result-reviews" }, reviews.map(function (r) {
      return el("li", { className: "exam-review exam-review-" + r.status, text: reviewText(r) });
    })) : null;
    var open = reviews.some(function (r) { return r.status !== "answered"; });
    var btn = null;
    if (res.can_apply && !open) {
      btn = el("button", { type: "button", className: "exam-btn exam-review-btn", text: "申请成绩复核" });
      btn.addEventListener("click", function () { openDialog(res, btn); });
    }
    return el("li", { className: "exam-result", "data-exam": res.exam_id || res.batch_id }, [
      head, total, table, el("p", { className: "exam-hint", text: dates.join("　") }), list,
      btn ? el("div", { className: "exam-actions" }, [btn]) : null,
    ]);
  }

  function render(results) {
    var box = $("result-list");
    box.textContent = "";
    X.show($("results-section"), results.length > 0);
    if (!results.length) return;
    box.appendChild(el("ul", { className: "exam-results-list" }, results.map(renderResult)));
  }

  // Load (or reload) the published results; errors other than "none yet" show in Chinese.
  function load() {
    showBox($("results-error"), "");
    return X.request("GET", "/candidate/results").then(function (data) {
      render((data && data.results) || []);
    }, function (err) {
      if (err.status === 401) return; // the exam list shows the login again
      X.show($("results-section"), true);
      showBox($("results-error"), "暂时无法读取成绩：" + (err.message || "请稍后再试"));
    });
  }

  // --- the review dialog -------------------------------------------------------------------------

  var opener = null;

  function openDialog(res, btn) {
    current = res;
    opener = btn;
    var form = $("review-form");
    form.reset();
    showBox($("review-error"), "");
    $("review-submit").disabled = false;
    var d = $("review-dialog");
    d.showModal();
    form.querySelector("input[name=scope]").focus();
  }

  function closeDialog() {
    var d = $("review-dialog");
    if (d.open) d.close();
  }

  function onSubmit(event) {
    event.preventDefault();
    var form = $("review-form"), box = $("review-error");
    var checked = form.querySelector("input[name=scope]:checked");
    var reason = $("review-reason").value.trim();
    if (!checked) { showBox(box, "请选择复核范围。"); form.querySelector("input[name=scope]").focus(); return; }
    if (!reason) { showBox(box, "请填写申请复核的理由。"); $("review-reason").focus(); return; }
    var btn = $("review-submit");
    btn.disabled = true;
    btn.textContent = "正在提交……";
    showBox(box, "");
    X.request("POST", "/candidate/results/review",
      { exam_id: current.exam_id || current.batch_id, scope: checked.value, reason: reason }).then(function (req) {
      closeDialog();
      showBox($("results-status"), "已提交成绩复核申请（" + (SCOPE_TEXT[req.scope] || req.scope) + "），答复期限：" +
        X.localTime(req.due_at) + "。");
      return load().then(function () { $("results-status").focus(); });
    }, function (err) {
      var msg = err.message;
      if (err.status === 0) msg = "无法连接服务器，申请未提交，请检查网络后重试。";
      else if (err.status === 401) msg = "登录已失效，请退出后重新登录再申请。";
      showBox(box, msg || "申请未能提交，请稍后再试。");
    }).then(function () {
      btn.disabled = false;
      btn.textContent = "提交申请";
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("review-form").addEventListener("submit", onSubmit);
    $("review-cancel").addEventListener("click", closeDialog);
    $("review-dialog").addEventListener("close", function () {
      if (opener && document.body.contains(opener)) opener.focus();
      opener = null;
    });
    $("results-status").setAttribute("tabindex", "-1");
  });

  X.results = { load: load, hide: function () { X.show($("results-section"), false); showBox($("results-status"), ""); } };
})();
