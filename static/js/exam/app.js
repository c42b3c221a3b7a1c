// The exam page: loads the attempt and paper, shows one question at a time with the answer card
// (navigator), autosaves through ExamSys.Saver, keeps the countdown in step with the server,
// submits with a confirmation dialog, then the satisfaction survey and a thank-you page.
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, el = X.el, _ = X._, _f = X._f;

  var HEARTBEAT_MS = 30000, TEXT_DEBOUNCE_MS = 800, FLUSH_BEFORE_END_S = 5, DRAIN_MAX_MS = 12000;

  var S = {
    attemptId: null, items: [], refs: [], sections: {}, index: {}, pos: 0, buffer: null, saver: null, integrity: null,
    remaining: null, remainingAt: 0, locked: false, finished: false, flushedForEnd: false,
    heartbeat: null, ticker: null, warned: {},
  };

  function refOf(item) {
    var r = item.item_ref !== undefined ? item.item_ref : item.ref !== undefined ? item.ref : item.id;
    return String(r);
  }

  // --- time -------------------------------------------------------------------------------------

  function setRemaining(seconds) {
    if (typeof seconds !== "number" || isNaN(seconds)) return;
    S.remaining = seconds;
    S.remainingAt = window.performance.now();
    tick();
  }

  function remainingNow() {
    if (S.remaining === null) return null;
    return S.remaining - (window.performance.now() - S.remainingAt) / 1000;
  }
  // Read-only peek for browser tests and support staff in devtools.
  X.status = function () {
    return { remaining: remainingNow(), pending: S.saver ? S.saver.pendingCount() : 0,
      offline: S.saver ? S.saver.offline : false, position: S.pos, attemptId: S.attemptId };
  };

  function tick() {
    var left = remainingNow();
    if (left === null) return;
    var value = $("timer-value"), box = $("timer");
    value.textContent = left <= 0 ? _("时间到") : X.clockText(left);
    box.classList.toggle("is-low", left <= 300 && left > 60);
    box.classList.toggle("is-critical", left <= 60);
    if (S.finished) return;
    [[900, _("距离考试结束还有 15 分钟。")], [300, _("距离考试结束还有 5 分钟，请抓紧时间检查答案。")]].forEach(function (w) {
      if (left <= w[0] && left > w[0] - 60 && !S.warned[w[0]]) { S.warned[w[0]] = true; info(w[1]); }
    });
    if (left <= FLUSH_BEFORE_END_S && !S.flushedForEnd) { S.flushedForEnd = true; S.saver.flush(); }
    if (left <= 0 && !S.locked) timeUp();
  }

  function info(message) {
    var b = $("info-banner");
    b.textContent = message || "";
    X.show(b, !!message);
  }

  // --- connection and save state ----------------------------------------------------------------

  function onStatus(st) {
    var box = $("save-state");
    box.classList.remove("is-ok", "is-busy", "is-warn");
    if (st.offline) { box.textContent = _f("⚠ %(n)s 题待提交", { n: st.pending }); box.classList.add("is-warn"); }
    else if (st.pending || st.sending) { box.textContent = _("… 正在保存"); box.classList.add("is-busy"); }
    else { box.textContent = _("✓ 已保存"); box.classList.add("is-ok"); }
  }

  function onConnection(online) {
    X.show($("offline-banner"), !online);
    if (online) heartbeat(); // reconnected: resync time and state from the server
  }

  function heartbeat() {
    if (S.finished) return;
    X.request("GET", "/attempts/" + encodeURIComponent(S.attemptId), undefined, { timeout: 10000 }).then(function (att) {
      S.saver.setOffline(false);
      setRemaining(att.remaining_seconds);
      if (att.status && att.status !== "in_progress") { finished(att.status); return; }
      reconcile(att.responses);
      S.saver.retryNow();
    }, function (err) {
      if (err.status === 401) return sessionEnded(err);
      if (err.transient()) S.saver.setOffline(true);
    });
  }

  // Server state wins wherever this browser holds nothing newer (e.g. resumed on another computer).
  function reconcile(responses) {
    if (!responses) return;
    var list = Array.isArray(responses) ? responses : Object.keys(responses).map(function (k) {
      var r = responses[k] || {};
      return { item_ref: r.item_ref !== undefined ? r.item_ref : k, answer: r.answer, seq: r.seq, flagged: r.flagged };
    });
    var current = S.refs[S.pos], redraw = false;
    list.forEach(function (r) {
      var ref = String(r.item_ref !== undefined ? r.item_ref : r.ref);
      if (!(ref in S.index)) return;
      if (S.buffer.reconcile(ref, r) && ref === current) redraw = true;
      updateNav(ref);
    });
    S.buffer.save();
    if (redraw) show(S.pos, false);
  }

  function sessionEnded(err) {
    stopAll();
    var replaced = err && err.code === "session_replaced";
    $("ended-title").textContent = replaced ? _("您已在其他设备登录") : _("登录已失效");
    $("ended-text").textContent = replaced
      ? _("同一准考证在另一台设备登录，本页面已停止作答。已作答的内容仍保存在本机和服务器上；如需在本机继续，请重新登录。")
      : _("请重新登录后继续作答。已作答的内容仍保存在本机，登录后会自动保存到服务器。");
    view("ended");
  }

  // --- rendering --------------------------------------------------------------------------------

  function view(name) {
    ["loading", "exam", "survey", "done", "ended"].forEach(function (v) { X.show($(v + "-view"), v === name); });
  }

  function answered(ref) { return X.isAnswered(S.items[S.index[ref]], S.buffer.answer(ref)); }

  // TRANSLATORS: separates the states in a question's label on the answer card ("第 3 题，已答，已标记").
  var STATE_SEP = _("，");

  function navLabel(i, ref) {
    var parts = [_f("第 %(n)s 题", { n: i + 1 }), answered(ref) ? _("已答") : _("未答")];
    if (S.buffer.flagged(ref)) parts.push(_("已标记"));
    if (S.buffer.isPending(ref)) parts.push(_("待保存"));
    return parts.join(STATE_SEP);
  }

  // TRANSLATORS: the numbers of the sections of a paper, separated by "|" (一、判断题 / 1. True/false).
  var SECTION_NUMBERS = _("一|二|三|四|五|六|七|八|九|十").split("|");

  function buildNav() {
    var nav = $("navigator");
    nav.textContent = "";
    var group = null, lastType = null, sectionNo = 0;
    S.items.forEach(function (item, i) {
      var key = item.section !== undefined ? "s" + item.section : item.qtype;
      if (key !== lastType) {
        lastType = key;
        var sec = S.sections[item.section] || {};
        var title = X.i18n.label(sec.title) || X.TYPE_LABELS[item.qtype] || item.qtype;
        var no = SECTION_NUMBERS[sectionNo] || String(sectionNo + 1);
        sectionNo += 1;
        nav.appendChild(el("h3", { className: "exam-nav-section", text: _f("%(no)s、%(title)s", { no: no, title: title }) }));
        group = el("div", { className: "exam-nav-grid" });
        nav.appendChild(group);
      }
      var ref = S.refs[i];
      var btn = el("button", { type: "button", className: "exam-navbtn", "data-pos": i, id: "nav-" + i }, [
        el("span", { className: "exam-navno", text: String(i + 1) }),
        el("span", { className: "exam-navmark", "aria-hidden": "true" }),
      ]);
      btn.addEventListener("click", function () { show(i, true); });
      group.appendChild(btn);
      updateNav(ref);
    });
    updateProgress();
  }

  function updateNav(ref) {
    var i = S.index[ref];
    var btn = $("nav-" + i);
    if (!btn) return;
    var a = answered(ref), f = S.buffer.flagged(ref);
    btn.classList.toggle("is-answered", a);
    btn.classList.toggle("is-flagged", f);
    btn.classList.toggle("is-pending", S.buffer.isPending(ref));
    btn.classList.toggle("is-current", i === S.pos);
    if (i === S.pos) btn.setAttribute("aria-current", "step"); else btn.removeAttribute("aria-current");
    btn.querySelector(".exam-navmark").textContent = f ? "⚑" : a ? "✓" : "○";
    btn.setAttribute("aria-label", navLabel(i, ref));
  }

  function updateProgress() {
    var done = S.refs.filter(answered).length;
    $("progress").textContent = _f("已答 %(done)s 题 / 共 %(total)s 题", { done: done, total: S.refs.length });
  }

  function show(pos, focus) {
    if (pos < 0 || pos >= S.items.length) return;
    var prev = S.pos;
    S.pos = pos;
    S.buffer.data.pos = pos;
    S.buffer.save();
    var ref = S.refs[pos], item = S.items[pos];
    X.renderQuestion($("question"), item, pos, S.items.length, S.buffer.answer(ref), {
      locked: S.locked, flagged: S.buffer.flagged(ref),
      onChange: function (answer, how) { onAnswer(ref, answer, how); },
    });
    $("prev-btn").disabled = pos === 0;
    $("next-btn").disabled = pos === S.items.length - 1;
    var f = S.buffer.flagged(ref);
    $("flag-btn").setAttribute("aria-pressed", f ? "true" : "false");
    $("flag-text").textContent = f ? _("取消标记") : _("标记本题");
    updateNav(S.refs[prev]);
    updateNav(ref);
    if (focus) $("question").focus();
  }

  function onAnswer(ref, answer, how) {
    if (S.locked) return;
    S.saver.change(ref, answer, how && how.immediate ? 0 : TEXT_DEBOUNCE_MS);
    updateNav(ref);
    updateProgress();
  }

  function toggleFlag() {
    var ref = S.refs[S.pos];
    if (S.locked) return;
    S.buffer.flag(ref, !S.buffer.flagged(ref));
    S.saver.schedule(0);
    S.saver.report();
    show(S.pos, false);
    $("flag-btn").focus();
  }

  // --- keyboard ---------------------------------------------------------------------------------

  function isTextField(t) {
    return t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && (t.type === "text" || t.type === "search")));
  }

  function onKey(e) {
    if (S.locked || $("exam-view").hidden || $("submit-dialog").open) return;
    var t = e.target;
    if (e.key === "Enter" && t && t.tagName === "INPUT" && (t.type === "radio" || t.type === "checkbox") && t.closest("#question")) {
      e.preventDefault();
      if (t.type === "checkbox" || !t.checked) t.click();
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "PageDown" && !(t && t.tagName === "TEXTAREA")) { e.preventDefault(); show(S.pos + 1, true); return; }
    if (e.key === "PageUp" && !(t && t.tagName === "TEXTAREA")) { e.preventDefault(); show(S.pos - 1, true); return; }
    if (!isTextField(t) && /^[a-hA-H]$/.test(e.key)) {
      var input = $("question").querySelector('input[data-label="' + e.key.toUpperCase() + '"]');
      if (input) { e.preventDefault(); input.focus(); if (input.type === "checkbox" || !input.checked) input.click(); }
    }
  }

  // --- submit -----------------------------------------------------------------------------------

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

  function openSubmitDialog() {
    var box = $("submit-summary");
    box.textContent = "";
    var unanswered = [], flagged = [];
    S.refs.forEach(function (ref, i) {
      if (!answered(ref)) unanswered.push(i);
      if (S.buffer.flagged(ref)) flagged.push(i);
    });
    box.appendChild(el("p", { className: "exam-lead", text: _f("共 %(total)s 题，已答 %(done)s 题，未答 %(left)s 题。", {
      total: S.refs.length, done: S.refs.length - unanswered.length, left: unanswered.length }) }));
    function list(title, positions, cls) {
      if (!positions.length) return;
      box.appendChild(el("p", { className: "exam-dialog-sub", text: title }));
      var ul = el("ul", { className: "exam-dialog-list " + cls });
      positions.forEach(function (i) {
        ul.appendChild(el("li", {}, [el("button", { type: "submit", value: "goto-" + i, className: "exam-chip",
          text: _f("第 %(n)s 题 %(type)s", { n: i + 1, type: X.TYPE_LABELS[S.items[i].qtype] || "" }) })]));
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
    if (v.indexOf("goto-") === 0) { show(parseInt(v.slice(5), 10), true); return; }
    if (v === "confirm") submit(false);
  }

  function submit(auto) {
    var btn = $("submit-btn");
    btn.disabled = true;
    info(auto ? "" : _("正在交卷，请稍候……"));
    return waitForDrain(DRAIN_MAX_MS).then(function (pending) {
      if (pending && !auto) {
        btn.disabled = false;
        info(_f("网络未恢复，还有 %(n)s 题答案没有提交到服务器。请不要关闭页面，恢复连接后再交卷，或举手示意监考员。", { n: pending }));
        return;
      }
      return X.request("POST", "/attempts/" + encodeURIComponent(S.attemptId) + "/submit", {}).then(function (res) {
        finished((res && res.status) || "submitted");
      }, function (err) {
        if (err.status === 401) return sessionEnded(err);
        if (!err.transient()) { heartbeatThenFinish(); return; }
        btn.disabled = false;
        info(_f("交卷没有成功：%(reason)s。请稍后再点“交卷”，或举手示意监考员。", { reason: err.message }));
        if (auto) window.setTimeout(function () { submit(true); }, X.backoff(2));
      });
    });
  }

  function heartbeatThenFinish() {
    X.request("GET", "/attempts/" + encodeURIComponent(S.attemptId)).then(function (att) {
      if (att.status && att.status !== "in_progress") finished(att.status);
    }, function () { /* keep the page as it is */ });
  }

  function timeUp() {
    S.locked = true;
    S.saver.freeze(); // no new answers after the deadline; those made in time are still sent
    show(S.pos, false);
    var d = $("timeup-dialog");
    if (!d.open) d.showModal();
    if ($("submit-dialog").open) $("submit-dialog").close("cancel");
    submit(true);
  }

  function stopAll() {
    S.finished = true;
    if (S.heartbeat) window.clearInterval(S.heartbeat);
    if (S.saver) S.saver.stop();
    if (S.integrity) { S.integrity.flush(true); S.integrity.stop(); }
  }

  function finished(status) {
    if (S.finished && !$("survey-view").hidden) return;
    var hadPending = S.buffer ? S.buffer.pendingRefs().length : 0;
    stopAll();
    S.locked = true;
    ["timer", "submit-btn", "save-state", "fullscreen-btn"].forEach(function (id) { X.show($(id), false); });
    if ($("timeup-dialog").open) $("timeup-dialog").close();
    if ($("submit-dialog").open) $("submit-dialog").close("cancel");
    X.show($("offline-banner"), false);
    info("");
    if (S.buffer && !hadPending) S.buffer.clear();
    if (status === "terminated") {
      $("done-title").textContent = _("考试已终止");
      $("done-text").textContent = _("本场考试已由监考员终止，请听从监考员安排。");
      view("done");
      return;
    }
    $("survey-title").textContent = status === "timed_out" ? _("考试时间到，已自动交卷") : _("交卷成功");
    if (surveyDone()) { view("done"); return; }
    loadSurvey().then(function () {
      view("survey");
      $("survey-title").setAttribute("tabindex", "-1");
      $("survey-title").focus();
    });
  }

  // --- survey -----------------------------------------------------------------------------------

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
  function surveyDone() { try { return window.sessionStorage.getItem(surveyKey()) === "1"; } catch (e) { return false; } }
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

  function loadSurvey() {
    return X.request("GET", "/candidate/survey", undefined, { timeout: 8000 }).then(function (data) {
      if (data && Array.isArray(data.questions) && data.questions.length) {
        SURVEY = data.questions.map(function (q) { return [q.id !== undefined ? q.id : q.key, X.i18n.label(q.text)]; });
      }
      if (data && Array.isArray(data.scale) && data.scale.length === 5) {
        STARS = data.scale.map(function (s) { return X.i18n.label(s.label); });
      }
    }, function () { /* keep the built-in questions */ }).then(buildSurvey);
  }

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
      view("done");
    }, function (err) {
      if (err.code === "already_answered") { markSurveyDone(); view("done"); return; }
      btn.disabled = false;
      errBox.textContent = _f("调查提交失败：%(reason)s", { reason: err.message });
      X.show(errBox, true);
    });
  }

  // --- start ------------------------------------------------------------------------------------

  function papers(paper) {
    if (Array.isArray(paper)) return paper;
    if (paper.items) return paper.items;
    var out = [];
    (paper.sections || []).forEach(function (s) { (s.items || []).forEach(function (i) { out.push(i); }); });
    return out;
  }

  function start() {
    var info0 = X.session.attempt();
    if (!X.session.token() || !info0 || info0.id === undefined) { window.location.replace(X.urls.login); return; }
    S.attemptId = info0.id;
    var cand = X.session.candidate();
    $("cand-name").textContent = cand.name || "";
    $("cand-ticket").textContent = cand.ticket_no || "";
    if (info0.name) $("exam-title").textContent = info0.name;
    S.buffer = new X.Buffer(S.attemptId);
    S.saver = new X.Saver(S.attemptId, S.buffer, {
      onStatus: onStatus, onConnection: onConnection, onTime: setRemaining,
      onAck: function (ref) { updateNav(ref); },
      onAdopt: function (ref) { updateNav(ref); updateProgress(); if (ref === S.refs[S.pos]) show(S.pos, false); },
      onAuth: sessionEnded,
      onClosed: function () { heartbeatThenFinish(); },
      onResync: heartbeat,
      onRejected: function (ref, err) {
        info(_f("第 %(n)s 题的答案未被服务器接受：%(reason)s", { n: S.index[ref] + 1, reason: err.message }));
      },
    });
    var base = "/attempts/" + encodeURIComponent(S.attemptId);
    Promise.all([X.request("GET", base), X.request("GET", base + "/paper")]).then(function (res) {
      var att = res[0], paper = res[1];
      if (paper.name || paper.title) $("exam-title").textContent = paper.name || paper.title;
      S.items = papers(paper);
      (paper.sections || []).forEach(function (sec, i) { S.sections[sec.index !== undefined ? sec.index : i] = sec; });
      S.refs = S.items.map(refOf);
      S.refs.forEach(function (r, i) { S.index[r] = i; });
      setRemaining(att.remaining_seconds);
      if (att.status && att.status !== "in_progress") { finished(att.status); return; }
      reconcile(att.responses);
      view("exam");
      buildNav();
      show(Math.min(S.buffer.data.pos || 0, S.items.length - 1), true);
      S.saver.flush(); // anything left from before a reload or an outage goes now, in order
      S.integrity = new X.Integrity(S.attemptId, function () { return S.refs[S.pos]; });
      S.integrity.start();
      S.heartbeat = window.setInterval(heartbeat, HEARTBEAT_MS);
      S.ticker = window.setInterval(tick, 500);
      onStatus({ pending: S.saver.pendingCount(), offline: false, sending: false });
    }, function (err) {
      if (err.status === 401) return sessionEnded(err);
      if (err.status === 403 || err.status === 404) { X.session.clear(); window.location.replace(X.urls.login); return; }
      $("loading-view").textContent = "";
      $("loading-view").appendChild(el("p", { className: "exam-lead", text: _f("试卷载入失败：%(reason)s", { reason: err.message }) }));
      var retry = el("button", { type: "button", className: "exam-btn exam-btn-primary", text: _("重试") });
      retry.addEventListener("click", function () { window.location.reload(); });
      $("loading-view").appendChild(retry);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("prev-btn").addEventListener("click", function () { show(S.pos - 1, true); });
    $("next-btn").addEventListener("click", function () { show(S.pos + 1, true); });
    $("flag-btn").addEventListener("click", toggleFlag);
    $("submit-btn").addEventListener("click", function () { if (!S.locked) openSubmitDialog(); });
    $("submit-dialog").addEventListener("close", onDialogClose);
    $("timeup-dialog").addEventListener("cancel", function (e) { e.preventDefault(); });
    $("survey-form").addEventListener("submit", sendSurvey);
    $("survey-skip").addEventListener("click", function () { markSurveyDone(); view("done"); });
    $("done-logout").addEventListener("click", X.logout);
    $("ended-login").addEventListener("click", X.logout);
    $("fullscreen-btn").addEventListener("click", function () {
      var root = document.documentElement;
      if (document.fullscreenElement) document.exitFullscreen();
      else if (root.requestFullscreen) root.requestFullscreen().catch(function () { /* not allowed here */ });
    });
    document.addEventListener("keydown", onKey);
    window.addEventListener("online", function () { if (S.saver && !S.finished) { S.saver.retryNow(); heartbeat(); } });
    window.addEventListener("offline", function () { if (S.saver && !S.finished && S.saver.pendingCount()) S.saver.setOffline(true); });
    window.addEventListener("beforeunload", function (e) {
      if (S.saver && !S.finished && S.saver.pendingCount() > 0) {
        S.saver.flush();
        e.preventDefault();
        e.returnValue = _("还有答案没有保存到服务器，确定要离开吗？");
        return e.returnValue;
      }
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden" && S.saver && !S.finished) S.saver.flush();
    });
    start();
  });
})();
