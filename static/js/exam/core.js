// Candidate exam pages: shared helpers (namespace, session storage, the JSON API client, formatting).
// Plain script, no framework, no build step; CSP allows only same-origin scripts, so nothing here
// is ever inline. The Bearer token lives in sessionStorage only: never a cookie, never a URL.
(function () {
  "use strict";
  var X = (window.ExamSys = window.ExamSys || {});
  var body = document.body;

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
    0: "无法连接服务器，请检查网络",
    400: "提交的内容有误",
    401: "登录已失效，请重新登录",
    403: "没有权限进行此操作",
    404: "没有找到该考试或试卷",
    409: "操作冲突，请刷新后重试",
    429: "操作过于频繁，请稍等片刻再试",
    500: "服务器出错，请稍后重试",
  };

  function ApiError(status, code, message, data) {
    this.name = "ApiError";
    this.status = status;
    this.code = code;
    this.message = message;
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
        throw new ApiError(resp.status, err.code || "http_" + resp.status,
          err.message || HTTP_MESSAGES[resp.status] || HTTP_MESSAGES[resp.status >= 500 ? 500 : 400], data);
      });
    }, function () {
      if (timer) window.clearTimeout(timer);
      throw new ApiError(0, "network", HTTP_MESSAGES[0], null);
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

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // 1:05:09 or 05:09 for a number of seconds (never negative).
  X.clockText = function (seconds) {
    var s = Math.max(0, Math.floor(seconds));
    var h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
    return (h > 0 ? h + ":" + pad(m) : pad(m)) + ":" + pad(r);
  };

  // An ISO time shown in Beijing time (the exam rooms' time zone), e.g. 11月24日 09:00.
  X.localTime = function (iso, withDate) {
    if (!iso) return "";
    var d = new Date(iso);
    if (isNaN(d.getTime())) return String(iso);
    var bj = new Date(d.getTime() + 8 * 3600 * 1000);
    var time = pad(bj.getUTCHours()) + ":" + pad(bj.getUTCMinutes());
    if (withDate === false) return time;
    return (bj.getUTCMonth() + 1) + "月" + bj.getUTCDate() + "日 " + time;
  };

  // End the session on the server too (best effort), then forget the token.
  X.logout = function () {
    var done = function () { X.session.clear(); window.location.replace(X.urls.login); };
    if (!X.session.token()) return done();
    X.request("DELETE", "/candidate/session", undefined, { timeout: 4000 }).then(done, done);
  };
})();
