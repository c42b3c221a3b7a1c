// 考生登录 and 我的考试: log in with the admission-ticket number and ID number (+ the room's access
// code when the batch asks for it), then list the candidate's exams with a start button.
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, el = X.el, _ = X._, _f = X._f;

  var STATE_TEXT = {
    not_started: _("尚未开始"), available: _("可以开始"), open: _("可以开始"), upcoming: _("尚未开始"),
    in_progress: _("作答中"), submitted: _("已交卷"), timed_out: _("已收卷"), terminated: _("已终止"),
    closed: _("已结束"), ended: _("已结束"),
  };

  var FINISHED = { submitted: true, timed_out: true, terminated: true, closed: true, ended: true };

  function showError(box, message) {
    box.textContent = message || "";
    X.show(box, !!message);
  }

  // --- login -------------------------------------------------------------------------------------

  function normaliseId(value) {
    // Full-width digits and the letter x are common on Chinese keyboards and tablets.
    return value.replace(/[\uff10-\uff19]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xfee0); })
      .replace(/[\s\u3000]/g, "").toUpperCase().replace(/\uff38/g, "X");
  }

  function fieldError(input, message) {
    input.setAttribute("aria-invalid", message ? "true" : "false");
    input.closest(".exam-field").classList.toggle("has-error", !!message);
  }

  function onLogin(event) {
    event.preventDefault();
    var ticket = $("ticket_no"), idn = $("id_number"), code = $("access_code");
    var box = $("login-error");
    var t = normaliseId(ticket.value), n = normaliseId(idn.value), c = code.value.trim();
    ticket.value = t; idn.value = n;
    fieldError(ticket, !t); fieldError(idn, false); fieldError(code, false);
    if (!t) { showError(box, _("请输入准考证号。")); ticket.focus(); return; }
    if (!/^\d{17}[\dX]$/.test(n)) {
      fieldError(idn, true);
      showError(box, _("身份证号应为 18 位（最后一位可以是 X），请检查后重新输入。"));
      idn.focus();
      return;
    }
    var payload = { ticket_no: t, id_number: n };
    if (c) payload.access_code = c;
    var btn = $("login-btn");
    btn.disabled = true; btn.textContent = _("正在登录……");
    showError(box, "");
    X.request("POST", "/candidate/session", payload, { anonymous: true }).then(function (data) {
      X.session.start(data.token, data.candidate);
      idn.value = ""; code.value = "";
      showList();
    }, function (err) {
      var msg = err.message;
      if (/access_code/.test(err.code || "")) {
        X.show($("access-field"), true);
        fieldError(code, true);
        msg = c ? err.message : _f("%(reason)s（请输入监考员公布的考场口令）", { reason: err.message });
        showError(box, msg);
        code.focus();
        return;
      }
      if (err.status === 401) {
        msg = X.errorText(err, _("准考证号、身份证号或考场口令不正确，或当前不在考试时间内。请核对后重新输入。"));
      } else if (err.status === 429) msg = _("登录尝试次数过多，请等一分钟后再试，或举手示意监考员。");
      else if (err.status === 0) msg = _("无法连接考试服务器，请检查网络连接，或举手示意监考员。");
      showError(box, msg);
      ticket.focus();
    }).then(function () {
      btn.disabled = false; btn.textContent = _("登录");
    });
  }

  // --- exam list ---------------------------------------------------------------------------------

  function examId(exam) { return exam.exam_id !== undefined ? exam.exam_id : exam.id; }

  function attemptOf(exam) { return exam.attempt || null; }

  function stateOf(exam) {
    var a = attemptOf(exam);
    if (a && a.status) return a.status;
    return exam.state || exam.status || "available";
  }

  function canEnter(exam) {
    if (exam.can_start !== undefined) return !!exam.can_start;
    var s = stateOf(exam);
    return s === "available" || s === "open" || s === "not_started" || s === "in_progress";
  }

  function renderCandidate(cand) {
    var dl = $("candidate-props");
    dl.textContent = "";
    [[_("姓名"), cand.name], [_("准考证号"), cand.ticket_no], [_("身份证号"), cand.id_number_masked || cand.id_number]]
      .forEach(function (row) {
        if (!row[1]) return;
        dl.appendChild(el("dt", { text: row[0] }));
        dl.appendChild(el("dd", { text: row[1] }));
      });
    var who = $("who");
    who.textContent = (cand.name || "") + (cand.ticket_no ? " · " + cand.ticket_no : "");
    X.show(who, !!cand.name);
  }

  function renderExams(exams) {
    var box = $("exam-list");
    box.textContent = "";
    if (!exams.length) {
      box.appendChild(el("p", { className: "exam-lead", text: _("目前没有可以参加的考试。考试开始时间到了以后请刷新本页，或举手示意监考员。") }));
      return;
    }
    var list = el("ul", { className: "exam-exams" });
    exams.forEach(function (exam) {
      var state = stateOf(exam);
      var a = attemptOf(exam);
      var inProgress = state === "in_progress";
      // The state is said once, beside the name; a finished exam has nothing to press.
      var btn = FINISHED[state] ? null : el("button", {
        type: "button", className: "exam-btn exam-btn-primary exam-btn-large",
        "data-exam": examId(exam), disabled: !canEnter(exam),
        text: inProgress ? _("继续考试") : _("开始考试"),
      });
      var meta = [];
      var from = exam.window_start || exam.starts_at, until = exam.window_end || exam.ends_at;
      if (from && until) meta.push(_f("考试时间：%(from)s — %(until)s", { from: X.localTime(from), until: X.localTime(until, false) }));
      if (state === "not_started" && exam.starts_at) meta.push(_f("开始时间：%(time)s", { time: X.localTime(exam.starts_at) }));
      if (exam.duration_minutes) meta.push(_f("答题时长：%(n)s 分钟", { n: exam.duration_minutes }));
      var room = exam.room_name || exam.room;
      if (room && exam.seat_no) meta.push(_f("考场：%(room)s，座位 %(seat)s", { room: room, seat: exam.seat_no }));
      else if (room) meta.push(_f("考场：%(room)s", { room: room }));
      if (a && a.remaining_seconds !== undefined && inProgress) meta.push(_f("剩余时间：%(time)s", { time: X.clockText(a.remaining_seconds) }));
      list.appendChild(el("li", { className: "exam-exam" }, [
        el("div", { className: "exam-exam-info" }, [
          el("h2", { text: exam.name || exam.title || _("理论知识考试") }),
          el("p", { className: "exam-hint exam-meta" }, meta.map(function (m) { return el("span", { text: m }); })),
          el("span", { className: "exam-state exam-state-" + state, text: STATE_TEXT[state] || exam.state_label || state }),
        ]),
      ].concat(btn ? [btn] : [])));
      if (btn) btn.addEventListener("click", function () { startExam(exam, btn); });
    });
    box.appendChild(list);
    var first = box.querySelector("button:not([disabled])");
    if (first) first.focus();
  }

  function startExam(exam, btn) {
    var box = $("list-error");
    showError(box, "");
    btn.disabled = true;
    btn.textContent = _("正在进入……");
    X.request("POST", "/exams/" + encodeURIComponent(examId(exam)) + "/attempt", {}).then(function (data) {
      X.session.setAttempt({ id: data.attempt_id, exam_id: examId(exam), name: exam.name || exam.title || "" });
      window.location.assign(X.urls.app);
    }, function (err) {
      if (err.status === 401) { X.session.clear(); showLogin(err.message); return; }
      showError(box, err.message || _("暂时无法进入考试，请稍后再试或举手示意监考员。"));
      btn.disabled = false;
      btn.textContent = _("开始考试");
    });
  }

  function showList() {
    X.show($("login-view"), false);
    X.show($("list-view"), true);
    renderCandidate(X.session.candidate());
    showError($("list-error"), "");
    X.request("GET", "/candidate/exams").then(function (data) {
      renderExams(Array.isArray(data) ? data : data.exams || []);
      if (X.results) X.results.load(); // published results (成绩), shown only after publication
    }, function (err) {
      if (err.status === 401) { X.session.clear(); showLogin(err.code === "session_replaced" ? _("您的准考证已在其他设备登录，本机已退出。") : err.message); return; }
      $("exam-list").textContent = "";
      showError($("list-error"), err.message);
    });
  }

  function showLogin(message) {
    X.show($("list-view"), false);
    if (X.results) X.results.hide();
    X.show($("login-view"), true);
    X.show($("who"), false);
    showError($("login-error"), message || "");
    $("ticket_no").focus();
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("login-form").addEventListener("submit", onLogin);
    $("logout-btn").addEventListener("click", function () {
      X.request("DELETE", "/candidate/session").then(null, function () { /* best effort */ });
      X.session.clear();
      showLogin("");
    });
    if (X.session.token()) showList();
  });
})();
