// 我的成绩: published results (GET /candidate/results) under the exam list, with the 公示 dates,
// the candidate's score review applications, and — while the application window is open — a
// dialog to apply for a score review (POST /candidate/results/review). Shown only after
// publication: before it the server returns nothing and the section stays hidden.
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, el = X.el, _ = X._, _f = X._f;

  var SCOPE_TEXT = {
    unmarked: _("漏评（未评分部分）"), adding: _("合分错误"), recording: _("登分错误"),
    zero_or_absent: _("机评试卷 0 分或无成绩"),
  };
  var OUTCOME_TEXT = { unchanged: _("成绩无误"), corrected: _("已更正"), refused: _("不予受理") };
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
    var scope = SCOPE_TEXT[r.scope] || X.i18n.label(r.scope_label) || r.scope;
    if (r.status === "answered") {
      var p = { scope: scope, outcome: OUTCOME_TEXT[r.outcome] || X.i18n.label(r.outcome_label), answer: r.answer };
      if (p.outcome && p.answer) return _f("成绩复核（%(scope)s）已答复：%(outcome)s。%(answer)s", p);
      if (p.outcome) return _f("成绩复核（%(scope)s）已答复：%(outcome)s", p);
      if (p.answer) return _f("成绩复核（%(scope)s）已答复。%(answer)s", p);
      return _f("成绩复核（%(scope)s）已答复", p);
    }
    return _f("成绩复核（%(scope)s）处理中，答复期限：%(due)s", { scope: scope, due: X.localTime(r.due_at) });
  }

  function renderResult(res) {
    var scored = res.status === "scored";
    var passed = !!res.passed;
    var head = el("div", { className: "exam-result-head" }, [
      el("h3", { text: res.batch_name || _("理论知识考试") }),
      el("span", { className: "exam-result-verdict " + (passed ? "is-pass" : "is-fail"), text: passed ? _("合格") : _("不合格") }),
    ]);
    var total = el("p", { className: "exam-result-total" }, scored
      ? X.fill(_("总分 %(score)s / %(total)s　（合格线 %(pass)s 分）"), {
        score: el("strong", { className: "exam-result-score", text: num(res.total) }),
        total: num(res.total_points), pass: num(res.pass_mark) })
      : X.fill(_("%(score)s（缺考或未交卷）"), { score: el("strong", { className: "exam-result-score", text: _("无成绩") }) }));
    var rows = (res.sections || []).map(function (s) {
      return el("tr", null, [el("th", { scope: "row", text: X.i18n.label(s.name) }), el("td", { text: num(s.score) }),
        el("td", { text: num(s.max) })]);
    });
    var table = rows.length ? el("table", { className: "exam-result-sections" }, [
      el("caption", { text: _("各部分得分") }),
      el("thead", null, [el("tr", null, [el("th", { scope: "col", text: _("部分") }), el("th", { scope: "col", text: _("得分") }),
        el("th", { scope: "col", text: _("满分") })])]),
      el("tbody", null, rows),
    ]) : null;
    var dates = [];
    if (res.notice_ends_at) dates.push(_f("公示期至：%(time)s", { time: X.localTime(res.notice_ends_at) }));
    if (res.can_apply && res.review_apply_until) {
      dates.push(_f("复核申请截止：%(time)s", { time: X.localTime(res.review_apply_until) }));
    }
    var reviews = res.reviews || [];
    var list = reviews.length ? el("ul", { className: "exam-result-reviews" }, reviews.map(function (r) {
      return el("li", { className: "exam-review exam-review-" + r.status, text: reviewText(r) });
    })) : null;
    var open = reviews.some(function (r) { return r.status !== "answered"; });
    var btn = null;
    if (res.can_apply && !open) {
      btn = el("button", { type: "button", className: "exam-btn exam-review-btn", text: _("申请成绩复核") });
      btn.addEventListener("click", function () { openDialog(res, btn); });
    }
    return el("li", { className: "exam-result", "data-exam": res.exam_id || res.batch_id }, [
      head, total, table, el("p", { className: "exam-hint exam-meta" }, dates.map(function (d) { return el("span", { text: d }); })), list,
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

  // Load (or reload) the published results; errors other than "none yet" show in the box.
  function load() {
    showBox($("results-error"), "");
    return X.request("GET", "/candidate/results").then(function (data) {
      render((data && data.results) || []);
    }, function (err) {
      if (err.status === 401) return; // the exam list shows the login again
      X.show($("results-section"), true);
      var reason = err.message || _("请稍后再试");
      showBox($("results-error"), _f("暂时无法读取成绩：%(reason)s", { reason: reason }));
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
    if (!checked) { showBox(box, _("请选择复核范围。")); form.querySelector("input[name=scope]").focus(); return; }
    if (!reason) { showBox(box, _("请填写申请复核的理由。")); $("review-reason").focus(); return; }
    var btn = $("review-submit");
    btn.disabled = true;
    btn.textContent = _("正在提交……");
    showBox(box, "");
    X.request("POST", "/candidate/results/review",
      { exam_id: current.exam_id || current.batch_id, scope: checked.value, reason: reason }).then(function (req) {
      closeDialog();
      showBox($("results-status"), _f("已提交成绩复核申请（%(scope)s），答复期限：%(due)s。", {
        scope: SCOPE_TEXT[req.scope] || req.scope, due: X.localTime(req.due_at) }));
      return load().then(function () { $("results-status").focus(); });
    }, function (err) {
      var msg = err.message;
      if (err.status === 0) msg = _("无法连接服务器，申请未提交，请检查网络后重试。");
      else if (err.status === 401) msg = _("登录已失效，请退出后重新登录再申请。");
      showBox(box, msg || _("申请未能提交，请稍后再试。"));
    }).then(function () {
      btn.disabled = false;
      btn.textContent = _("提交申请");
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
