// The exam page (templates/exam/app.html) is a handful of scripts sharing X.page: its state and the
// functions they call on one another. This one loads first and holds what they all need:
//   page.js       state, switching views, the info banner, stopping everything at the end
//   timer.js      the countdown, its warnings, time-up
//   navigator.js  one question at a time, the answer card (navigator), flags, keyboard
//   submit.js     the submit dialog, handing in, the finished page
//   survey.js     the satisfaction survey after handing in
//   app.js        loading the attempt and paper, connection and save state, heartbeat; wires and starts
// Each script wires its own controls on DOMContentLoaded; app.js, loaded last, then starts the page.
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$;

  var P = (X.page = {});

  P.S = {
    attemptId: null, items: [], refs: [], sections: {}, index: {}, pos: 0, buffer: null, saver: null, integrity: null,
    remaining: null, remainingAt: 0, locked: false, finished: false, flushedForEnd: false,
    heartbeat: null, ticker: null, warned: {},
  };
  var S = P.S;

  P.view = function (name) {
    ["loading", "exam", "survey", "done", "ended"].forEach(function (v) { X.show($(v + "-view"), v === name); });
  };

  P.info = function (message) {
    var b = $("info-banner");
    b.textContent = message || "";
    X.show(b, !!message);
  };

  P.stopAll = function () {
    S.finished = true;
    if (S.heartbeat) window.clearInterval(S.heartbeat);
    if (S.saver) S.saver.stop();
    if (S.integrity) { S.integrity.flush(true); S.integrity.stop(); }
  };
})();
