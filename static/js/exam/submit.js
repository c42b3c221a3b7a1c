// Handing in on the exam page: the confirmation dialog (unanswered and flagged questions, answers
// still being saved), waiting for the saver to drain, the submit request (retried when automatic,
// at time-up), and the finished page that follows (the survey, or the end page when terminated).
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, el = X.el, _ = X._, _f = X._f;
  var P = X.page, S = P.S;

  var DRAIN_MAX_MS = 12000;

  function waitForDrain(maxMs) {
    S.saver.flush();
    var start = Date.now();
    return new Promise(function (resolve) {
      (function poll() {
        if (S.saver.pendingCount() === 0 || S.saver.stopped || Date.now() - start > maxMs) return resolve(S.saver.pendingCount());
        window.setTimeout(poll, 150);
      })();
    });
  }

  // Sorted positions → [first, last] runs of consecutive ones: [2,3,4,5,6,11] → [[2,6],[11,11]].
  P.runs = function (positions) {
    var out = [];
    positions.forEach(function (i) {
      var last = out[out.length - 1];
      if (last && i === last[1] + 1) last[1] = i;
      else out.push([i, i]);
    });
    return out;
  };

  function openSubmitDialog() {
    var box = $("submit-summary");
    box.textContent = "";
    var unanswered = [], flagged = [];
    S.refs.forEach(function (ref, i) {
      if (!P.answered(ref)) unanswered.push(i);
      if (S.buffer.flagged(ref)) flagged.push(i);
    });
    box.appendChild(el("p", { className: "exam-lead", text: _f("共 %(total)s 题，已答 %(done)s 题，未答 %(left)s 题。", {
      total: S.refs.length, done: S.refs.length - unanswered.length, left: unanswered.length }) }));
    // One button per run of consecutive questions ("第 3–7 题"), going to the run's first one:
    // 92 unanswered questions in a row are one button, not 92.
    function list(title, positions, cls) {
      if (!positions.length) return;
      box.appendChild(el("p", { className: "exam-dialog-sub", text: title }));
      var ul = el("ul", { className: "exam-dialog-list " + cls });
      P.runs(positions).forEach(function (run) {
        var text = run[0] === run[1]
          ? _f("第 %(n)s 题 %(type)s", { n: run[0] + 1, type: X.TYPE_LABELS[S.items[run[0]].qtype] || "" })
          : _f("第 %(from)s–%(to)s 题", { from: run[0] + 1, to: run[1] + 1 });
        ul.appendChild(el("li", {}, [el("button", { type: "submit", value: "goto-" + run[0], className: "exam-chip",
          text: text })]));
      });
      box.appendChild(ul);
    }
    list(_("以下题目还没有作答（点击可返回该题）："), unanswered, "exam-unanswered");
    list(_("以下题目做了标记："), flagged, "exam-flagged");
    var pending = S.saver.pendingCount();
    if (pending) box.appendChild(el("p", { className: "exam-warn-text", text: _f("还有 %(n)s 题的答案正在保存到服务器，确认交卷时会先保存它们。", { n: pending }) }));
    if (!unanswered.length) box.appendChild(el("p", { text: _("所有题目都已作答。") }));
    $("submit-dialog").returnValue = "";
    $("submit-dialog").showModal();
  }

  function onDialogClose() {
    var v = $("submit-dialog").returnValue || "";
    if (v.indexOf("goto-") === 0) { P.show(parseInt(v.slice(5), 10), true); return; }
    if (v === "confirm") P.submit(false);
  }

  P.submit = function submit(auto) {
    var btn = $("submit-btn");
    btn.disabled = true;
    P.info(auto ? "" : _("正在交卷，请稍候……"));
    return waitForDrain(DRAIN_MAX_MS).then(function (pending) {
      if (pending && !auto) {
        btn.disabled = false;
        P.info(_f("网络未恢复，还有 %(n)s 题答案没有提交到服务器。请不要关闭页面，恢复连接后再交卷，或举手示意监考员。", { n: pending }));
        return;
      }
      return X.request("POST", "/attempts/" + encodeURIComponent(S.attemptId) + "/submit", {}).then(function (res) {
        P.finished((res && res.status) || "submitted");
      }, function (err) {
        if (err.status === 401) return P.sessionEnded(err);
        if (!err.transient()) { P.heartbeatThenFinish(); return; }
        btn.disabled = false;
        P.info(_f("交卷没有成功：%(reason)s。请稍后再点“交卷”，或举手示意监考员。", { reason: err.message }));
        if (auto) window.setTimeout(function () { submit(true); }, X.backoff(2));
      });
    });
  };

  P.heartbeatThenFinish = function () {
    X.request("GET", "/attempts/" + encodeURIComponent(S.attemptId)).then(function (att) {
      if (att.status && att.status !== "in_progress") P.finished(att.status);
    }, function () { /* keep the page as it is */ });
  };

  P.finished = function (status) {
    if (S.finished && !$("survey-view").hidden) return;
    var hadPending = S.buffer ? S.buffer.pendingRefs().length : 0;
    P.stopAll();
    S.locked = true;
    ["timer", "submit-btn", "save-state", "fullscreen-btn"].forEach(function (id) { X.show($(id), false); });
    if ($("timeup-dialog").open) $("timeup-dialog").close();
    if ($("submit-dialog").open) $("submit-dialog").close("cancel");
    X.show($("offline-banner"), false);
    P.info("");
    if (S.buffer && !hadPending) S.buffer.clear();
    if (status === "terminated") {
      $("done-title").textContent = _("考试已终止");
      $("done-text").textContent = _("本场考试已由监考员终止，请听从监考员安排。");
      P.view("done");
      return;
    }
    $("survey-title").textContent = status === "timed_out" ? _("考试时间到，已自动交卷") : _("交卷成功");
    if (P.surveyDone()) { P.view("done"); return; }
    P.loadSurvey().then(function () {
      P.view("survey");
      $("survey-title").setAttribute("tabindex", "-1");
      $("survey-title").focus();
    });
  };

  document.addEventListener("DOMContentLoaded", function () {
    $("submit-btn").addEventListener("click", function () { if (!S.locked) openSubmitDialog(); });
    $("submit-dialog").addEventListener("close", onDialogClose);
  });
})();
