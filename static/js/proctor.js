// Proctor console: refresh the live table from the console's JSON (GET, read only) every 5 s,
// tick the remaining time between polls, and pick a candidate for the room's action form.
// The server decides every deadline; this only displays it.
(function () {
  "use strict";
  var root = document.getElementById("proctor-console");
  if (!root) { return; }
  var _ = window.I18n._, _f = window.I18n._f;
  var url = root.getAttribute("data-status-url");
  var eventsUrl = root.getAttribute("data-events-url");
  var status = document.querySelector("[data-console-status]");
  var polledAt = Date.now();
  var failures = 0;

  function fmt(seconds) {
    if (seconds === null || seconds === undefined || seconds === "") { return ""; }
    seconds = Math.max(0, Math.floor(seconds));
    var m = Math.floor(seconds / 60), s = seconds % 60;
    return m + ":" + (s < 10 ? "0" : "") + s;
  }

  function setText(cell, text) { if (cell && cell.textContent !== String(text)) { cell.textContent = text; } }

  // The anomaly count opens the events behind it (作答异常记录 of that candidate).
  function setFlags(cell, row) {
    cell.classList.toggle("bad", row.flags > 0);
    var link = cell.querySelector("a");
    if (!row.flags || !row.attempt_id) { if (cell.textContent !== "") { cell.textContent = ""; } return; }
    if (!link) {
      cell.textContent = "";
      link = document.createElement("a");
      link.title = _("查看作答异常记录");
      cell.appendChild(link);
    }
    link.href = eventsUrl + "?attempt=" + encodeURIComponent(row.attempt_id);
    setText(link, row.flags);
  }

  function render(data) {
    data.rooms.forEach(function (room) {
      var section = root.querySelector('[data-room="' + room.id + '"]');
      if (!section) { return; }
      Object.keys(room.counts).forEach(function (key) {
        setText(section.querySelector('[data-count="' + key + '"]'), room.counts[key]);
      });
      room.rows.forEach(function (row) {
        var tr = section.querySelector('tr[data-entry="' + row.entry_id + '"]');
        if (!tr) { return; }
        tr.className = "state-" + row.state;
        var badge = tr.querySelector('[data-field="state"] .badge');
        if (badge) { badge.className = "badge att-state state-" + row.state; setText(badge, row.state_label); }
        setText(tr.querySelector('[data-field="last_seen"]'), row.last_seen);
        setText(tr.querySelector('[data-field="answered"]'), row.answered);
        var flags = tr.querySelector('[data-field="flags"]');
        if (flags) { setFlags(flags, row); }
        var rem = tr.querySelector('[data-field="remaining"]');
        if (rem) {
          rem.setAttribute("data-remaining", row.remaining_seconds === null ? "" : row.remaining_seconds);
          setText(rem, fmt(row.remaining_seconds));
        }
      });
    });
    var badge = document.querySelector("[data-batch-state]");
    if (badge) { setText(badge, data.batch.state_label); }
  }

  function poll() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { if (!resp.ok) { throw new Error(resp.status); } return resp.json(); })
      .then(function (data) {
        polledAt = Date.now();
        failures = 0;
        render(data);
        if (status) {
          var time = new Date().toLocaleTimeString(window.I18n.lang, { hour12: false });
          status.textContent = _f("已刷新 %(time)s", { time: time });
          status.classList.remove("bad");
        }
      })
      .catch(function () {
        failures += 1;
        if (status) { status.textContent = _("连接中断，正在重试…"); status.classList.add("bad"); }
      });
  }

  function tick() {
    var elapsed = (Date.now() - polledAt) / 1000;
    root.querySelectorAll("[data-remaining]").forEach(function (cell) {
      var base = cell.getAttribute("data-remaining");
      if (base !== "") { setText(cell, fmt(Number(base) - elapsed)); }
    });
  }

  root.addEventListener("click", function (event) {
    var btn = event.target.closest("button.pick");
    if (!btn) { return; }
    var section = btn.closest("[data-room]");
    var select = section.querySelector("[data-attempt-select]");
    if (select) { select.value = btn.getAttribute("data-attempt"); }
    var reason = section.querySelector('input[name="reason"]');
    if (reason) { reason.focus(); }
  });

  setInterval(poll, 5000);
  setInterval(tick, 1000);
})();
