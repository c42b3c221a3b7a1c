// Item editor: show only the sections that belong to the chosen question type; insert uploaded
// images into content fields; preview the stem as the server will show it.
// Without JavaScript every section stays visible and the server ignores the ones that don't apply;
// images and preview need the script (HTML typed by hand still works).
(function () {
  "use strict";
  var _ = window.I18n._, _f = window.I18n._f;

  function update(select) {
    var qtype = select.value;
    document.querySelectorAll(".qsection").forEach(function (section) {
      var types = (section.getAttribute("data-qtypes") || "").split(" ");
      section.hidden = types.indexOf(qtype) === -1;
    });
  }

  function csrfToken() {
    var meta = document.querySelector("meta[name=csrf-token]");
    return meta ? meta.getAttribute("content") : "";
  }

  // The server answers errors as {"error": {"message": ...}} when asked for JSON.
  function post(url, body) {
    return fetch(url, {
      method: "POST", body: body, credentials: "same-origin",
      headers: {"X-CSRFToken": csrfToken(), "Accept": "application/json"}
    }).then(function (resp) {
      return resp.json().catch(function () { return {}; }).then(function (data) {
        if (!resp.ok) {
          var message = (data && data.error && data.error.message) || _f("请求失败（HTTP %(status)s）", { status: resp.status });
          throw new Error(message);
        }
        return data;
      });
    });
  }

  function insertAtCursor(textarea, text) {
    var start = textarea.selectionStart, end = textarea.selectionEnd;
    if (typeof start !== "number") { start = end = textarea.value.length; }
    textarea.value = textarea.value.slice(0, start) + text + textarea.value.slice(end);
    var caret = start + text.length;
    textarea.focus();
    textarea.setSelectionRange(caret, caret);
    textarea.dispatchEvent(new Event("input", {bubbles: true}));
  }

  function setupMedia(form) {
    var uploadUrl = form.getAttribute("data-upload-url");
    var lastFocused = null;  // the content field the writer was last in
    var bars = Array.prototype.slice.call(form.querySelectorAll(".media-bar"));

    function targetOf(bar) {
      var ids = (bar.getAttribute("data-media-targets") || "").split(" ");
      if (lastFocused && ids.indexOf(lastFocused.id) !== -1) { return lastFocused; }
      return document.getElementById(ids[0]);
    }
    function showTargets() {
      bars.forEach(function (bar) {
        var target = targetOf(bar), label = bar.querySelector("[data-role=media-target]");
        if (target && label) { label.textContent = _f("插入到：%(field)s", { field: target.getAttribute("data-rich") }); }
      });
    }
    form.querySelectorAll("textarea[data-rich]").forEach(function (ta) {
      ta.addEventListener("focus", function () { lastFocused = ta; showTargets(); });
    });
    showTargets();

    bars.forEach(function (bar) {
      var input = bar.querySelector("[data-role=media-file]");
      var error = bar.querySelector("[data-role=media-error]");
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        var target = targetOf(bar);
        if (!file || !target) { return; }
        error.textContent = _("正在上传…");
        var body = new FormData();
        body.append("file", file);
        post(uploadUrl, body).then(function (data) {
          error.textContent = "";
          insertAtCursor(target, '<img src="' + data.url + '" alt="">');
        }).catch(function (err) {
          error.textContent = err.message;
        }).then(function () { input.value = ""; });
      });
    });
  }

  function setupPreview(form) {
    var url = form.getAttribute("data-preview-url");
    form.querySelectorAll(".preview[data-preview-source]").forEach(function (panel) {
      var source = document.getElementById(panel.getAttribute("data-preview-source"));
      var out = panel.querySelector("[data-role=preview-body]");
      if (!source || !out) { return; }
      var timer = null, seq = 0;
      function refresh() {
        var mine = ++seq;
        var body = new FormData();
        body.append("html", source.value);
        post(url, body).then(function (data) {
          if (mine !== seq) { return; }  // a newer request is on its way
          out.classList.remove("error");
          // Sanitised by the server (nh3 + math rendering), like the saved item page.
          out.innerHTML = data.html;
        }).catch(function (err) {
          if (mine !== seq) { return; }
          out.textContent = _f("预览失败：%(reason)s", { reason: err.message });
          out.classList.add("error");
        });
      }
      source.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(refresh, 400);
      });
      if (source.value) { refresh(); }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var select = document.querySelector("[data-role=qtype]");
    if (select) {
      update(select);
      select.addEventListener("change", function () { update(select); });
    }
    var form = document.querySelector("form.item-editor");
    if (form && form.getAttribute("data-upload-url")) {
      setupMedia(form);
      setupPreview(form);
    }
  });
})();
