// dangxiao lesson pages: the account bar, and what the page tells the learning record.
//
// Only what a browser can know is sent from here: how long the page was in front of the trainee and in
// use (heartbeats), and that the end of the lesson was reached. Answers, notes and scenario choices are
// sent by the lesson's kernel, which judges them with the key the browser never holds.
//
// Nothing is lost to a reload or a network blip: events wait in localStorage until the server says it
// kept them, and each carries an id, so a repeat is ignored.
(function () {
  "use strict";
  var HEARTBEAT_MS = 30000;  // dangxiao.events.HEARTBEAT_SECONDS
  var TICK_MS = 5000;
  var IDLE_MS = 120000;  // no input for two minutes: the trainee has stepped away
  var MAX_QUEUE = 500;

  var config = {};
  try { config = JSON.parse(document.getElementById("jupyter-config-data").textContent); } catch (e) {}
  var base = config.baseUrl || "/";
  var lesson = location.pathname;

  function xsrf() {
    var match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function eventId() {
    var bytes = new Uint8Array(16);
    (window.crypto || window.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function link(href, text, cls) {
    var a = document.createElement("a");
    a.href = href;  // absolute paths from /dangxiao/api/me
    a.textContent = text;
    if (cls) { a.className = cls; }
    return a;
  }

  function showBar(me) {
    var bar = document.getElementById("dx-account");
    if (!bar) { return; }
    if (!me.recording) {
      var note = document.createElement("span");
      note.className = "dx-not-recording";
      note.textContent = "本站未启用学习记录：不需登录，学习情况不会被保存。";
      bar.appendChild(note);
    } else if (me.user) {
      var who = document.createElement("span");
      who.className = "dx-who";
      who.textContent = me.user.name + "（" + me.user.id + "）";
      bar.appendChild(who);
      var links = me.links || {};
      bar.appendChild(link(links.gallery, "课程目录"));
      bar.appendChild(link(links.me, "我的学习"));
      if (links["class"]) { bar.appendChild(link(links["class"], "班级学习情况")); }
      bar.appendChild(link(links.logout, "退出登录", "dx-logout"));
    }
    bar.hidden = false;
  }

  function Recorder(userId) {
    this.key = "dangxiao-events:" + userId;
    this.backoff = 2000;
    this.sending = false;
    this.stopped = false;
    this.pending = 0;  // active milliseconds not yet in a heartbeat
    this.lastInput = Date.now();
    this.ended = false;
  }

  Recorder.prototype.queue = function () {
    try { return JSON.parse(localStorage.getItem(this.key) || "[]"); } catch (e) { return []; }
  };

  Recorder.prototype.save = function (items) {
    try { localStorage.setItem(this.key, JSON.stringify(items.slice(-MAX_QUEUE))); } catch (e) {}
  };

  Recorder.prototype.push = function (event) {
    event.id = eventId();
    event.at = Date.now() / 1000;
    var items = this.queue();
    items.push({ lesson: lesson, event: event });
    this.save(items);
    this.send(false);
  };

  Recorder.prototype.beat = function () {
    if (this.pending >= 1000) {
      this.push({ kind: "heartbeat", active_seconds: Math.round(this.pending / 100) / 10 });
      this.pending = 0;
    }
  };

  Recorder.prototype.send = function (leaving) {
    var self = this;
    if (self.sending || self.stopped) { return; }
    var items = self.queue();
    if (!items.length) { return; }
    var first = items[0].lesson;
    var batch = items.filter(function (item) { return item.lesson === first; }).slice(0, 100);
    var ids = batch.map(function (item) { return item.event.id; });
    self.sending = true;
    fetch(base + "dangxiao/api/events", {
      method: "POST",
      credentials: "same-origin",
      keepalive: !!leaving,
      headers: { "Content-Type": "application/json", "X-XSRFToken": xsrf() },
      body: JSON.stringify({ lesson: first, events: batch.map(function (item) { return item.event; }) })
    }).then(function (response) {
      self.sending = false;
      if (response.ok || (response.status >= 400 && response.status < 500 &&
                          [401, 403, 408, 409, 429].indexOf(response.status) < 0)) {
        if (!response.ok) { console.warn("dangxiao: events refused", response.status); }
        // kept, or refused for good (malformed): either way they leave the queue
        self.save(self.queue().filter(function (item) { return ids.indexOf(item.event.id) < 0; }));
        self.backoff = 2000;
        if (self.queue().length) { self.send(leaving); }
      } else if (response.status === 401 || response.status === 403) {
        self.stopped = true;  // signed out: the queue waits for the next sign-in
      } else {
        self.retry();
      }
    }, function () {
      self.sending = false;
      self.retry();
    });
  };

  Recorder.prototype.retry = function () {
    var self = this;
    setTimeout(function () { self.send(false); }, self.backoff);
    self.backoff = Math.min(self.backoff * 2, 60000);
  };

  Recorder.prototype.active = function () {
    return document.visibilityState === "visible" && Date.now() - this.lastInput < IDLE_MS;
  };

  Recorder.prototype.atEnd = function () {
    var cells = document.getElementById("rendered_cells");
    if (this.ended || !cells || cells.style.display === "none" || document.getElementById("loading")) { return false; }
    var bottom = cells.getBoundingClientRect().bottom;
    return bottom <= window.innerHeight + 40;
  };

  Recorder.prototype.start = function () {
    var self = this;
    var touch = function () { self.lastInput = Date.now(); };
    ["keydown", "pointerdown", "pointermove", "wheel", "scroll", "touchstart", "input"].forEach(function (name) {
      window.addEventListener(name, touch, { passive: true, capture: true });
    });
    setInterval(function () {
      if (self.active()) { self.pending += TICK_MS; }
      if (self.atEnd() && self.active()) {
        self.ended = true;
        self.push({ kind: "lesson_end" });
      }
    }, TICK_MS);
    setInterval(function () { self.beat(); }, HEARTBEAT_MS);
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { self.beat(); self.send(true); }
    });
    window.addEventListener("pagehide", function () { self.beat(); self.send(true); });
    self.send(false);  // whatever an earlier visit left unsent
  };

  // The XSRF header on a GET too: a JupyterHub user server (>= 4.1) accepts its cookie on a script's
  // request only with it.
  function showProgress(progress) {
    var node = document.getElementById("dx-module-progress");
    if (!node || !progress) { return; }
    node.textContent = "本模块已完成 " + progress.done + " / " + progress.count + " 课";
    node.hidden = false;
  }

  var place = config.dangxiaoLesson || {};
  fetch(base + "dangxiao/api/me" + (place.module_id ? "?module=" + encodeURIComponent(place.module_id) : ""), { credentials: "same-origin", headers: { "X-XSRFToken": xsrf() } })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (me) {
      if (!me) { return; }
      showBar(me);
      showProgress(me.module_progress);
      if (me.recording && me.user && lesson.indexOf("/voila/render/") >= 0) {
        window.dangxiaoRecorder = new Recorder(me.user.id);
        window.dangxiaoRecorder.start();
      }
    }, function () {});
})();
