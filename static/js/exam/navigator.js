// The exam page's question pane and answer card (navigator): one question shown at a time, a
// button per question marked answered / flagged / waiting to be saved, the progress line, the flag
// toggle, answering (handed to the saver), and the keyboard shortcuts.
(function () {
  "use strict";
  var X = window.ExamSys;
  var $ = X.$, el = X.el, _ = X._, _f = X._f;
  var P = X.page, S = P.S;

  var TEXT_DEBOUNCE_MS = 800;

  function answered(ref) { return X.isAnswered(S.items[S.index[ref]], S.buffer.answer(ref)); }
  P.answered = answered;

  // TRANSLATORS: separates the states in a question's label on the answer card ("第 3 题，已答，已标记").
  var STATE_SEP = _("，");

  function navLabel(i, ref) {
    var parts = [_f("第 %(n)s 题", { n: i + 1 }), answered(ref) ? _("已答") : _("未答")];
    if (S.buffer.flagged(ref)) parts.push(_("已标记"));
    if (S.buffer.isPending(ref)) parts.push(_("待保存"));
    return parts.join(STATE_SEP);
  }

  // TRANSLATORS: the numbers of the sections of a paper, separated by "|" (一、判断题 / 1. True/false).
  var SECTION_NUMBERS = _("一|二|三|四|五|六|七|八|九|十").split("|");

  P.buildNav = function () {
    var nav = $("navigator");
    nav.textContent = "";
    var group = null, lastType = null, sectionNo = 0;
    S.items.forEach(function (item, i) {
      var key = item.section !== undefined ? "s" + item.section : item.qtype;
      if (key !== lastType) {
        lastType = key;
        var sec = S.sections[item.section] || {};
        var title = X.i18n.label(sec.title) || X.TYPE_LABELS[item.qtype] || item.qtype;
        var no = SECTION_NUMBERS[sectionNo] || String(sectionNo + 1);
        sectionNo += 1;
        nav.appendChild(el("h3", { className: "exam-nav-section", text: _f("%(no)s、%(title)s", { no: no, title: title }) }));
        group = el("div", { className: "exam-nav-grid" });
        nav.appendChild(group);
      }
      var ref = S.refs[i];
      var btn = el("button", { type: "button", className: "exam-navbtn", "data-pos": i, id: "nav-" + i }, [
        el("span", { className: "exam-navno", text: String(i + 1) }),
        el("span", { className: "exam-navmark", "aria-hidden": "true" }),
      ]);
      btn.addEventListener("click", function () { P.show(i, true); });
      group.appendChild(btn);
      P.updateNav(ref);
    });
    P.updateProgress();
  };

  P.updateNav = function (ref) {
    var i = S.index[ref];
    var btn = $("nav-" + i);
    if (!btn) return;
    var a = answered(ref), f = S.buffer.flagged(ref);
    btn.classList.toggle("is-answered", a);
    btn.classList.toggle("is-flagged", f);
    btn.classList.toggle("is-pending", S.buffer.isPending(ref));
    btn.classList.toggle("is-current", i === S.pos);
    if (i === S.pos) btn.setAttribute("aria-current", "step"); else btn.removeAttribute("aria-current");
    btn.querySelector(".exam-navmark").textContent = f ? "⚑" : a ? "✓" : "○";
    btn.setAttribute("aria-label", navLabel(i, ref));
  };

  P.updateProgress = function () {
    var done = S.refs.filter(answered).length;
    $("progress").textContent = _f("已答 %(done)s 题 / 共 %(total)s 题", { done: done, total: S.refs.length });
  };

  P.show = function (pos, focus) {
    if (pos < 0 || pos >= S.items.length) return;
    var prev = S.pos;
    S.pos = pos;
    S.buffer.data.pos = pos;
    S.buffer.save();
    var ref = S.refs[pos], item = S.items[pos];
    X.renderQuestion($("question"), item, pos, S.items.length, S.buffer.answer(ref), {
      locked: S.locked, flagged: S.buffer.flagged(ref),
      onChange: function (answer, how) { onAnswer(ref, answer, how); },
    });
    $("prev-btn").disabled = pos === 0;
    $("next-btn").disabled = pos === S.items.length - 1;
    var f = S.buffer.flagged(ref);
    $("flag-btn").setAttribute("aria-pressed", f ? "true" : "false");
    $("flag-text").textContent = f ? _("取消标记") : _("标记本题");
    P.updateNav(S.refs[prev]);
    P.updateNav(ref);
    if (focus) $("question").focus();
  };

  function onAnswer(ref, answer, how) {
    if (S.locked) return;
    S.saver.change(ref, answer, how && how.immediate ? 0 : TEXT_DEBOUNCE_MS);
    P.updateNav(ref);
    P.updateProgress();
  }

  function toggleFlag() {
    var ref = S.refs[S.pos];
    if (S.locked) return;
    S.buffer.flag(ref, !S.buffer.flagged(ref));
    S.saver.schedule(0);
    S.saver.report();
    P.show(S.pos, false);
    $("flag-btn").focus();
  }

  // --- keyboard ---------------------------------------------------------------------------------

  function isTextField(t) {
    return t && (t.tagName === "TEXTAREA" || (t.tagName === "INPUT" && (t.type === "text" || t.type === "search")));
  }

  function onKey(e) {
    if (S.locked || $("exam-view").hidden || $("submit-dialog").open) return;
    var t = e.target;
    if (e.key === "Enter" && t && t.tagName === "INPUT" && (t.type === "radio" || t.type === "checkbox") && t.closest("#question")) {
      e.preventDefault();
      if (t.type === "checkbox" || !t.checked) t.click();
      return;
    }
    if (e.altKey || e.ctrlKey || e.metaKey) return;
    if (e.key === "PageDown" && !(t && t.tagName === "TEXTAREA")) { e.preventDefault(); P.show(S.pos + 1, true); return; }
    if (e.key === "PageUp" && !(t && t.tagName === "TEXTAREA")) { e.preventDefault(); P.show(S.pos - 1, true); return; }
    if (!isTextField(t) && /^[a-hA-H]$/.test(e.key)) {
      var input = $("question").querySelector('input[data-label="' + e.key.toUpperCase() + '"]');
      if (input) { e.preventDefault(); input.focus(); if (input.type === "checkbox" || !input.checked) input.click(); }
    }
  }

  document.addEventListener("DOMContentLoaded", function () {
    $("prev-btn").addEventListener("click", function () { P.show(S.pos - 1, true); });
    $("next-btn").addEventListener("click", function () { P.show(S.pos + 1, true); });
    $("flag-btn").addEventListener("click", toggleFlag);
    document.addEventListener("keydown", onKey);
  });
})();
