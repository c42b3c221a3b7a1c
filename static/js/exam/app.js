// The exam page: loads the attempt and paper, autosaves through ExamSys.Saver, shows the save and
// connection state, keeps state and time in step with the server (heartbeat), and ends the page
// when the session is replaced or expires. The other parts live beside it and share X.page (see
// page.js); this script loads last, wires the page-wide controls and starts.
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, el = X.el, _ = X._, _f = X._f;
  var P = X.page, S = P.S;

  var HEARTBEAT_MS = 30000;

  function refOf(item) {
    var r = item.item_ref !== undefined ? item.item_ref : item.ref !== undefined ? item.ref : item.id;
    return String(r);
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
      P.setRemaining(att.remaining_seconds);
      if (att.status && att.status !== "in_progress") { P.finished(att.status); return; }
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
      P.updateNav(ref);
    });
    S.buffer.save();
    if (redraw) P.show(S.pos, false);
  }

  function sessionEnded(err) {
    P.stopAll();
    var replaced = err && err.code === "session_replaced";
    $("ended-title").textContent = replaced ? _("您已在其他设备登录") : _("登录已失效");
    $("ended-text").textContent = replaced
      ? _("同一准考证在另一台设备登录，本页面已停止作答。已作答的内容仍保存在本机和服务器上；如需在本机继续，请重新登录。")
      : _("请重新登录后继续作答。已作答的内容仍保存在本机，登录后会自动保存到服务器。");
    P.view("ended");
  }
  P.sessionEnded = sessionEnded;

  // --- start ------------------------------------------------------------------------------------

  function papers(paper) {
    if (Array.isArray(paper)) return paper;
    if (paper.items) return paper.items;
    var out = [];
    (paper.sections || []).forEach(function (s) { (s.items || []).forEach(function (i) { out.push(i); }); });
    return out;
  }

  // One line in the header, cut with an ellipsis: the whole name in its tooltip.
  function showExamName(name) {
    var title = $("exam-title");
    title.textContent = title.title = name;
  }

  function start() {
    var info0 = X.session.attempt();
    if (!X.session.token() || !info0 || info0.id === undefined) { window.location.replace(X.urls.login); return; }
    S.attemptId = info0.id;
    var cand = X.session.candidate();
    $("cand-name").textContent = cand.name || "";
    $("cand-name").title = cand.name || "";
    $("cand-ticket").textContent = cand.ticket_no || "";
    if (info0.name) showExamName(info0.name);
    S.buffer = new X.Buffer(S.attemptId);
    S.saver = new X.Saver(S.attemptId, S.buffer, {
      onStatus: onStatus, onConnection: onConnection, onTime: P.setRemaining,
      onAck: function (ref) { P.updateNav(ref); },
      onAdopt: function (ref) { P.updateNav(ref); P.updateProgress(); if (ref === S.refs[S.pos]) P.show(S.pos, false); },
      onAuth: sessionEnded,
      onClosed: function () { P.heartbeatThenFinish(); },
      onResync: heartbeat,
      onRejected: function (ref, err) {
        P.info(_f("第 %(n)s 题的答案未被服务器接受：%(reason)s", { n: S.index[ref] + 1, reason: err.message }));
      },
    });
    var base = "/attempts/" + encodeURIComponent(S.attemptId);
    Promise.all([X.request("GET", base), X.request("GET", base + "/paper")]).then(function (res) {
      var att = res[0], paper = res[1];
      if (paper.name || paper.title) showExamName(paper.name || paper.title);
      S.items = papers(paper);
      (paper.sections || []).forEach(function (sec, i) { S.sections[sec.index !== undefined ? sec.index : i] = sec; });
      S.refs = S.items.map(refOf);
      S.refs.forEach(function (r, i) { S.index[r] = i; });
      P.setRemaining(att.remaining_seconds);
      if (att.status && att.status !== "in_progress") { P.finished(att.status); return; }
      reconcile(att.responses);
      P.view("exam");
      P.buildNav();
      P.show(Math.min(S.buffer.data.pos || 0, S.items.length - 1), true);
      S.saver.flush(); // anything left from before a reload or an outage goes now, in order
      S.integrity = new X.Integrity(S.attemptId, function () { return S.refs[S.pos]; });
      S.integrity.start();
      S.heartbeat = window.setInterval(heartbeat, HEARTBEAT_MS);
      S.ticker = window.setInterval(P.tick, 500);
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

  // Registered after the other exam scripts' DOMContentLoaded handlers (which wire their own
  // controls), so everything is wired before start().
  document.addEventListener("DOMContentLoaded", function () {
    $("done-logout").addEventListener("click", X.logout);
    $("ended-login").addEventListener("click", X.logout);
    $("fullscreen-btn").addEventListener("click", function () {
      var root = document.documentElement;
      if (document.fullscreenElement) document.exitFullscreen();
      else if (root.requestFullscreen) root.requestFullscreen().catch(function () { /* not allowed here */ });
    });
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
