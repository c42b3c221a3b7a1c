// Standards pages: filter the knowledge tree by code or name, show only gaps on the coverage
// page, live totals on the weight table, auto-submitting selects. Loaded with defer; no inline JS.
(function () {
  "use strict";

  function rowsOf(table) { return Array.prototype.slice.call(table.querySelectorAll("tbody tr")); }

  function applyFilter() {
    var input = document.querySelector("[data-tree-filter]");
    var gapsBox = document.querySelector("[data-gaps-only]");
    var q = input ? input.value.trim().toLowerCase() : "";
    var gapsOnly = gapsBox ? gapsBox.checked : false;
    document.querySelectorAll("[data-tree]").forEach(function (table) {
      var rows = rowsOf(table);
      var anyVisible = false;
      // Points first: a range row stays visible when any point below it matches.
      var visible = rows.map(function (tr) {
        if (!tr.classList.contains("tr-point")) { return null; }
        var text = tr.textContent.toLowerCase();
        var ok = (!q || text.indexOf(q) >= 0) && (!gapsOnly || tr.classList.contains("tr-gap"));
        tr.hidden = !ok;
        anyVisible = anyVisible || ok;
        return ok;
      });
      rows.forEach(function (tr, i) {
        if (visible[i] !== null) { return; }
        var show = !q && !gapsOnly;
        for (var j = i + 1; j < rows.length && !show; j++) {
          if (rows[j].classList.contains("tr-range") && depth(rows[j]) <= depth(tr)) { break; }
          if (visible[j]) { show = true; }
        }
        tr.hidden = !show;
      });
      var card = table.closest(".card-flush");
      if (card) { card.hidden = (q || gapsOnly) && !anyVisible; }
    });
  }

  function depth(tr) {
    var m = /depth-(\d+)/.exec(tr.className);
    return m ? parseInt(m[1], 10) : 0;
  }

  function weightTotals(form) {
    var totals = {};
    form.querySelectorAll("tr[data-parent='']").forEach(function (tr) {
      tr.querySelectorAll("input[data-level]").forEach(function (inp) {
        var lv = inp.getAttribute("data-level");
        var v = parseFloat(inp.value);
        totals[lv] = (totals[lv] || 0) + (isNaN(v) ? 0 : v);
      });
    });
    form.querySelectorAll("[data-total]").forEach(function (th) {
      var t = totals[th.getAttribute("data-total")] || 0;
      th.textContent = t ? (Math.round(t * 100) / 100) + "%" : "";
      th.classList.toggle("total-bad", t !== 0 && Math.abs(t - 100) > 0.1);
      th.classList.toggle("total-ok", Math.abs(t - 100) <= 0.1);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var input = document.querySelector("[data-tree-filter]");
    if (input) { input.addEventListener("input", applyFilter); }
    var gaps = document.querySelector("[data-gaps-only]");
    if (gaps) { gaps.addEventListener("change", applyFilter); }
    var form = document.querySelector("form[data-weights]");
    if (form) {
      form.addEventListener("input", function () { weightTotals(form); });
      weightTotals(form);
    }
    document.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      sel.addEventListener("change", function () { sel.form.submit(); });
    });
  });
})();
