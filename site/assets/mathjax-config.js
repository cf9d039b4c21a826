// MathJax 3, served from this site (no CDN). pymdownx.arithmatex (generic mode)
// wraps formulas in \( \) and \[ \] inside elements with class "arithmatex".
window.MathJax = {
  tex: {inlineMath: [["\\(", "\\)"]], displayMath: [["\\[", "\\]"]], processEscapes: true, processEnvironments: true},
  options: {ignoreHtmlClass: ".*|", processHtmlClass: "arithmatex", enableMenu: false},
  loader: {paths: {mathjax: new URL("mathjax", document.currentScript.src).href.replace(/\/$/, "")}},
  chtml: {fontURL: new URL("mathjax/output/chtml/fonts/woff-v2", document.currentScript.src).href},
};
// A printable topic page holds a whole topic (over a thousand formulas): typeset each formula when it
// scrolls into view (MathJax's lazy extension, which also typesets the rest before the page prints).
if (/\/print-[^/]+\/?$/.test(window.location.pathname)) window.MathJax.loader.load = ["ui/lazy"];
// Material's instant navigation swaps pages without reloading: typeset again.
if (typeof document$ !== "undefined") {
  document$.subscribe(() => { if (window.MathJax && MathJax.typesetPromise) MathJax.typesetPromise(); });
}
