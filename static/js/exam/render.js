// Rendering one question and reading its answer back. Stems and options arrive as (server-
// sanitised) HTML; they are re-built here from an allow-list of elements and attributes, so even
// a sanitiser slip on the server cannot run script in the exam page (innerHTML is never used).
(function () {
  "use strict";
  var X = window.ExamSys;
  var el = X.el, _ = X._, _f = X._f;

  var TYPE_LABELS = {
    judge: _("判断题"), single: _("单项选择题"), multi: _("多项选择题"), fill: _("填空题"),
    short: _("简答题"), calc: _("计算题"), essay: _("论述题"), case: _("案例分析题"),
  };
  var TYPE_HINTS = {
    judge: _("请判断下面的说法是否正确。"),
    single: _("请从下列选项中选择一个正确答案。"),
    multi: _("请选择所有正确的选项（可以选择多个）。"),
    fill: _("请在每个空格对应的输入框中填写答案。"),
    short: _("请在下面的文本框中作答。"), calc: _("请写出计算过程和结果。"),
    essay: _("请在下面的文本框中作答。"), case: _("请阅读案例，在下面的文本框中作答。"),
  };
  X.TYPE_LABELS = TYPE_LABELS;
  X.OPEN_TYPES = { short: 1, calc: 1, essay: 1, case: 1 };

  // --- allow-list sanitiser -----------------------------------------------------------------

  var HTML_OK = "p br sub sup strong b em i u s span div ul ol li table thead tbody tfoot tr td th caption img figure figcaption code pre blockquote hr small";
  var MATH_OK = "math mrow mi mn mo ms mtext mspace msup msub msubsup mfrac msqrt mroot mover munder munderover mtable mtr mtd mstyle mpadded mphantom menclose semantics annotation";
  var ALLOWED = {};
  HTML_OK.split(" ").forEach(function (t) { ALLOWED[t] = "html"; });
  MATH_OK.split(" ").forEach(function (t) { ALLOWED[t] = "math"; });
  var DROP = { script: 1, style: 1, iframe: 1, object: 1, embed: 1, template: 1, noscript: 1, link: 1, meta: 1, svg: 1, form: 1, input: 1, textarea: 1, select: 1, button: 1 };
  var ATTRS = {
    img: ["alt", "width", "height"], td: ["colspan", "rowspan"], th: ["colspan", "rowspan", "scope"],
    ol: ["start", "type"], math: ["display"], mo: ["stretchy", "fence", "separator"], mfrac: ["linethickness"],
    mstyle: ["displaystyle", "scriptlevel"], mi: ["mathvariant"], menclose: ["notation"], mtd: ["columnspan", "rowspan"],
  };
  var MATHML_NS = "http://www.w3.org/1998/Math/MathML";

  function safeSrc(src) {
    src = (src || "").trim();
    if (/^data:image\/(png|jpeg|gif|webp);base64,[a-z0-9+\/=\s]+$/i.test(src)) return src;
    if (/^\/(?!\/)[^\s\\]*$/.test(src)) return src; // same-origin path only
    return null;
  }

  function copyNode(src, out) {
    for (var child = src.firstChild; child; child = child.nextSibling) {
      if (child.nodeType === 3) { out.appendChild(document.createTextNode(child.nodeValue)); continue; }
      if (child.nodeType !== 1) continue;
      var tag = child.localName.toLowerCase();
      if (DROP[tag]) continue;
      var kind = ALLOWED[tag];
      if (!kind) { copyNode(child, out); continue; } // unknown wrapper: keep its text
      var node = kind === "math" ? document.createElementNS(MATHML_NS, tag) : document.createElement(tag);
      (ATTRS[tag] || []).forEach(function (name) {
        var v = child.getAttribute(name);
        if (v !== null && /^[\w\s.%#-]*$/.test(v)) node.setAttribute(name, v);
      });
      if (tag === "img") {
        var s = safeSrc(child.getAttribute("src"));
        if (!s) continue;
        node.setAttribute("src", s);
        node.setAttribute("loading", "lazy");
      }
      copyNode(child, node);
      out.appendChild(node);
    }
  }

  X.richText = function (html) {
    var frag = document.createDocumentFragment();
    if (html === null || html === undefined) return frag;
    var doc = new DOMParser().parseFromString("<body>" + String(html) + "</body>", "text/html");
    copyNode(doc.body, frag);
    return frag;
  };

  // Blank markers in a fill-in stem (____, full-width （  ）, (  )) become numbered gaps matching
  // the inputs.
  var BLANK_RE = /_{4,}|\uff08[ \t\u3000\u00a0]*\uff09|\([ \t\u3000\u00a0]+\)/g;

  function numberBlanks(root) {
    var n = 0;
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT, null);
    var texts = [];
    while (walker.nextNode()) texts.push(walker.currentNode);
    texts.forEach(function (t) {
      var value = t.nodeValue;
      BLANK_RE.lastIndex = 0;
      if (!BLANK_RE.test(value)) return;
      BLANK_RE.lastIndex = 0;
      var frag = document.createDocumentFragment(), last = 0, m;
      while ((m = BLANK_RE.exec(value))) {
        frag.appendChild(document.createTextNode(value.slice(last, m.index)));
        n += 1;
        frag.appendChild(el("span", { className: "exam-gap", text: _f("（%(n)s）", { n: n }) }));
        last = m.index + m[0].length;
      }
      frag.appendChild(document.createTextNode(value.slice(last)));
      t.parentNode.replaceChild(frag, t);
    });
    return n;
  }

  // --- answers ------------------------------------------------------------------------------

  X.isAnswered = function (item, answer) {
    if (answer === null || answer === undefined) return false;
    switch (item.qtype) {
      case "judge": return typeof answer === "boolean";
      case "single": return typeof answer === "string" && answer !== "";
      case "multi": return Array.isArray(answer) && answer.length > 0;
      case "fill": return Array.isArray(answer) && answer.some(function (v) { return v && String(v).trim() !== ""; });
      default: return typeof answer === "string" && answer.trim() !== "";
    }
  };

  X.blankCount = function (item) {
    if (item.blanks) return item.blanks;
    var holder = el("div");
    holder.appendChild(X.richText(item.stem));
    return Math.max(1, numberBlanks(holder));
  };

  // --- one question -------------------------------------------------------------------------

  function choiceList(item, name, type, answer, locked, onChange) {
    var chosen = type === "checkbox" ? (Array.isArray(answer) ? answer : []) : [answer];
    var list = el("div", { className: "exam-options", role: type === "radio" ? "radiogroup" : "group", "aria-labelledby": "q-stem" });
    (item.options || []).forEach(function (opt) {
      var input = el("input", {
        type: type, name: name, value: opt.value, className: "exam-choice-input",
        checked: chosen.indexOf(opt.value) >= 0, disabled: locked, "data-label": opt.label,
      });
      var text = el("span", { className: "exam-option-text" });
      text.appendChild(X.richText(opt.text));
      list.appendChild(el("label", { className: "exam-option" }, [
        input, el("span", { className: "exam-option-label", text: opt.label + "." }), text,
      ]));
    });
    list.addEventListener("change", function () {
      var values = Array.prototype.filter.call(list.querySelectorAll("input"), function (i) { return i.checked; })
        .map(function (i) { return i.value; });
      if (type === "checkbox") onChange(values.sort(), { immediate: true });
      else onChange(values.length ? values[0] : null, { immediate: true });
    });
    return list;
  }

  function judgeButtons(item, name, answer, locked, onChange) {
    var list = el("div", { className: "exam-judge", role: "radiogroup", "aria-labelledby": "q-stem" });
    [[true, "√", _("正确")], [false, "×", _("错误")]].forEach(function (row) {
      var input = el("input", {
        type: "radio", name: name, value: String(row[0]), className: "exam-choice-input",
        checked: answer === row[0], disabled: locked, "aria-label": row[2],
      });
      list.appendChild(el("label", { className: "exam-judge-btn exam-judge-" + row[0] }, [
        input, el("span", { className: "exam-judge-mark", "aria-hidden": "true", text: row[1] }),
        el("span", { className: "exam-judge-text", text: row[2] }),
      ]));
    });
    list.addEventListener("change", function (e) { onChange(e.target.value === "true", { immediate: true }); });
    return list;
  }

  function fillInputs(item, answer, locked, onChange, blanks) {
    var values = Array.isArray(answer) ? answer.slice() : [];
    var box = el("div", { className: "exam-blanks" });
    var inputs = [];
    for (var i = 0; i < blanks; i++) {
      var id = "blank-" + i;
      var input = el("input", {
        type: "text", id: id, className: "exam-input exam-blank-input", value: values[i] || "",
        disabled: locked, autocomplete: "off", spellcheck: "false", maxlength: 200,
      });
      inputs.push(input);
      box.appendChild(el("div", { className: "exam-blank-row" }, [
        el("label", { for: id, text: _f("第 %(n)s 空", { n: i + 1 }) }), input,
      ]));
    }
    box.addEventListener("input", function () {
      onChange(inputs.map(function (x) { return x.value; }), { immediate: false });
    });
    return box;
  }

  function textArea(item, answer, locked, onChange) {
    var count = el("span", { className: "exam-count", "aria-live": "off" });
    var area = el("textarea", {
      id: "answer-text", className: "exam-input exam-textarea exam-answer-text", rows: item.qtype === "essay" || item.qtype === "case" ? 14 : 9,
      disabled: locked, spellcheck: "false", maxlength: 20000, "aria-labelledby": "q-stem",
    });
    area.value = typeof answer === "string" ? answer : "";
    function counted() { count.textContent = _f("已输入 %(n)s 字", { n: area.value.length }); }
    counted();
    area.addEventListener("input", function () { counted(); onChange(area.value, { immediate: false }); });
    return el("div", { className: "exam-open" }, [area, count]);
  }

  // Render item number `index` (0-based) of `total` into `container`.
  X.renderQuestion = function (container, item, index, total, answer, opts) {
    container.textContent = "";
    var locked = !!opts.locked;
    var name = "q-" + index;
    var head = el("div", { className: "exam-qhead" }, [
      el("span", { className: "exam-qno", text: _f("第 %(n)s 题", { n: index + 1 }) }),
      el("span", { className: "exam-qof", text: _f("共 %(n)s 题", { n: total }) }),
      el("span", { className: "exam-qtype", text: TYPE_LABELS[item.qtype] || item.qtype }),
      item.points ? el("span", { className: "exam-qpoints", text: _f("%(n)s 分", { n: item.points }) }) : null,
      opts.flagged ? el("span", { className: "exam-qflag", text: _("⚑ 已标记") }) : null,
    ]);
    var stem = el("div", { className: "exam-stem", id: "q-stem" });
    stem.appendChild(X.richText(item.stem));
    var blanks = item.qtype === "fill" ? Math.max(item.blanks || 0, numberBlanks(stem), 1) : 0;
    container.appendChild(head);
    container.appendChild(el("p", { className: "exam-qhint", text: TYPE_HINTS[item.qtype] || "" }));
    container.appendChild(stem);
    var body;
    if (item.qtype === "judge") body = judgeButtons(item, name, answer, locked, opts.onChange);
    else if (item.qtype === "single") body = choiceList(item, name, "radio", answer, locked, opts.onChange);
    else if (item.qtype === "multi") body = choiceList(item, name, "checkbox", answer, locked, opts.onChange);
    else if (item.qtype === "fill") body = fillInputs(item, answer, locked, opts.onChange, blanks);
    else body = textArea(item, answer, locked, opts.onChange);
    container.appendChild(body);
    if ((item.qtype === "judge" || item.qtype === "single") && !locked) {
      var clear = el("button", { type: "button", className: "exam-btn exam-btn-small exam-clear", text: _("清除本题选择") });
      clear.addEventListener("click", function () {
        Array.prototype.forEach.call(body.querySelectorAll("input"), function (i) { i.checked = false; });
        opts.onChange(null, { immediate: true });
      });
      container.appendChild(clear);
    }
  };
})();
