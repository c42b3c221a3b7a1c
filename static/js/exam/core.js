// Candidate exam pages: shared helpers (namespace, translations, session storage, the JSON API
// client, formatting). Plain script, no framework, no build step; CSP allows only same-origin
// scripts, so nothing here is ever inline. The Bearer token lives in sessionStorage only: never a
// cookie, never a URL.
(function () {
  "use strict";
  var X = (window.ExamSys = window.ExamSys || {});
  var body = document.body;

  // Translations (static/js/i18n.js, loaded first): every exam script aliases these locally,
  // `var _ = X._, _f = X._f;`, so that pybabel's extractor finds the calls.
  X.i18n = window.I18n;
  X._ = X.i18n._;
  X._f = X.i18n._f;
  var _ = X._, _f = X._f;

  X.API = body.getAttribute("data-api") || "/api/v1";
  X.urls = { login: body.getAttribute("data-login-url") || "/exam/", app: body.getAttribute("data-app-url") || "/exam/app" };

  var K_TOKEN = "examsys.exam.token";
  var K_CAND = "examsys.exam.candidate";
  var K_ATTEMPT = "examsys.exam.attempt";

  function ssGet(key) { try { return window.sessionStorage.getItem(key); } catch (e) { return null; } }
  function ssSet(key, value) { try { window.sessionStorage.setItem(key, value); } catch (e) { /* private mode */ } }
  function ssDel(key) { try { window.sessionStorage.removeItem(key); } catch (e) { /* ignore */ } }
  function parse(text) { try { return text ? JSON.parse(text) : null; } catch (e) { return null; } }

  X.session = {
    token: function () { return ssGet(K_TOKEN); },
    candidate: function () { return parse(ssGet(K_CAND)) || {}; },
    attempt: function () { return parse(ssGet(K_ATTEMPT)); },
    start: function (token, candidate) {
      ssSet(K_TOKEN, token);
      ssSet(K_CAND, JSON.stringify(candidate || {}));
    },
    setAttempt: function (info) { ssSet(K_ATTEMPT, JSON.stringify(info)); },
    clear: function () { ssDel(K_TOKEN); ssDel(K_CAND); ssDel(K_ATTEMPT); },
  };

  // --- API client ------------------------------------------------------------------------------

  var HTTP_MESSAGES = {
    0: _("无法连接服务器，请检查网络"),
    400: _("提交的内容有误"),
    401: _("登录已失效，请重新登录"),
    403: _("没有权限进行此操作"),
    404: _("没有找到该考试或试卷"),
    409: _("操作冲突，请刷新后重试"),
    429: _("操作过于频繁，请稍等片刻再试"),
    500: _("服务器出错，请稍后重试"),
  };
  // Error codes of the candidate API whose meaning does not depend on the request.
  var CODE_MESSAGES = {
    session_replaced: _("您的账号已在其他地方登录，本页面已失效"),
    attempt_closed: _("本场考试已结束，答案未保存"),
    rate_limited: _("操作过于频繁，请稍后再试"),
    retry_later: _("服务器繁忙，答案尚未保存，请稍后重试"),
    stale_seq: _("服务器上已有该题更新的答案，已返回服务器保存的内容"),
    not_started: _("考试尚未开始，请稍候"),
    window_closed: _("考试时间已结束"),
    not_available: _("本场考试当前不可作答"),
    no_paper: _("本场考试的试卷尚未准备好，请举手示意监考员"),
    seb_required: _("请使用指定的安全考试浏览器（Safe Exam Browser）参加考试"),
    not_submitted: _("请先交卷，再填写满意度调查"),
    already_answered: _("您已提交过满意度调查，感谢参与"),
  };

  // What a person reads for a failed request. The server's messages are Chinese: on a Chinese page
  // they come first (they are the most specific); on a page in another language the script's own
  // translated text for the code or the HTTP status comes first, the server's text only when the
  // script has none.
  function errorMessage(status, code, serverMessage) {
    var known = CODE_MESSAGES[code] || HTTP_MESSAGES[status];
    var fallback = HTTP_MESSAGES[status >= 500 ? 500 : 400];
    if (X.i18n.source) return serverMessage || known || fallback;
    return known || serverMessage || fallback;
  }
  // A message for this situation, written by the caller (`own`, already translated): on a page in
  // the source language the server's own message wins when there is one.
  X.errorText = function (err, own) {
    if (X.i18n.source) return (err && err.serverMessage) || own || (err && err.message) || "";
    return own || (err && err.message) || "";
  };

  function ApiError(status, code, serverMessage, data) {
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.serverMessage = serverMessage || "";
    this.message = errorMessage(status, code, serverMessage);
    this.data = data;
  }
  ApiError.prototype = Object.create(Error.prototype);
  ApiError.prototype.constructor = ApiError;
  // Worth retrying later: no connection, a timeout, the server busy or failing.
  ApiError.prototype.transient = function () {
    return this.status === 0 || this.status === 408 || this.status === 429 || this.status >= 500;
  };
  X.ApiError = ApiError;

  X.request = function (method, path, payload, options) {
    options = options || {};
    var headers = { Accept: "application/json" };
    if (payload !== undefined) headers["Content-Type"] = "application/json";
    var token = X.session.token();
    if (token && !options.anonymous) headers.Authorization = "Bearer " + token;
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller ? window.setTimeout(function () { controller.abort(); }, options.timeout || 15000) : null;
    var init = {
      method: method, headers: headers, cache: "no-store", credentials: "omit",
      body: payload === undefined ? undefined : JSON.stringify(payload),
      keepalive: !!options.keepalive,
    };
    if (controller) init.signal = controller.signal;
    return window.fetch(X.API + path, init).then(function (resp) {
      if (timer) window.clearTimeout(timer);
      return resp.text().then(function (text) {
        var data = parse(text);
        if (resp.ok) return data || {};
        var err = (data && data.error) || {};
        throw new ApiError(resp.status, err.code || "http_" + resp.status, err.message, data);
      });
    }, function () {
      if (timer) window.clearTimeout(timer);
      throw new ApiError(0, "network", "", null);
    });
  };

  // --- small DOM and formatting helpers -------------------------------------------------------

  X.$ = function (id) { return document.getElementById(id); };

  X.el = function (tag, attrs, children) {
    var node = document.createElement(tag);
    if (attrs) {
      Object.keys(attrs).forEach(function (k) {
        var v = attrs[k];
        if (v === null || v === undefined || v === false) return;
        if (k === "text") node.textContent = v;
        else if (k === "className") node.className = v;
        else node.setAttribute(k, v === true ? "" : String(v));
      });
    }
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) return;
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  };

  X.show = function (node, visible) { if (node) node.hidden = !visible; };

  // Children for X.el from a translated text whose %(name)s placeholders take nodes or values,
  // e.g. X.fill(_("总分 %(score)s / %(total)s"), { score: el("strong", ...), total: 100 }).
  X.fill = function (text, params) {
    var out = [], last = 0, re = /%\((\w+)\)s/g, m;
    while ((m = re.exec(text))) {
      out.push(text.slice(last, m.index));
      var v = params[m[1]];
      out.push(v === undefined ? m[0] : typeof v === "object" && v !== null ? v : String(v));
      last = re.lastIndex;
    }
    out.push(text.slice(last));
    return out.filter(function (c) { return c !== ""; });
  };

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // 1:05:09 or 05:09 for a number of seconds (never negative).
  X.clockText = function (seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h > 0 ? h + ":" + pad(m) : pad(m)) + ":" + pad(r);
  };

  var MONTHS = [_("1月"), _("2月"), _("3月"), _("4月"), _("5月"), _("6月"), _("7月"), _("8月"), _("9月"),
    _("10月"), _("11月"), _("12月")];

  // An ISO time shown in Beijing time (the exam rooms' time zone), e.g. 11月24日 09:00 (Nov 24, 09:00).
  X.localTime = function (iso, withDate) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var bj = new Date(d.getTime() + 8 * 3600 * 1000);
    var time = pad(bj.getUTCHours()) + ":" + pad(bj.getUTCMinutes());
    if (withDate === false) return time;
    return _f("%(month)s%(day)s日 %(time)s", { month: MONTHS[bj.getUTCMonth()], day: bj.getUTCDate(), time: time });
  };

  // End the session on the server too (best effort), then forget the token.
  X.logout = function () {
    var done = function () { X.session.clear(); window.location.replace(X.urls.login); };
    if (!X.session.token()) return done();
    X.request("DELETE", "/candidate/session", undefined, { timeout: 4000 }).then(done, done);
  };
})();
