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
