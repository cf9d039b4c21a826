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
      function select(label, col, options) {
        var s = document.createElement("select");
        s.setAttribute("aria-label", label);
        s.dataset.col = col;
        s.innerHTML = '<option value="">' + label + "</option>" +
          options.map(function (o) { return '<option value="' + o + '">' + o + "</option>"; }).join("");
        s.addEventListener("change", apply);
        box.appendChild(s);
        return s;
      }
      var selects = [
        select("类型 · type", 1, ["concept", "formula", "coding"]),
        select("难度 · difficulty", 2, ["easy", "medium", "hard"]),
        select("标签 · tag", 3, values(3)),
      ];
      function apply() {
        rows.forEach(function (r) {
          var show = selects.every(function (s) {
            if (!s.value) return true;
            var words = r.cells[+s.dataset.col].textContent.split(/\s+/);
            return words.indexOf(s.value) >= 0;
          });
          r.style.display = show ? "" : "none";
        });
      }
    });
  }
  if (typeof document$ !== "undefined") document$.subscribe(setup); else document.addEventListener("DOMContentLoaded", setup);
})();
