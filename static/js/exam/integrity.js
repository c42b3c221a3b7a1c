// Integrity signals (evidence only, never verdicts): page hidden, window focus lost, copy, paste,
// fullscreen exit. Queued and posted in batches, best effort: a failed post keeps the events for
// the next try; the queue is capped so a long outage cannot grow it without bound.
(function () {
  "use strict";
  var X = window.ExamSys;
  var FLUSH_MS = 10000, MAX_QUEUE = 200, BATCH = 20; // the API takes at most 20 per request

  function Integrity(attemptId, currentItem) {
    this.attemptId = attemptId;
    this.currentItem = currentItem || function () { return null; };
    this.queue = [];
    this.sending = false;
    this.stopped = false;
    this.wasFullscreen = !!document.fullscreenElement;
    this.lastHidden = 0;
  }

  Integrity.prototype.record = function (kind, data) {
    if (this.stopped) return;
    var d = data || {};
    var item = this.currentItem();
    if (item) d.item_ref = item;
    this.queue.push({ kind: kind, occurred_at: new Date().toISOString(), data: d });
    if (this.queue.length > MAX_QUEUE) this.queue.splice(0, this.queue.length - MAX_QUEUE);
  };

  Integrity.prototype.flush = function (keepalive) {
    if (this.sending || !this.queue.length) return;
    var self = this, batch = this.queue.slice(0, BATCH);
    this.sending = true;
    X.request("POST", "/attempts/" + encodeURIComponent(this.attemptId) + "/events", { events: batch },
      { keepalive: !!keepalive, timeout: 10000 }).then(function () {
      self.queue.splice(0, batch.length);
    }, function (err) {
      // 4xx other than rate limiting will not get better by retrying: drop that batch.
      if (!err.transient()) self.queue.splice(0, batch.length);
      if (err.status === 401 || /closed/.test(err.code || "")) self.stop();
    }).then(function () { self.sending = false; });
  };

  Integrity.prototype.start = function () {
    var self = this;
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") {
        self.lastHidden = Date.now();
        self.record("page_hidden", {});
        self.flush(true);
      }
    });
    window.addEventListener("blur", function () {
      // A hidden page also blurs the window; record the blur only when the page stays visible
      // (another window or an app took focus).
      window.setTimeout(function () {
        if (document.visibilityState === "visible" && !document.hasFocus()) self.record("focus_lost", {});
      }, 50);
    });
    document.addEventListener("copy", function () {
      var sel = window.getSelection ? String(window.getSelection()) : "";
      self.record("copy", { length: sel.length });
    });
    document.addEventListener("paste", function (e) {
      var text = e.clipboardData ? e.clipboardData.getData("text") : "";
      self.record("paste", { length: text.length });
    });
    document.addEventListener("fullscreenchange", function () {
      var now = !!document.fullscreenElement;
      if (self.wasFullscreen && !now) self.record("fullscreen_exit", {});
      self.wasFullscreen = now;
    });
    this.interval = window.setInterval(function () { self.flush(false); }, FLUSH_MS);
  };

  Integrity.prototype.stop = function () {
    this.stopped = true;
    if (this.interval) window.clearInterval(this.interval);
  };

  X.Integrity = Integrity;
})();
