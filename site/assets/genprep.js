// Filters for the topic index tables: by type, difficulty and tag, without a server.
(function () {
  function setup() {
    document.querySelectorAll(".gp-filters").forEach(function (box) {
      if (box.dataset.ready) return;
      box.dataset.ready = "1";
      var table = box.parentElement.querySelector(".gp-questions table");
      if (!table) return;
      var rows = Array.prototype.slice.call(table.tBodies[0].rows);
      function values(col) {
        var seen = {};
        rows.forEach(function (r) {
          r.cells[col].textContent.split(/\s+/).filter(Boolean).forEach(function (v) { if (v !== "·") seen[v] = 1; });
        });
        return Object.keys(seen).sort();
      }
      var params = new URLSearchParams(window.location.search);
      function select(label, key, col, options) {
        var s = document.createElement("select");
        s.setAttribute("aria-label", label);
        s.dataset.col = col;
        s.dataset.key = key;
        s.innerHTML = '<option value="">' + label + "</option>" +
          options.map(function (o) { return '<option value="' + o + '">' + o + "</option>"; }).join("");
        if (options.indexOf(params.get(key)) >= 0) s.value = params.get(key);  // a link like ?tag=attention
        s.addEventListener("change", apply);
        box.appendChild(s);
        return s;
      }
      var selects = [
        select("类型 · type", "type", 1, ["concept", "formula", "coding"]),
        select("难度 · difficulty", "difficulty", 2, ["easy", "medium", "hard"]),
        select("标签 · tag", "tag", 3, values(3)),
      ];
      function remember() {  // the filters live in the URL: a reload, a bookmark or a shared link keeps them
        var query = new URLSearchParams();
        selects.forEach(function (s) { if (s.value) query.set(s.dataset.key, s.value); });
        var q = query.toString();
        history.replaceState(history.state, "", window.location.pathname + (q ? "?" + q : "") + window.location.hash);
      }
      function apply(event) {
        if (event) remember();
        rows.forEach(function (r) {
          var show = selects.every(function (s) {
            if (!s.value) return true;
            var words = r.cells[+s.dataset.col].textContent.split(/\s+/);
            return words.indexOf(s.value) >= 0;
          });
          r.style.display = show ? "" : "none";
        });
      }
      apply();
    });
  }
  if (typeof document$ !== "undefined") document$.subscribe(setup); else document.addEventListener("DOMContentLoaded", setup);
})();

// Self-test on question pages: the answer, the pitfalls, the headline formula and the figures stay hidden
// until "show answer"; hints (folded) come first. Reading mode, remembered in this browser, shows everything.
// Printing always shows everything (genprep.css).
(function () {
  var READING = "genprep.reading";
  function text(zh, en) { return zh + " · " + en; }
  function setup() {
    if (!/\/q\/[^/]+\/?$/.test(window.location.pathname)) return;
    var article = document.querySelector("article");
    var heads = article ? article.querySelectorAll(".gp-answer-head") : [];
    if (!heads.length || article.dataset.selftest) return;
    article.dataset.selftest = "1";
    var hidden = [];
    heads.forEach(function (head) {
      for (var e = head; e; e = e.nextElementSibling) hidden.push(e);
    });
    article.querySelectorAll(".gp-formula, .gp-figure").forEach(function (e) { hidden.push(e); });
    var buttons = [];
    heads.forEach(function (head) {
      var b = document.createElement("button");
      b.type = "button";
      b.className = "md-button md-button--primary gp-reveal-button";
      b.textContent = text("显示答案", "Show answer");
      b.addEventListener("click", function () { conceal(false); });
      head.parentNode.insertBefore(b, head);
      buttons.push(b);
    });
    var bar = document.createElement("label");
    bar.className = "gp-selftest-bar";
    var box = document.createElement("input");
    box.type = "checkbox";
    // a question opened by the quiz (?quiz=1, study.js) is always a self-test
    box.checked = localStorage.getItem(READING) === "1" && !/[?&]quiz=1(&|$)/.test(window.location.search);
    bar.appendChild(box);
    bar.appendChild(document.createTextNode(" " + text("阅读模式：直接显示答案", "Reading mode: show answers at once")));
    var meta = article.querySelector(".gp-meta");
    (meta || heads[0]).insertAdjacentElement("afterend", bar);
    function conceal(on) {
      hidden.forEach(function (e) { e.classList.toggle("gp-concealed", on); });
      buttons.forEach(function (b) { b.hidden = !on; });
    }
    box.addEventListener("change", function () {
      localStorage.setItem(READING, box.checked ? "1" : "0");
      conceal(!box.checked);
    });
    conceal(!box.checked);
  }
  if (typeof document$ !== "undefined") document$.subscribe(setup); else document.addEventListener("DOMContentLoaded", setup);
})();

// Printing shows everything: folded hints and the reference solution open before the page is printed.
window.addEventListener("beforeprint", function () {
  document.querySelectorAll("article details").forEach(function (d) { d.open = true; });
});
