// The study tools, all in the reader's browser (nothing leaves the machine):
// - the learner's state per question (known / review / unseen) in localStorage["genprep.state.v1"],
//   set with the buttons on each question page, counted by every progress bar (topic pages, home, study plan);
// - the list of all questions with filters kept in the URL; the quiz (a random question from the same filters,
//   opened in quiz mode: reveal, mark, next, with keyboard shortcuts);
// - follow-ups revealed one at a time (all open in reading mode);
// - export and import of the state as a JSON file.
// The pages carry only question ids (data-question, data-questions); genprep/site/study.py writes them.
(function () {
  "use strict";
  var KEY = "genprep.state.v1";
  var VERSION = 1;
  var FORMAT = "genprep-progress";
  var MARKS = ["known", "review"];
  var FILTERS = ["topic", "type", "difficulty", "tag", "state", "q"];
  var NAMES = {
    known: ["会了", "known"], review: ["再复习", "review"], unseen: ["未看", "unseen"],
    concept: ["概念", "concept"], formula: ["公式", "formula"], coding: ["编程", "coding"],
    easy: ["简单", "easy"], medium: ["中等", "medium"], hard: ["困难", "hard"],
  };

  function esc(s) {
    return String(s).replace(/[&<>"']/g, function (c) {
      return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
    });
  }
  // A label in both languages, as the English mode (lang.js) writes them: "zh · en" in Chinese mode, "en" in English.
  function bi(zh, en) {
    return '<span class="gp-bi"><span class="gp-zh" lang="zh">' + esc(zh) + " · " + esc(en) +
      '</span><span class="gp-en" lang="en">' + esc(en) + "</span></span>";
  }
  function name(key) { var n = NAMES[key] || [key, key]; return bi(n[0], n[1]); }
  // An <option> holds text only: "zh / en", or "en" in English mode (set here, not by lang.js, which rewrites
  // "zh · en" text into spans that an <option> cannot show).
  function english() { return document.documentElement.classList.contains("gp-lang-en"); }
  function optionText(zh, en) { return !zh || zh === en ? en : english() ? en : zh + " / " + en; }
  function relabel() {
    document.querySelectorAll("select.gp-study-select option").forEach(function (o) {
      o.textContent = optionText(o.dataset.zh, o.dataset.en);
    });
  }
  document.addEventListener("genprep:lang", relabel);
  function make(tag, cls, html) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (html !== undefined) e.innerHTML = html;
    return e;
  }
  function siteRoot() {  // the site's root, from the theme's configuration (relative, so any host works)
    var config = document.getElementById("__config");
    var base = ".";
    try { base = JSON.parse(config.textContent).base || "."; } catch (e) { /* keep "." */ }
    return new URL(base.replace(/\/?$/, "/"), window.location.href);
  }

  // ---- the learner's state ------------------------------------------------------------------------------
  function load() {
    try {
      var s = JSON.parse(localStorage.getItem(KEY));
      if (s && s.version === VERSION && s.questions && typeof s.questions === "object") return s;
    } catch (e) { /* unreadable: start again */ }
    return {version: VERSION, questions: {}};
  }
  function save(s) { localStorage.setItem(KEY, JSON.stringify(s)); }
  function stateOf(id, s) {
    var entry = (s || load()).questions[id];
    return entry && MARKS.indexOf(entry.state) >= 0 ? entry.state : "unseen";
  }
  function setState(id, state) {
    var s = load();
    if (state === "unseen") delete s.questions[id];
    else s.questions[id] = {state: state, at: new Date().toISOString()};
    save(s);
    refresh();
  }

  // The buttons on a question page.
  function stateBars() {
    document.querySelectorAll(".gp-state[data-question]").forEach(function (bar) {
      var id = bar.dataset.question;
      if (!bar.dataset.ready) {
        bar.dataset.ready = "1";
        bar.innerHTML = '<span class="gp-state-label">' + bi("你的进度", "Your progress") + "</span> ";
        [["known", "✓"], ["review", "↻"], ["unseen", "○"]].forEach(function (pair) {
          var b = make("button", "md-button gp-state-button", pair[1] + " " + name(pair[0]));
          b.type = "button";
          b.dataset.state = pair[0];
          b.addEventListener("click", function () { setState(id, pair[0]); });
          bar.appendChild(b);
        });
      }
      var current = stateOf(id);
      bar.dataset.current = current;
      bar.querySelectorAll(".gp-state-button").forEach(function (b) {
        var on = b.dataset.state === current;
        b.setAttribute("aria-pressed", on ? "true" : "false");
        b.classList.toggle("md-button--primary", on);
      });
    });
  }

  // Progress bars: known / review / unseen among the questions listed in data-questions.
  function progressBars() {
    var s = load();
    document.querySelectorAll(".gp-progress[data-questions]").forEach(function (box) {
      var ids = box.dataset.questions.split(/\s+/).filter(Boolean);
      var n = {known: 0, review: 0, unseen: 0};
      ids.forEach(function (id) { n[stateOf(id, s)] += 1; });
      box.dataset.known = n.known;
      box.dataset.review = n.review;
      box.dataset.unseen = n.unseen;
      var total = ids.length || 1;
      var bar = '<span class="gp-bar" role="img" aria-label="' + esc(n.known + " known, " + n.review + " review, " +
        n.unseen + " unseen") + '"><span class="gp-bar-known"></span><span class="gp-bar-review"></span></span>';
      box.innerHTML = bar + '<span class="gp-progress-text">' +
        ["known", "review", "unseen"].map(function (k) {
          return '<span class="gp-count-' + k + '"><b>' + n[k] + "</b> " + name(k) + "</span>";
        }).join("; ") + " (" + bi("共 " + ids.length + " 道", "of " + ids.length) + ")</span>";
      box.querySelector(".gp-bar-known").style.width = (100 * n.known / total) + "%";
      box.querySelector(".gp-bar-review").style.width = (100 * n.review / total) + "%";
    });
  }

  // A question's state next to its link (study plan, list of all questions).
  function badges() {
    var s = load();
    document.querySelectorAll(".gp-qstate[data-question]").forEach(function (b) {
      var state = stateOf(b.dataset.question, s);
      if (b.dataset.state === state) return;
      b.dataset.state = state;
      b.className = "gp-qstate gp-qstate-" + state;
      b.innerHTML = {known: "✓ ", review: "↻ ", unseen: "○ "}[state] + name(state);
    });
  }

  // ---- filters (list of all questions, quiz) ------------------------------------------------------------
  function readFilters() {
    var params = new URLSearchParams(window.location.search);
    var f = {};
    FILTERS.forEach(function (k) { if (params.get(k)) f[k] = params.get(k); });
    return f;
  }
  function filterQuery(f) {
    var q = new URLSearchParams();
    FILTERS.forEach(function (k) { if (f[k]) q.set(k, f[k]); });
    return q.toString();
  }
  function matches(item, f, s) {
    if (f.topic && item.topic !== f.topic) return false;
    if (f.type && item.type !== f.type) return false;
    if (f.difficulty && item.difficulty !== f.difficulty) return false;
    if (f.tag && item.tags.indexOf(f.tag) < 0) return false;
    if (f.state && stateOf(item.id, s) !== f.state) return false;
    if (f.q) {
      var words = f.q.toLowerCase().split(/\s+/).filter(Boolean);
      if (!words.every(function (w) { return item.text.indexOf(w) >= 0; })) return false;
    }
    return true;
  }
  // Selects and a text box in `box`, set from `current`; `changed(filters)` runs on every change.
  function filterControls(box, topics, items, current, changed) {
    var tags = {};
    items.forEach(function (it) { it.tags.forEach(function (t) { tags[t] = 1; }); });
    var specs = [
      ["topic", bi("主题", "topic"), topics.map(function (t) { return [t.id, t.zh, t.en]; })],
      ["type", bi("类型", "type"), ["concept", "formula", "coding"].map(named)],
      ["difficulty", bi("难度", "difficulty"), ["easy", "medium", "hard"].map(named)],
      ["tag", bi("标签", "tag"), Object.keys(tags).sort().map(function (t) { return [t, "", t]; })],
      ["state", bi("进度", "state"), ["unseen", "review", "known"].map(named)],
    ];
    function named(k) { return [k, NAMES[k][0], NAMES[k][1]]; }
    var controls = {};
    specs.forEach(function (spec) {
      var label = make("label", "gp-filter", spec[1] + " ");
      var select = document.createElement("select");
      select.name = spec[0];
      select.className = "gp-study-select";
      [["", "全部", "all"]].concat(spec[2]).forEach(function (o) {
        var option = document.createElement("option");
        option.value = o[0];
        option.dataset.zh = o[1];
        option.dataset.en = o[2];
        option.textContent = optionText(o[1], o[2]);
        select.appendChild(option);
      });
      if (current[spec[0]] && spec[2].some(function (o) { return o[0] === current[spec[0]]; })) select.value = current[spec[0]];
      select.addEventListener("change", fire);
      label.appendChild(select);
      box.appendChild(label);
      controls[spec[0]] = select;
    });
    var label = make("label", "gp-filter", bi("搜索标题", "title contains") + " ");
    var input = document.createElement("input");
    input.type = "search";
    input.name = "q";
    input.value = current.q || "";
    input.addEventListener("input", fire);
    label.appendChild(input);
    box.appendChild(label);
    controls.q = input;
    function values() {
      var f = {};
      FILTERS.forEach(function (k) { if (controls[k].value.trim()) f[k] = controls[k].value.trim(); });
      return f;
    }
    function fire() { changed(values()); }
    return values;
  }
  function keepInUrl(f, extra) {
    var q = filterQuery(f);
    if (extra) q = q ? extra + "&" + q : extra;
    history.replaceState(history.state, "", window.location.pathname + (q ? "?" + q : "") + window.location.hash);
  }
  function topicNames() {
    return Array.prototype.map.call(document.querySelectorAll(".gp-topic-names [data-topic]"), function (e) {
      return {id: e.dataset.topic, zh: e.dataset.zh, en: e.dataset.en};
    });
  }

  // The list of all questions.
  var listApply = null;
  function questionList() {
    var box = document.querySelector(".gp-list-filters");
    if (!box || box.dataset.ready) return;
    box.dataset.ready = "1";
    var items = Array.prototype.map.call(document.querySelectorAll(".gp-all-questions tbody tr"), function (row) {
      var d = row.querySelector(".gp-row").dataset;
      return {id: d.id, topic: d.topic, type: d.type, difficulty: d.difficulty, row: row,
              tags: (d.tags || "").split(/\s+/).filter(Boolean), text: (d.id + " " + row.cells[0].textContent).toLowerCase()};
    });
    var count = document.querySelector(".gp-list-count");
    var quiz = make("a", "md-button gp-quiz-link", bi("用这些题做测验", "Quiz on these") + " →");
    var values = filterControls(box, topicNames(), items, readFilters(), function (f) { keepInUrl(f); apply(); });
    function apply() {
      var f = values();
      var s = load();
      var shown = 0;
      items.forEach(function (it) {
        var on = matches(it, f, s);
        it.row.hidden = !on;
        if (on) shown += 1;
      });
      count.dataset.shown = shown;
      count.dataset.total = items.length;
      count.innerHTML = bi("显示 " + shown + " / " + items.length + " 道题", "showing " + shown + " of " + items.length + " questions") + " ";
      var q = filterQuery(f);
      quiz.href = new URL("quiz/" + (q ? "?" + q : ""), siteRoot()).href;
      count.appendChild(quiz);
    }
    listApply = apply;
    apply();
  }

  // ---- the quiz ------------------------------------------------------------------------------------------
  var bankData = null;
  function loadBank() {
    if (!bankData) {
      bankData = fetch(new URL("assets/questions.json", siteRoot()).href).then(function (r) {
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }).then(function (data) {
        data.questions.forEach(function (q) { q.text = (q.id + " " + q.title.zh + " " + q.title.en).toLowerCase(); });
        return data;
      });
    }
    return bankData;
  }
  function pick(data, f, except) {
    var s = load();
    var pool = data.questions.filter(function (q) { return matches(q, f, s); });
    var others = pool.filter(function (q) { return q.id !== except; });
    var from = others.length ? others : pool;
    return {pool: pool, next: from.length ? from[Math.floor(Math.random() * from.length)] : null};
  }
  function quizUrl(q, f) {
    var query = filterQuery(f);
    return new URL(q.url + "?quiz=1" + (query ? "&" + query : ""), siteRoot()).href;
  }
  function noData(where, err) {
    where.innerHTML = bi("无法读取题目列表（assets/questions.json）：" + err.message + "。请通过 mkdocs serve 或任何静态网页服务器打开本站，不要直接打开文件。",
      "Could not read the question list (assets/questions.json): " + err.message +
      ". Open the site through `mkdocs serve` or any static web server, not as a local file.");
    where.classList.add("gp-error");
  }

  // The quiz page: choose filters, start.
  function quizStart() {
    var box = document.querySelector(".gp-quiz-start");
    if (!box || box.dataset.ready) return;
    box.dataset.ready = "1";
    var filters = make("div", "gp-list-filters");
    var info = make("p", "gp-quiz-count");
    var start = make("button", "md-button md-button--primary gp-quiz-go", bi("开始测验", "Start the quiz") + " →");
    start.type = "button";
    start.disabled = true;
    box.appendChild(filters);
    box.appendChild(info);
    box.appendChild(start);
    loadBank().then(function (data) {
      var topics = data.topics.map(function (t) { return {id: t.id, zh: t.title.zh, en: t.title.en}; });
      var values = filterControls(filters, topics, data.questions, readFilters(), function (f) { keepInUrl(f); count(); });
      function count() {
        var n = pick(data, values()).pool.length;
        info.dataset.pool = n;
        info.innerHTML = n ? bi("符合条件的题目：" + n + " 道", n + " questions match") :
          bi("没有符合条件的题目，请放宽筛选条件。", "No question matches; loosen the filters.");
        start.disabled = !n;
      }
      function go() {
        var next = pick(data, values()).next;
        if (next) window.location.href = quizUrl(next, values());
      }
      start.addEventListener("click", go);
      document.addEventListener("keydown", function (e) {
        if (typeable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
        if (e.key === "Enter" || e.key === " " || e.key === "n" || e.key === "N" || e.key === "ArrowRight") {
          e.preventDefault();
          go();
        }
      });
      count();
    }, function (err) { noData(info, err); });
  }

  function typeable(t) {
    return t && (/^(INPUT|SELECT|TEXTAREA)$/.test(t.tagName) || t.isContentEditable);
  }
  var SHORTCUTS = [["Space / Enter", "显示答案", "show the answer"], ["K", "会了", "known"], ["R", "再复习", "review"],
                   ["N / →", "下一题", "next question"], ["?", "快捷键", "shortcuts"]];

  // A question page opened from the quiz (?quiz=1&filters): a bar with mark and next, and the shortcuts.
  function quizMode() {
    var params = new URLSearchParams(window.location.search);
    var state = document.querySelector(".gp-state[data-question]");
    if (params.get("quiz") !== "1" || !state || state.dataset.quiz) return;
    state.dataset.quiz = "1";
    var id = state.dataset.question;
    var f = readFilters();
    var bar = make("div", "gp-quiz-bar");
    bar.innerHTML = '<strong class="gp-quiz-title">' + bi("测验", "Quiz") + "</strong> ";
    var pool = make("span", "gp-quiz-pool");
    bar.appendChild(pool);
    var next = make("button", "md-button md-button--primary gp-quiz-next", bi("下一题", "Next") + " <kbd>N</kbd>");
    next.type = "button";
    bar.appendChild(next);
    var help = make("button", "md-button gp-quiz-help-button", "<kbd>?</kbd>");
    help.type = "button";
    help.title = "快捷键 · Keyboard shortcuts";
    bar.appendChild(help);
    var leave = make("a", "gp-quiz-leave", bi("选择题目", "Change the filter"));
    leave.href = new URL("quiz/" + (filterQuery(f) ? "?" + filterQuery(f) : ""), siteRoot()).href;
    bar.appendChild(leave);
    var keys = make("div", "gp-quiz-keys", SHORTCUTS.map(function (k) {
      return "<kbd>" + esc(k[0]) + "</kbd> " + bi(k[1], k[2]);
    }).join(" · "));
    bar.appendChild(keys);
    state.parentNode.insertBefore(bar, state);
    state.querySelectorAll(".gp-state-button").forEach(function (b) {  // the mark buttons show their keys
      var key = {known: "K", review: "R"}[b.dataset.state];
      if (key) b.insertAdjacentHTML("beforeend", " <kbd>" + key + "</kbd>");
    });

    function goNext() {
      loadBank().then(function (data) {
        var p = pick(data, f, id);
        if (p.next && p.next.id !== id) window.location.href = quizUrl(p.next, f);
        else pool.innerHTML = bi("筛选条件下没有别的题目了。", "No other question matches the filter.");
      }, function (err) { noData(pool, err); });
    }
    function reveal() {
      var b = Array.prototype.filter.call(document.querySelectorAll(".gp-reveal-button"), function (x) { return !x.hidden; })[0];
      if (b) b.click();
    }
    next.addEventListener("click", goNext);
    help.addEventListener("click", function () { keys.hidden = !keys.hidden; });
    loadBank().then(function (data) {
      var n = pick(data, f).pool.length;
      pool.dataset.pool = n;
      pool.innerHTML = bi("本组 " + n + " 道题", n + " questions in this quiz") + " ";
    }, function (err) { noData(pool, err); });
    document.addEventListener("keydown", function (e) {
      if (typeable(e.target) || e.ctrlKey || e.metaKey || e.altKey) return;
      var onControl = e.target && /^(BUTTON|A|SUMMARY)$/.test(e.target.tagName);
      if ((e.key === " " || e.key === "Enter") && !onControl) { e.preventDefault(); reveal(); }
      else if (e.key === "k" || e.key === "K") setState(id, "known");
      else if (e.key === "r" || e.key === "R") setState(id, "review");
      else if (e.key === "n" || e.key === "N" || e.key === "ArrowRight") { e.preventDefault(); goNext(); }
      else if (e.key === "?") keys.hidden = !keys.hidden;
      else return;
      e.stopPropagation();  // the theme's own keys (n / p: next / previous page) do not apply in the quiz
    });
  }

  // ---- follow-ups: each answer folded; reading mode opens them all --------------------------------------
  function followUps() {
    var answers = document.querySelectorAll("details.gp-fu-answer");
    if (!answers.length) return;
    var box = document.querySelector(".gp-selftest-bar input");
    var quiz = new URLSearchParams(window.location.search).get("quiz") === "1";
    function open(on) { answers.forEach(function (d) { d.open = on; }); }
    if (box && !box.dataset.followups) {
      box.dataset.followups = "1";
      box.addEventListener("change", function () { open(box.checked); });
    }
    open(!quiz && localStorage.getItem("genprep.reading") === "1");
  }

  // ---- export / import ------------------------------------------------------------------------------------
  // Checks an imported file; returns {errors: [...]} or {questions: {...}}.
  function parseImport(text) {
    var data;
    try { data = JSON.parse(text); } catch (e) {
      return {errors: [["这个文件不是有效的 JSON（" + e.message + "）。", "The file is not valid JSON (" + e.message + ")."]]};
    }
    if (!data || typeof data !== "object" || Array.isArray(data) || data.format !== FORMAT) {
      return {errors: [["这不是 genprep 的进度文件：缺少 \"format\": \"" + FORMAT + "\"。",
                        "This is not a genprep progress file: \"format\": \"" + FORMAT + "\" is missing."]]};
    }
    if (data.version !== VERSION) {
      return {errors: [["不支持的版本 " + JSON.stringify(data.version) + "：本站只读取版本 " + VERSION + "。",
                        "Unsupported version " + JSON.stringify(data.version) + ": this site reads version " + VERSION + "."]]};
    }
    if (!data.questions || typeof data.questions !== "object" || Array.isArray(data.questions)) {
      return {errors: [["\"questions\" 必须是一个对象：{题目 id: {\"state\": \"known\" 或 \"review\"}}。",
                        "\"questions\" must be an object: {question id: {\"state\": \"known\" or \"review\"}}."]]};
    }
    var errors = [];
    var out = {};
    Object.keys(data.questions).forEach(function (id) {
      var entry = data.questions[id];
      if (!/^[a-z0-9][a-z0-9-]*$/.test(id)) {
        errors.push(["题目 id " + JSON.stringify(id) + " 不合法（只能有小写字母、数字和连字符）。",
                     "Question id " + JSON.stringify(id) + " is not valid (lower-case letters, digits and hyphens only)."]);
      } else if (!entry || typeof entry !== "object" || MARKS.indexOf(entry.state) < 0) {
        var got = entry && typeof entry === "object" ? JSON.stringify(entry.state) : JSON.stringify(entry);
        errors.push(["\"" + id + "\" 的 state 是 " + got + "，应为 \"known\" 或 \"review\"。",
                     "\"" + id + "\": state is " + got + "; expected \"known\" or \"review\"."]);
      } else {
        out[id] = {state: entry.state, at: typeof entry.at === "string" ? entry.at : new Date().toISOString()};
      }
    });
    return errors.length ? {errors: errors} : {questions: out};
  }
  function exportImport() {
    document.querySelectorAll(".gp-export").forEach(function (box) {
      if (box.dataset.ready) return;
      box.dataset.ready = "1";
      var save_ = make("button", "md-button gp-export-button", "⤓ " + bi("导出进度", "Export progress"));
      save_.type = "button";
      var pickFile = make("label", "md-button gp-import-button", "⤒ " + bi("导入进度", "Import progress"));
      var input = document.createElement("input");
      input.type = "file";
      input.accept = ".json,application/json";
      input.className = "gp-import-file";
      pickFile.appendChild(input);
      var message = make("div", "gp-export-message");
      message.setAttribute("role", "status");
      box.appendChild(save_);
      box.appendChild(pickFile);
      box.appendChild(message);
      save_.addEventListener("click", function () {
        var s = load();
        var file = {format: FORMAT, version: VERSION, exported: new Date().toISOString(), questions: s.questions};
        var blob = new Blob([JSON.stringify(file, null, 2) + "\n"], {type: "application/json"});
        var a = document.createElement("a");
        a.href = URL.createObjectURL(blob);
        a.download = "genprep-progress-" + new Date().toISOString().slice(0, 10) + ".json";
        document.body.appendChild(a);
        a.click();
        a.remove();
        setTimeout(function () { URL.revokeObjectURL(a.href); }, 1000);
      });
      input.addEventListener("change", function () {
        var file = input.files && input.files[0];
        if (!file) return;
        var reader = new FileReader();
        reader.onload = function () {
          var result = parseImport(String(reader.result));
          message.classList.toggle("gp-error", !!result.errors);
          if (result.errors) {
            var shown = result.errors.slice(0, 5);
            message.innerHTML = bi("没有导入 " + file.name + "：", "Nothing imported from " + file.name + ":") + "<ul>" +
              shown.map(function (e) { return "<li>" + bi(e[0], e[1]) + "</li>"; }).join("") + "</ul>" +
              (result.errors.length > shown.length ? bi("……还有 " + (result.errors.length - shown.length) + " 处错误。",
                "… and " + (result.errors.length - shown.length) + " more.") : "") +
              bi("请选择用“导出进度”保存的文件。", "Choose a file saved with “Export progress”.");
          } else {
            var s = load();
            var n = {known: 0, review: 0};
            Object.keys(result.questions).forEach(function (id) {
              s.questions[id] = result.questions[id];
              n[result.questions[id].state] += 1;
            });
            save(s);
            message.innerHTML = bi("已导入 " + file.name + "：会了 " + n.known + " 道，再复习 " + n.review + " 道（与已有进度合并）。",
              "Imported " + file.name + ": " + n.known + " known, " + n.review + " for review (merged with your progress).");
            refresh();
          }
          input.value = "";
        };
        reader.onerror = function () {
          message.classList.add("gp-error");
          message.innerHTML = bi("无法读取 " + file.name + "。", "Could not read " + file.name + ".");
        };
        reader.readAsText(file);
      });
    });
  }

  function refresh() {
    stateBars();
    progressBars();
    badges();
    if (listApply) listApply();
  }
  function setup() {
    refresh();
    questionList();
    quizStart();
    quizMode();
    followUps();
    exportImport();
  }
  window.addEventListener("storage", function (e) { if (e.key === KEY) refresh(); });  // another tab marked one
  if (typeof document$ !== "undefined") document$.subscribe(setup); else document.addEventListener("DOMContentLoaded", setup);
})();
