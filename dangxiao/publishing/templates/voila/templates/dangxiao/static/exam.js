// dangxiao test page: draws the paper the server sends (its public view: no key, no explanations),
// saves every answer as it is given, counts down with the server's deadline and submits at zero.
//
// Answers not yet acknowledged wait in localStorage and are sent again (a network blip or a server
// restart loses nothing); the server's clock decides, so a late answer is refused there, not here.
(function () {
  "use strict";
  var root = document.getElementById("dx-exam");
  if (!root) { return; }
  var base = root.dataset.baseUrl;
  var id = root.dataset.assessment;
  var api = base + "dangxiao/api/exam/" + encodeURIComponent(id);
  var state = null;
  var clockOffset = 0;  // server time - browser time, in seconds
  var timer = null;
  var submitting = false;

  function xsrf() {
    var match = document.cookie.match(/(?:^|;\s*)_xsrf=([^;]*)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "className") { node.className = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function call(path, body) {
    var options = { credentials: "same-origin", headers: { "X-XSRFToken": xsrf() } };
    if (body !== undefined) {
      options.method = "POST";
      options.headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(body);
    }
    return fetch(api + path, options).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) { var error = new Error(data.message || response.statusText); error.status = response.status; throw error; }
        return data;
      });
    });
  }

  function pendingKey() { return "dangxiao-exam:" + id + ":" + (state && state.attempt_id); }
  function pending() { try { return JSON.parse(localStorage.getItem(pendingKey()) || "{}"); } catch (e) { return {}; } }
  function setPending(map) { try { localStorage.setItem(pendingKey(), JSON.stringify(map)); } catch (e) {} }

  function answered() {
    var answers = Object.assign({}, state.answers || {}, pending());
    return state.paper.items.filter(function (item) {
      var value = answers[item.id];
      return value !== null && value !== undefined && value !== "" && !(Array.isArray(value) && !value.length);
    }).length;
  }

  function showProgress() {
    var node = document.getElementById("dx-progress");
    if (node) { node.textContent = "已答 " + answered() + " / " + state.paper.count; }
  }

  function saveAnswer(itemId, value) {
    var map = pending();
    map[itemId] = value;
    setPending(map);
    showProgress();
    flush();
  }

  var flushing = false, backoff = 1000;
  function flush() {
    if (flushing || !state || state.status !== "in_progress") { return; }
    var map = pending();
    var itemId = Object.keys(map)[0];
    if (!itemId) { return; }
    flushing = true;
    var status = document.querySelector('[data-saved-for="' + itemId + '"]');
    call("/answer", { attempt_id: state.attempt_id, item_id: itemId, answer: map[itemId] }).then(function () {
      flushing = false; backoff = 1000;
      var now = pending();
      if (JSON.stringify(now[itemId]) === JSON.stringify(map[itemId])) { delete now[itemId]; setPending(now); }
      state.answers[itemId] = map[itemId];
      if (status) { status.textContent = "已保存"; }
      flush();
    }, function (error) {
      flushing = false;
      if (error.status === 409) {  // time up or already submitted: the server's word is final
        setPending({});
        load();
        return;
      }
      if (error.status === 400) {
        var now = pending(); delete now[itemId]; setPending(now);
        if (status) { status.textContent = "答案格式不对：" + error.message; }
        return;
      }
      if (status) { status.textContent = "未能保存，正在重试……"; }
      setTimeout(flush, backoff);
      backoff = Math.min(backoff * 2, 30000);
    });
  }

  function choiceInput(item, value, multiple) {
    var box = el("div", { role: multiple ? "group" : "radiogroup", "aria-label": "第 " + item.position + " 题选项" });
    item.options.forEach(function (option, index) {
      var label = el("label", { className: "dx-choice" });
      var input = el("input", { type: multiple ? "checkbox" : "radio", name: "item-" + item.id, value: option });
      if (multiple ? (value || []).indexOf(option) >= 0 : value === option) { input.checked = true; }
      input.addEventListener("change", function () {
        if (multiple) {
          var chosen = Array.prototype.filter.call(box.querySelectorAll("input"), function (i) { return i.checked; })
            .map(function (i) { return i.value; });
          saveAnswer(item.id, chosen);
        } else {
          saveAnswer(item.id, option);
        }
      });
      label.appendChild(input);
      label.appendChild(el("span", {}, String.fromCharCode(65 + index) + ". " + option));
      box.appendChild(label);
    });
    return box;
  }

  function textInput(item, value, area) {
    var input = el(area ? "textarea" : "input", area ? { rows: "5" } : { type: "text" });
    input.value = value === null || value === undefined ? "" : value;
    var wait = null;
    input.addEventListener("input", function () {
      clearTimeout(wait);
      wait = setTimeout(function () { saveAnswer(item.id, input.value); }, 600);
    });
    return input;
  }

  function selectsInput(item, value, labels, choices, toAnswer) {
    var box = el("div");
    var selects = labels.map(function (label, index) {
      var row = el("label", { className: "dx-choice" });
      row.appendChild(el("span", {}, label));
      var select = el("select", { "aria-label": label });
      select.appendChild(el("option", { value: "" }, "请选择"));
      choices.forEach(function (choice) { select.appendChild(el("option", { value: choice }, choice)); });
      select.value = toAnswer.current(value, index) || "";
      select.addEventListener("change", function () { saveAnswer(item.id, toAnswer.read(selects)); });
      row.appendChild(select);
      box.appendChild(row);
      return select;
    });
    return box;
  }

  function itemInput(item, value) {
    if (item.type === "single" || item.type === "truefalse") {
      if (item.type === "truefalse" && typeof value === "boolean") { value = value ? item.options[0] : item.options[1]; }
      return choiceInput(item, value, false);
    }
    if (item.type === "multiple") { return choiceInput(item, value, true); }
    if (item.type === "essay") { return textInput(item, value, true); }
    if (item.type === "matching") {
      return selectsInput(item, value, item.left, item.options, {
        current: function (v, i) { return v && v[item.left[i]]; },
        read: function (selects) {
          var map = {};
          selects.forEach(function (s, i) { if (s.value) { map[item.left[i]] = s.value; } });
          return map;
        }
      });
    }
    if (item.type === "ordering") {
      var steps = item.options.map(function (_, i) { return "第 " + (i + 1) + " 步"; });
      return selectsInput(item, value, steps, item.options, {
        current: function (v, i) { return v && v[i]; },
        read: function (selects) { return selects.map(function (s) { return s.value; }); }
      });
    }
    return textInput(item, value, false);  // fill, numeric
  }

  function renderPaper() {
    root.textContent = "";
    var bar = el("div", { className: "dx-exam-bar" });
    bar.appendChild(el("span", { id: "dx-progress" }));
    bar.appendChild(el("span", { id: "dx-countdown", className: "dx-countdown", role: "timer" }));
    var submit = el("button", { type: "button", id: "dx-submit", className: "dx-button dx-primary" }, "交卷");
    submit.addEventListener("click", confirmSubmit);
    bar.appendChild(submit);
    root.appendChild(bar);
    var answers = Object.assign({}, state.answers || {}, pending());
    state.paper.items.forEach(function (item) {
      var card = el("article", { className: "dx-item", "data-item-id": item.id, "data-type": item.type });
      card.appendChild(el("h3", {}, "第 " + item.position + " 题 · " + item.type_label + " · " + item.points + " 分"));
      card.appendChild(el("p", { className: "dx-stem" }, item.stem));
      card.appendChild(itemInput(item, answers[item.id]));
      card.appendChild(el("div", { className: "dx-saved", "data-saved-for": item.id }));
      root.appendChild(card);
    });
    var end = el("button", { type: "button", className: "dx-button dx-primary" }, "交卷");
    end.addEventListener("click", confirmSubmit);
    root.appendChild(end);
    showProgress();
    tick();
    clearInterval(timer);
    timer = setInterval(tick, 1000);
    flush();
  }

  function tick() {
    var node = document.getElementById("dx-countdown");
    if (!node || !state || state.status !== "in_progress") { return; }
    if (!state.deadline) { node.textContent = "不限时"; return; }
    var left = Math.max(0, Math.round(state.deadline - (Date.now() / 1000 + clockOffset)));
    node.textContent = "剩余 " + Math.floor(left / 60) + " 分 " + ("0" + (left % 60)).slice(-2) + " 秒";
    node.classList.toggle("dx-low", left <= 300);
    if (left <= 0) { submit("timeout"); }
  }

  function confirmSubmit() {
    var dialog = document.getElementById("dx-exam-confirm");
    var missing = state.paper.count - answered();
    document.getElementById("dx-confirm-text").textContent =
      (missing ? "还有 " + missing + " 题未作答。" : "全部题目都已作答。") + "交卷后不能再修改。";
    dialog.hidden = false;
    document.getElementById("dx-confirm-yes").onclick = function () { dialog.hidden = true; submit("trainee"); };
    document.getElementById("dx-confirm-no").onclick = function () { dialog.hidden = true; };
  }

  function submit(why) {
    if (submitting) { return; }
    submitting = true;
    clearInterval(timer);
    var attempt = state.attempt_id;
    var send = function () {
      if (Object.keys(pending()).length && why !== "timeout") { setTimeout(send, 300); flush(); return; }
      call("/submit", { attempt_id: attempt }).then(function (data) {
        submitting = false; setPending({}); show(data);
      }, function (error) {
        submitting = false;
        if (error.status >= 500 || !error.status) { setTimeout(function () { submit(why); }, 2000); } else { load(); }
      });
    };
    send();
  }

  function renderStart() {
    root.textContent = "";
    var facts = el("ul");
    facts.appendChild(el("li", {}, state.time_limit_minutes ? "限时 " + state.time_limit_minutes + " 分钟，到时自动交卷" : "不限时"));
    facts.appendChild(el("li", {}, "及格线 " + state.pass_mark + " 分（百分制）"));
    facts.appendChild(el("li", {}, state.mode === "practice" ? "练习：不计成绩，可反复做" :
      "可作答 " + state.attempts_allowed + " 次，已用 " + state.attempts_used + " 次"));
    facts.appendChild(el("li", {}, "每位学员的试卷不同；答案随答随存，刷新页面不会丢失。"));
    root.appendChild(facts);
    if (state.can_start) {
      var start = el("button", { type: "button", id: "dx-start", className: "dx-button dx-primary" },
        state.attempts_used ? "再做一次" : "开始答题");
      start.addEventListener("click", function () {
        start.disabled = true;
        call("/start", {}).then(show, function (error) { root.appendChild(el("p", { className: "dx-message" }, error.message)); });
      });
      root.appendChild(start);
    } else {
      root.appendChild(el("p", { className: "dx-message", id: "dx-refusal" }, state.refusal));
    }
  }

  function renderResult() {
    var box = el("section", { id: "dx-result" });
    box.appendChild(el("h2", {}, state.submitted_by === "timeout" ? "时间到，已自动交卷" : "已交卷"));
    var result = state.result;
    if (!result) {
      box.appendChild(el("p", {}, "成绩由教员统一发布，请留意通知。"));
    } else {
      var verdict = result.passed === null ? "（简答题待教员评分）" : (result.passed ? "合格" : "不合格");
      box.appendChild(el("p", { id: "dx-score" }, "得分 " + result.total + " / " + result.max_points +
        "（" + result.percent + "%）· " + verdict));
      result.items.forEach(function (item) {
        var card = el("article", { className: "dx-item", "data-item-id": item.id });
        card.appendChild(el("h3", { className: item.correct ? "dx-right" : "dx-wrong" },
          "第 " + item.position + " 题 " + (item.correct === null ? "待评分" : (item.correct ? "✓ 正确" : "✗ 错误"))));
        card.appendChild(el("p", {}, item.stem));
        card.appendChild(el("p", {}, "你的答案：" + format(item.your_answer) + "；正确答案：" + format(item.answer)));
        if (item.explanation) { card.appendChild(el("p", {}, "解析：" + item.explanation)); }
        box.appendChild(card);
      });
    }
    root.textContent = "";
    root.appendChild(box);
    if (state.can_start) { renderStartButtonAfterResult(); }
  }

  function renderStartButtonAfterResult() {
    var again = el("button", { type: "button", id: "dx-start", className: "dx-button" }, "再做一次");
    again.addEventListener("click", function () { call("/start", {}).then(show); });
    root.appendChild(again);
  }

  function format(value) {
    if (value === null || value === undefined || value === "") { return "（未答）"; }
    if (value === true) { return "正确"; }
    if (value === false) { return "错误"; }
    if (Array.isArray(value)) { return value.join("、"); }
    if (typeof value === "object") { return Object.keys(value).map(function (k) { return k + " → " + value[k]; }).join("；"); }
    return String(value);
  }

  function show(data) {
    state = data;
    clockOffset = data.now - Date.now() / 1000;
    if (data.status === "in_progress") { renderPaper(); }
    else if (data.status === "submitted") { renderResult(); }
    else { renderStart(); }
  }

  function load() {
    call("").then(show, function (error) {
      root.textContent = "";
      root.appendChild(el("p", { className: "dx-message" }, "试卷载入失败：" + error.message + "。请刷新页面。"));
    });
  }

  window.addEventListener("online", flush);
  load();
})();
