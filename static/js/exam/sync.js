// Autosave: the local answer buffer (localStorage, keyed by attempt) and the saver that sends it.
//
// Every change is written to the buffer at once and gets the item's next `seq`; the saver sends
// pending items one request at a time, oldest change first (text after ~800 ms of quiet, choices
// at once). An item is acknowledged only when the server answers 2xx for its seq. Failures that
// may pass (no network, 5xx, 429) are retried with exponential backoff and jitter; a 409 for a
// stale seq means the server holds a newer answer (another computer, or a lost acknowledgement),
// which is adopted. The server's clock decides time: the saver passes on any remaining_seconds.
(function () {
  "use strict";
  var X = window.ExamSys;

  // --- buffer ---------------------------------------------------------------------------------

  // items[ref] = {a: answer, f: flagged, s: seq of a, k: highest acknowledged seq, t: changed at (ms),
  //               r: ready to send at (ms), bad: seq the server refused for good}
  function Buffer(attemptId) {
    this.storageKey = "examsys.exam.buffer." + attemptId;
    this.data = { v: 1, items: {}, pos: 0 };
    this.storageOk = true;
    try {
      var raw = window.localStorage.getItem(this.storageKey);
      if (raw) {
        var parsed = JSON.parse(raw);
        if (parsed && parsed.v === 1) this.data = parsed;
      }
    } catch (e) { this.storageOk = false; }
    this.data.items = this.data.items || {};
  }
  Buffer.prototype.save = function () {
    try { window.localStorage.setItem(this.storageKey, JSON.stringify(this.data)); this.storageOk = true; } catch (e) { this.storageOk = false; }
  };
  Buffer.prototype.get = function (ref) { return this.data.items[ref] || null; };
  Buffer.prototype.answer = function (ref) { var e = this.get(ref); return e ? e.a : undefined; };
  Buffer.prototype.isPending = function (ref) { var e = this.get(ref); return !!e && e.s > e.k && e.bad !== e.s; };
  Buffer.prototype.pendingRefs = function () {
    var items = this.data.items, self = this;
    return Object.keys(items).filter(function (r) { return self.isPending(r); })
      .sort(function (a, b) { return items[a].t - items[b].t; });
  };
  Buffer.prototype.set = function (ref, answer, delay) {
    var now = Date.now();
    var e = this.data.items[ref] || { s: 0, k: 0 };
    e.a = answer;
    e.s = Math.max(e.s, e.k) + 1;
    e.t = now;
    e.r = now + (delay || 0);
    this.data.items[ref] = e;
    this.save();
    return e;
  };
  // The server's stored state for an item (from GET attempt, or a 409): adopt it unless this
  // browser holds a newer, not yet acknowledged change.
  Buffer.prototype.reconcile = function (ref, server) {
    var e = this.data.items[ref];
    var seq = server && typeof server.seq === "number" ? server.seq : 0;
    if (!e) {
      if (!server || seq === 0) return false;
      this.data.items[ref] = { a: server.answer, f: !!server.flagged, s: seq, k: seq, t: 0, r: 0 };
      return true;
    }
    if (seq >= e.s) {
      var changed = JSON.stringify(e.a) !== JSON.stringify(server.answer) || !!e.f !== !!server.flagged;
      e.a = server.answer; e.s = seq; e.k = seq; delete e.bad;
      if (server.flagged !== undefined) e.f = !!server.flagged;
      return changed;
    }
    if (seq > e.k) e.k = seq; // the server has an older change of ours; the newer one stays pending
    return false;
  };
  // Flags travel with the answer (`flagged` on the same PUT, same seq rules).
  Buffer.prototype.flag = function (ref, on) {
    var e = this.data.items[ref];
    this.set(ref, e ? e.a : null, 0);
    this.data.items[ref].f = !!on;
    this.save();
  };
  Buffer.prototype.flagged = function (ref) { var e = this.data.items[ref]; return !!(e && e.f); };
  Buffer.prototype.clear = function () { try { window.localStorage.removeItem(this.storageKey); } catch (e) { /* ignore */ } };
  X.Buffer = Buffer;

  // --- saver ----------------------------------------------------------------------------------

  var BASE_DELAY = 1000, MAX_DELAY = 30000;

  function backoff(failures) {
    var d = Math.min(MAX_DELAY, BASE_DELAY * Math.pow(2, Math.max(0, failures - 1)));
    return Math.round(d * (0.5 + Math.random())); // jitter: 50-150 %
  }

  function isClosed(err) {
    return /closed|finished|submitted|timed_out|terminated|deadline|expired/.test(err.code || "") &&
      (err.status === 403 || err.status === 409 || err.status === 410 || err.status === 422);
  }

  // The stored state a 409 carries, wherever the API puts it.
  function storedState(err) {
    var d = err.data || {};
    var e = d.error || {};
    return d.stored || d.response || e.stored || e.response || (e.details && (e.details.stored || e.details)) || (typeof d.seq === "number" ? d : null);
  }

  function Saver(attemptId, buffer, hooks) {
    this.attemptId = attemptId;
    this.buffer = buffer;
    this.hooks = hooks || {};
    this.inflight = null;
    this.failures = 0;
    this.waitUntil = 0;
    this.timer = null;
    this.stopped = false;
    this.frozen = false;
    this.offline = false;
  }

  // Characters no database column stores (NUL, a lone UTF-16 surrogate from a broken paste): the
  // server refuses a save holding one (422), so they are dropped before the answer is buffered.
  function storableText(s) {
    if (!/[\u0000\ud800-\udfff]/.test(s)) return s;
    var out = "";
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (c >= 0xd800 && c <= 0xdbff) {
        var d = s.charCodeAt(i + 1);
        if (d >= 0xdc00 && d <= 0xdfff) { out += s.charAt(i) + s.charAt(i + 1); i++; }
      } else if (c !== 0 && !(c >= 0xdc00 && c <= 0xdfff)) {
        out += s.charAt(i);
      }
    }
    return out;
  }

  function storable(answer) {
    if (typeof answer === "string") return storableText(answer);
    if (Array.isArray(answer)) return answer.map(storable);
    return answer;
  }
  X.storable = storable;

  Saver.prototype.change = function (ref, answer, delay) {
    if (this.frozen || this.stopped) return false;
    answer = storable(answer);
    this.buffer.set(ref, answer, delay);
    this.report();
    this.schedule(delay || 0);
    return true;
  };

  Saver.prototype.pendingCount = function () { return this.buffer.pendingRefs().length; };

  // Send everything now (before submit, at the deadline, when the page is hidden).
  Saver.prototype.flush = function () {
    var items = this.buffer.data.items;
    Object.keys(items).forEach(function (r) { items[r].r = 0; });
    this.waitUntil = 0;
    this.pump();
  };

  // Reconnected, or asked to retry: forget the backoff.
  Saver.prototype.retryNow = function () { this.waitUntil = 0; this.pump(); };

  Saver.prototype.freeze = function () { this.frozen = true; };
  Saver.prototype.stop = function () { this.stopped = true; if (this.timer) window.clearTimeout(this.timer); };

  Saver.prototype.schedule = function (ms) {
    var self = this;
    if (this.timer) window.clearTimeout(this.timer);
    this.timer = window.setTimeout(function () { self.timer = null; self.pump(); }, Math.max(0, ms));
  };

  Saver.prototype.setOffline = function (offline) {
    if (this.offline === offline) return;
    this.offline = offline;
    if (this.hooks.onConnection) this.hooks.onConnection(!offline);
  };

  Saver.prototype.report = function () {
    if (this.hooks.onStatus) this.hooks.onStatus({ pending: this.pendingCount(), offline: this.offline, sending: !!this.inflight });
  };

  Saver.prototype.pump = function () {
    if (this.inflight || this.stopped) return;
    var now = Date.now();
    if (this.waitUntil > now) { this.schedule(this.waitUntil - now); return; }
    var refs = this.buffer.pendingRefs(), items = this.buffer.data.items;
    var ready = refs.filter(function (r) { return (items[r].r || 0) <= now; });
    if (!ready.length) {
      if (refs.length) {
        var soonest = Math.min.apply(null, refs.map(function (r) { return items[r].r || 0; }));
        this.schedule(soonest - now);
      }
      this.report();
      return;
    }
    this.send(ready[0]);
  };

  Saver.prototype.send = function (ref) {
    var self = this, entry = this.buffer.get(ref);
    var sent = { answer: entry.a === undefined ? null : entry.a, seq: entry.s };
    if (entry.f !== undefined) sent.flagged = !!entry.f;
    this.inflight = ref;
    this.report();
    var path = "/attempts/" + encodeURIComponent(this.attemptId) + "/responses/" + encodeURIComponent(ref);
    X.request("PUT", path, sent, { timeout: 12000 }).then(function (resp) {
      var e = self.buffer.get(ref);
      var acked = typeof resp.seq === "number" ? resp.seq : sent.seq;
      if (acked >= sent.seq) e.k = Math.max(e.k, sent.seq);
      e.at = resp.saved_at || null;
      self.buffer.save();
      self.failures = 0;
      self.setOffline(false);
      if (typeof resp.remaining_seconds === "number" && self.hooks.onTime) self.hooks.onTime(resp.remaining_seconds);
      if (self.hooks.onAck) self.hooks.onAck(ref);
    }, function (err) {
      self.handleError(ref, sent, err);
    }).then(function () {
      self.inflight = null;
      if (!self.stopped) self.pump();
      self.report();
    });
  };

  Saver.prototype.handleError = function (ref, sent, err) {
    if (err.status === 401) { this.stop(); if (this.hooks.onAuth) this.hooks.onAuth(err); return; }
    if (isClosed(err)) { this.stop(); if (this.hooks.onClosed) this.hooks.onClosed(err); return; }
    if (err.status === 409) {
      // Stale seq: the server has this seq or a newer one. Adopt what it stored.
      var stored = storedState(err);
      this.setOffline(false);
      this.failures = 0;
      if (stored && typeof stored.seq === "number") {
        var changed = this.buffer.reconcile(ref, stored);
        var e = this.buffer.get(ref);
        if (e.s > e.k && stored.seq >= sent.seq) {
          // The local change after `sent` is newer still; send it above the server's seq.
          e.s = Math.max(e.s, stored.seq + 1);
        }
        this.buffer.save();
        if (changed && this.hooks.onAdopt) this.hooks.onAdopt(ref);
      } else {
        // No stored state in the reply: fetch the attempt and let the app reconcile.
        var e2 = this.buffer.get(ref);
        e2.bad = e2.s;
        this.buffer.save();
        if (this.hooks.onResync) this.hooks.onResync();
      }
      return;
    }
    if (err.transient()) {
      this.failures += 1;
      this.setOffline(true);
      this.waitUntil = Date.now() + backoff(this.failures);
      return;
    }
    // Refused for good (a malformed answer for this item): keep it locally, don't loop on it.
    var entry = this.buffer.get(ref);
    entry.bad = sent.seq;
    this.buffer.save();
    if (this.hooks.onRejected) this.hooks.onRejected(ref, err);
  };

  X.Saver = Saver;
  X.backoff = backoff;
})();
