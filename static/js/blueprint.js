// Blueprint editor (templates/assembly/editor.html): remove rows without a round trip, keep the
// section subtotals current, and refresh the feasibility panel from the read-only JSON endpoint
// whenever a rule changes. Without this script the page still works: rows are added, removed
// (by clearing their type / range) and checked on every save.
(function () {
  "use strict";
  var form = document.getElementById("blueprint-form");
  if (!form) { return; }
  var panel = document.getElementById("feasibility");
  var state = document.querySelector(".js-feas-state");
  var url = form.getAttribute("data-feasibility-url");
  var timer = null;
  var seq = 0;

  function number(el) {
    var v = parseFloat(el && el.value);
    return isNaN(v) ? 0 : v;
  }

  function totals() {
    var sum = 0;
    var count = 0;
    form.querySelectorAll('[data-rows="sections"] tbody tr[data-row]').forEach(function (row) {
      var n = number(row.querySelector('input[name$="-count"]'));
      var p = number(row.querySelector('input[name$="-points"]'));
      var type = row.querySelector('select[name$="-type"]');
      var sub = (type && type.value) ? n * p : 0;
      sum += sub;
      count += (type && type.value) ? n : 0;
      var cell = row.querySelector("[data-subtotal]");
      if (cell) { cell.textContent = sub ? String(Math.round(sub * 100) / 100) : ""; }
    });
    var total = form.querySelector("[data-total]");
    if (total) {
      total.textContent = (total.getAttribute("data-format") || "{n} / {p}")
        .replace("{n}", String(count)).replace("{p}", String(Math.round(sum * 100) / 100));
    }
  }

  function refresh() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key !== "csrf_token" && key !== "action") { params.append(key, value); }
    });
    var mine = ++seq;
    if (state) { state.textContent = state.getAttribute("data-busy") || "…"; }
    fetch(url + "&" + params.toString(), { headers: { "Accept": "application/json" }, credentials: "same-origin" })
      .then(function (resp) { return resp.ok ? resp.json() : null; })
      .then(function (data) {
        if (mine !== seq) { return; }  // a newer request is on its way
        if (state) { state.textContent = ""; }
        if (data && panel) { panel.innerHTML = data.html; }
      })
      .catch(function () { if (state && mine === seq) { state.textContent = ""; } });
  }

  function schedule() {
    totals();
    clearTimeout(timer);
    timer = setTimeout(refresh, 450);
  }

  form.querySelectorAll(".js-remove-row").forEach(function (btn) {
    btn.hidden = false;
    btn.addEventListener("click", function () {
      var row = btn.closest("tr");
      var body = row.parentNode;
      if (body.closest('[data-rows="sections"]') && body.querySelectorAll("tr[data-row]").length <= 1) {
        return;  // a paper needs at least one section
      }
      row.parentNode.removeChild(row);
      schedule();
    });
  });
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);
  totals();
})();
