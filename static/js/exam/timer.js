// The exam page's countdown: the server's remaining_seconds counted down locally, the 15- and
// 5-minute warnings, a last flush of the answers just before the end, and time-up (lock the page,
// hand in automatically).
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, _ = X._;
  var P = X.page, S = P.S;

  var FLUSH_BEFORE_END_S = 5;

  P.setRemaining = function (seconds) {
    if (typeof seconds !== "number" || isNaN(seconds)) return;
    S.remaining = seconds;
    S.remainingAt = window.performance.now();
    P.tick();
  };

  function remainingNow() {
    if (S.remaining === null) return null;
    return S.remaining - (window.performance.now() - S.remainingAt) / 1000;
  }
  // Read-only peek for browser tests and support staff in devtools.
  X.status = function () {
    return { remaining: remainingNow(), pending: S.saver ? S.saver.pendingCount() : 0,
      offline: S.saver ? S.saver.offline : false, position: S.pos, attemptId: S.attemptId };
  };

  P.tick = function () {
    var left = remainingNow();
    if (left === null) return;
    var value = $("timer-value"), box = $("timer");
    value.textContent = left <= 0 ? _("时间到") : X.clockText(left);
    box.classList.toggle("is-low", left <= 300 && left > 60);
    box.classList.toggle("is-critical", left <= 60);
    if (S.finished) return;
    [[900, _("距离考试结束还有 15 分钟。")], [300, _("距离考试结束还有 5 分钟，请抓紧时间检查答案。")]].forEach(function (w) {
      if (left <= w[0] && left > w[0] - 60 && !S.warned[w[0]]) { S.warned[w[0]] = true; P.info(w[1]); }
    });
    if (left <= FLUSH_BEFORE_END_S && !S.flushedForEnd) { S.flushedForEnd = true; S.saver.flush(); }
    if (left <= 0 && !S.locked) timeUp();
  };

  function timeUp() {
    S.locked = true;
    S.saver.freeze(); // no new answers after the deadline; those made in time are still sent
    P.show(S.pos, false);
    var d = $("timeup-dialog");
    if (!d.open) d.showModal();
    if ($("submit-dialog").open) $("submit-dialog").close("cancel");
    P.submit(true);
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("timeup-dialog").addEventListener("cancel", function (e) { e.preventDefault(); });
  });
})();
