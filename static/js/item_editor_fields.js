// Item editor fields: the key as radio buttons (single choice) or checkboxes (multiple choice),
// following the chosen type; option rows added and removed in place (2 to 8); a search box over
// the knowledge-point list, showing the chosen point's path in the knowledge tree.
// Without JavaScript the server does the same: the key inputs are rendered for the type loaded,
// "添加选项"/"删除" post the form and come back with the rows changed, and the point list is
// grouped by tree path.
(function () {
  "use strict";
  var _ = window.I18n._, _f = window.I18n._f;

  function setupKey(form, qtypeInput) {
    var hint = form.querySelector("[data-role=key-hint]");
    function apply() {
      var multi = qtypeInput.value === "multi";
      var seen = false;
      form.querySelectorAll("[data-role=key-input]").forEach(function (input) {
        var type = multi ? "checkbox" : "radio";
        if (input.type !== type) {
          var checked = input.checked && !seen;
          input.type = type;
          input.checked = multi ? input.checked : checked;
        }
        if (input.checked) { seen = true; }
      });
      if (hint) { hint.textContent = multi ? _("勾选所有正确的选项（至少两个）。") : _("点选唯一正确的选项。"); }
    }
    qtypeInput.addEventListener("change", apply);
    apply();
  }

  function setupOptions(form) {
    var section = form.querySelector(".options-section");
    if (!section) { return; }
    var min = parseInt(section.getAttribute("data-min"), 10) || 2;
    var max = parseInt(section.getAttribute("data-max"), 10) || 8;
    var rows = Array.prototype.slice.call(section.querySelectorAll("[data-role=option-row]"));
    var countInput = section.querySelector("[data-role=option-count]");
    var addButton = section.querySelector("[data-role=option-add]");

    function parts(row) {
      return { text: row.querySelector("textarea"), key: row.querySelector("[data-role=key-input]"),
               remove: row.querySelector("[data-role=option-remove]") };
    }
    function count() { return rows.filter(function (r) { return !r.hidden; }).length; }
    function show(row, visible) {
      var p = parts(row);
      row.hidden = !visible;
      p.text.disabled = !visible;
      p.key.disabled = !visible;
      if (!visible) {
        p.text.value = "";
        p.key.checked = false;
        row.querySelectorAll(".option-error").forEach(function (e) { e.remove(); });
        row.classList.remove("has-error");
      }
    }
    function refresh() {
      var n = count();
      countInput.value = String(n);
      addButton.disabled = n >= max;
      rows.forEach(function (row) { parts(row).remove.disabled = n <= min; });
    }

    addButton.addEventListener("click", function (event) {
      event.preventDefault();
      var next = rows[count()];
      if (!next) { return; }
      show(next, true);
      refresh();
      parts(next).text.focus();
    });
    rows.forEach(function (row, index) {
      parts(row).remove.addEventListener("click", function (event) {
        event.preventDefault();
        var n = count();
        if (n <= min) { return; }
        // Later options move up one row, with their key marks; the last row goes.
        for (var i = index; i < n - 1; i++) {
          var here = parts(rows[i]), below = parts(rows[i + 1]);
          here.text.value = below.text.value;
          here.key.checked = below.key.checked;
        }
        show(rows[n - 1], false);
        refresh();
        var focus = parts(rows[Math.min(index, n - 2)]).text;
        focus.focus();
        focus.dispatchEvent(new Event("input", {bubbles: true}));
      });
    });
    refresh();
  }

  function normalise(text) { return (text || "").toLowerCase().replace(/\s+/g, ""); }

  function setupPointPicker(form) {
    var picker = form.querySelector("[data-role=point-picker]");
    if (!picker) { return; }
    var select = picker.querySelector("select");
    var pathLine = picker.querySelector("[data-role=point-path]");
    var options = Array.prototype.slice.call(select.querySelectorAll("option[value]")).filter(function (o) { return o.value; });
    var search = document.createElement("input");
    search.type = "search";
    search.className = "input point-search";
    search.setAttribute("data-role", "point-search");
    search.setAttribute("aria-label", _("搜索鉴定点"));
    search.placeholder = _f("搜索 %(n)s 个鉴定点：代码、名称或知识范围", { n: options.length });
    select.parentNode.insertBefore(search, select);
    var status = document.createElement("p");
    status.className = "hint";
    status.setAttribute("aria-live", "polite");
    status.hidden = true;
    select.parentNode.insertBefore(status, select.nextSibling);

    function showPath() {
      var chosen = select.options[select.selectedIndex];
      if (chosen && chosen.value) {
        pathLine.textContent = _f("已选：%(path)s › %(point)s", { path: chosen.getAttribute("data-path") || "", point: chosen.textContent });
        pathLine.classList.add("point-path");
      } else {
        pathLine.textContent = _("尚未选择鉴定点。");
        pathLine.classList.remove("point-path");
      }
    }
    function filter() {
      var words = search.value.split(/\s+/).map(normalise).filter(Boolean);
      var shown = 0;
      options.forEach(function (o) {
        var haystack = normalise(o.textContent + " " + (o.getAttribute("data-path") || ""));
        var match = words.every(function (w) { return haystack.indexOf(w) !== -1; });
        o.hidden = !match;
        if (match) { shown++; }
      });
      select.querySelectorAll("optgroup").forEach(function (g) {
        g.hidden = !g.querySelector("option:not([hidden])");
      });
      if (words.length) {
        select.size = Math.max(2, Math.min(10, shown + select.querySelectorAll("optgroup:not([hidden])").length));
        status.hidden = false;
        status.textContent = shown ? _f("找到 %(n)s 个鉴定点，点选其一。", { n: shown }) : _("没有匹配的鉴定点，请换个关键词。");
      } else {
        select.removeAttribute("size");
        status.hidden = true;
      }
      return shown;
    }
    search.addEventListener("input", filter);
    search.addEventListener("keydown", function (event) {
      if (event.key === "Enter") {
        event.preventDefault();  // choose the first match rather than submit the form
        var first = options.filter(function (o) { return !o.hidden; })[0];
        if (first) {
          select.value = first.value;
          select.dispatchEvent(new Event("change", {bubbles: true}));
        }
      } else if (event.key === "ArrowDown") {
        event.preventDefault();
        select.focus();
      }
    });
    select.addEventListener("change", function () {
      showPath();
      if (search.value) {
        search.value = "";
        filter();
      }
    });
    showPath();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.querySelector("form.item-editor");
    if (!form) { return; }
    var qtype = form.querySelector("[data-role=qtype]");
    if (qtype) { setupKey(form, qtype); }
    setupOptions(form);
    setupPointPicker(form);
  });
})();
