// MathJax 3, served from this site (no CDN). pymdownx.arithmatex (generic mode)
// wraps formulas in \( \) and \[ \] inside elements with class "arithmatex".
window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex", enableMenu: false},
  loader: {paths: {mathjax: new URL("mathjax", document.currentScript.src).href.replace(/\/$/, "")}},
  chtml: {fontURL: new URL("mathjax/output/chtml/fonts/woff-v2", document.currentScript.src).href},
};
// A printable topic page holds a whole topic (thousands of formulas): typeset nothing at load, then each
// question when it comes near the screen, and everything still left just before the page prints.
var GP_PRINTABLE = /\/print-[^/]+\/?$/.test(window.location.pathname);
if (GP_PRINTABLE) {
  window.MathJax.startup = {
    typeset: false,
    ready: function () {
      MathJax.startup.defaultReady();
      MathJax.startup.promise.then(function () {
        var pending = Array.prototype.slice.call(document.querySelectorAll(".gp-print-question"));
        var chain = Promise.resolve();
        function typeset(nodes) { chain = chain.then(function () { return MathJax.typesetPromise(nodes); }); }
        typeset(Array.prototype.filter.call(document.querySelectorAll(".arithmatex"),
                                            function (el) { return !el.closest(".gp-print-question"); }));
        var seen = new IntersectionObserver(function (entries) {
          entries.forEach(function (e) {
            if (!e.isIntersecting) return;
            seen.unobserve(e.target);
            pending.splice(pending.indexOf(e.target), 1);
            typeset([e.target]);
          });
        }, {rootMargin: "1200px 0px"});
        pending.forEach(function (section) { seen.observe(section); });
        window.addEventListener("beforeprint", function () {
          if (pending.length) { seen.disconnect(); MathJax.typeset(pending); pending = []; }
        });
      });
    },
  };
}
// Material's instant navigation swaps pages without reloading: typeset again.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => { if (!GP_PRINTABLE && window.MathJax && MathJax.typesetPromise) MathJax.typesetPromise(); });
}
