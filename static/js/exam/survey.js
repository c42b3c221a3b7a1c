// The satisfaction survey shown after handing in: its questions (from the server, or the built-in
// ones), the star ratings, sending it once, and skipping it. Done once per attempt and tab.
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, el = X.el, _ = X._, _f = X._f;
  var P = X.page, S = P.S;

  // Questions and scale come from GET /candidate/survey; these are the fallback if that fails.
  // Their texts are msgids, so the server's (Chinese) texts of the same questions translate too.
  var SURVEY = [
    ["q1", _("您对考前通知和考务安排是否满意？")],
    ["q2", _("您对考场环境和设备是否满意？")],
    ["q3", _("您对考评人员的服务和纪律是否满意？")],
    ["q4", _("您对考试系统的易用性和稳定性是否满意？")],
    ["q5", _("您对本次评价的总体情况是否满意？")],
  ];
  var STARS = [_("非常不满意"), _("不满意"), _("一般"), _("满意"), _("非常满意")];

  function surveyKey() { return "examsys.exam.survey." + S.attemptId; }
  P.surveyDone = function () { try { return window.sessionStorage.getItem(surveyKey()) === "1"; } catch (e) { return false; } };
  function markSurveyDone() { try { window.sessionStorage.setItem(surveyKey(), "1"); } catch (e) { /* ignore */ } }

  function buildSurvey() {
    var box = $("survey-questions");
    if (box.childNodes.length) return;
    SURVEY.forEach(function (q, qi) {
      var fs = el("fieldset", { className: "exam-stars" }, [el("legend", { text: (qi + 1) + ". " + q[1] })]);
      var row = el("div", { className: "exam-stars-row" });
      for (var n = 1; n <= 5; n++) {
        row.appendChild(el("label", { className: "exam-star" }, [
          el("input", { type: "radio", name: "s-" + q[0], value: n, className: "exam-choice-input", required: true }),
          el("span", { className: "exam-star-icons", "aria-hidden": "true", text: new Array(n + 1).join("★") }),
          el("span", { className: "exam-star-text", text: _f("%(n)s 星 %(label)s", { n: n, label: STARS[n - 1] }) }),
        ]));
      }
      fs.appendChild(row);
      box.appendChild(fs);
    });
  }

  P.loadSurvey = function () {
    return X.request("GET", "/candidate/survey", undefined, { timeout: 8000 }).then(function (data) {
      if (data && Array.isArray(data.questions) && data.questions.length) {
        SURVEY = data.questions.map(function (q) { return [q.id !== undefined ? q.id : q.key, X.i18n.label(q.text)]; });
      }
      if (data && Array.isArray(data.scale) && data.scale.length === 5) {
        STARS = data.scale.map(function (s) { return X.i18n.label(s.label); });
      }
    }, function () { /* keep the built-in questions */ }).then(buildSurvey);
  };

  function sendSurvey(e) {
    e.preventDefault();
    var ratings = {}, missing = [];
    SURVEY.forEach(function (q, qi) {
      var c = document.querySelector('input[name="s-' + q[0] + '"]:checked');
      if (c) ratings[q[0]] = parseInt(c.value, 10); else missing.push(qi + 1);
    });
    var errBox = $("survey-error");
    if (missing.length) {
      // TRANSLATORS: separates the numbers of the unanswered survey questions ("第 1、3 项").
      var numbers = missing.join(_("、"));
      errBox.textContent = _f("请为第 %(numbers)s 项打分（如不想填写，可以点“跳过”）。", { numbers: numbers });
      X.show(errBox, true);
      document.querySelector('input[name="s-' + SURVEY[missing[0] - 1][0] + '"]').focus();
      return;
    }
    X.show(errBox, false);
    var btn = $("survey-submit");
    btn.disabled = true;
    var payload = { answers: ratings, comment: $("survey-comment").value.trim() };
    X.request("POST", "/attempts/" + encodeURIComponent(S.attemptId) + "/survey", payload).then(function () {
      markSurveyDone();
      P.view("done");
    }, function (err) {
      if (err.code === "already_answered") { markSurveyDone(); P.view("done"); return; }
      btn.disabled = false;
      errBox.textContent = _f("调查提交失败：%(reason)s", { reason: err.message });
      X.show(errBox, true);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("survey-form").addEventListener("submit", sendSurvey);
    $("survey-skip").addEventListener("click", function () { markSurveyDone(); P.view("done"); });
  });
})();
