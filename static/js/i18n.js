// Translations for the scripts (gettext domain `js`, catalogue translations/<lang>/LC_MESSAGES/js.po).
// The page carries the current locale's {msgid: msgstr} table in a JSON data block
// (<script type="application/json" id="i18n-js">: data, never executed, so CSP-safe). msgids are
// the Chinese source texts: the Chinese table is empty and every text shows as written.
//
// Scripts alias the helpers locally (var _ = I18n._, _f = I18n._f) so that pybabel's JavaScript
// extractor (babel-js.cfg, keywords _ and _f) finds every call. A msgid is a whole sentence; numbers
// and names go in through named placeholders, never by gluing translated pieces together:
//   _("交卷")                                -> "Hand in"
//   _f("还有 %(n)s 题未答", { n: 3 })         -> "Unanswered: 3"
(function () {
  "use strict";
  var table = {};
  var block = document.getElementById("i18n-js");
  if (block) {
    try { table = JSON.parse(block.textContent) || {}; } catch (e) { table = {}; }
  }
  var lang = document.documentElement.getAttribute("lang") || "zh-CN";

  function gettext(msgid) {
    var text = table[msgid];
    return typeof text === "string" && text ? text : msgid;
  }

  // Python-style named placeholders, %(name)s, so that pybabel checks them against each msgstr.
  function format(msgid, params) {
    return gettext(msgid).replace(/%\((\w+)\)s/g, function (whole, name) {
      return params && Object.prototype.hasOwnProperty.call(params, name) ? String(params[name]) : whole;
    });
  }

  window.I18n = {
    lang: lang,
    // True when the page is in the source language (Chinese), the language of server messages.
    source: /^zh/i.test(lang),
    _: gettext,
    _f: format,
    // A label the server sent (e.g. a question type): translated when it is a known msgid.
    label: function (text) { return text === null || text === undefined ? text : gettext(String(text)); },
  };
})();
