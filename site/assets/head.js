// Loaded in <head> (genprep/site/theme/main.html), before the page is drawn and before the theme's script.
//
// 1. The reader's language ("zh" or "en", remembered in this browser; Chinese unless chosen) goes on <html>
//    at once: a class that lang.css uses to show one language, and the `lang` attribute. The language tabs are
//    lined up with it the same way (the theme restores its linked tabs from local storage).
// 2. The search index (several MB for the whole bank) is not fetched when a page loads, only when search is
//    first used: the theme's request for it gets an empty index, and its search worker is replaced by one
//    (search-worker.js) that fetches the real index the first time the search box gets focus or a query.
(function () {
  var KEY = "genprep.lang";
  var lang = null;
  try { lang = localStorage.getItem(KEY); } catch (e) { /* storage disabled: the default */ }
  if (lang !== "en" && lang !== "zh") lang = "zh";
  var root = document.documentElement;
  root.classList.remove("gp-lang-zh", "gp-lang-en");
  root.classList.add("gp-lang-" + lang);
  root.setAttribute("lang", lang);
  window.genprepLang = lang;
  var TAB = {zh: "中文", en: "English"};
  try {  // put this language's tab first in the theme's list of linked tabs, so every page opens on it
    if (typeof __md_get === "function" && typeof __md_set === "function") {
      var tabs = __md_get("__tabs") || [];
      if (!Array.isArray(tabs)) tabs = [];
      __md_set("__tabs", [TAB[lang]].concat(tabs.filter(function (t) { return t !== TAB[lang]; })));
    }
  } catch (e) { /* storage disabled */ }

  // English strings for the theme's own search messages (Material's are Chinese on this site); main.html
  // calls this right after the theme's configuration is written and before the theme's script reads it.
  var SEARCH_EN = {
    "clipboard.copy": "Copy to clipboard", "clipboard.copied": "Copied to clipboard",
    "search.result.placeholder": "Type to start searching", "search.result.none": "No matching documents",
    "search.result.one": "1 matching document", "search.result.other": "# matching documents",
    "search.result.more.one": "1 more on this page", "search.result.more.other": "# more on this page",
    "search.result.term.missing": "Missing",
  };
  window.genprepConfig = function () {
    if (lang !== "en") return;
    var el = document.getElementById("__config");
    if (!el) return;
    try {
      var config = JSON.parse(el.textContent);
      for (var k in SEARCH_EN) if (config.translations && k in config.translations) config.translations[k] = SEARCH_EN[k];
      el.textContent = JSON.stringify(config);
    } catch (e) { /* leave the theme's strings */ }
  };

  // --- Search on demand ----------------------------------------------------------------------------------
  if (location.protocol === "file:" || typeof Worker === "undefined") return;  // the theme's own way
  var here = document.currentScript && document.currentScript.src;
  if (!here) return;
  var base = new URL("..", here);  // head.js lives in <site>/assets/
  var INDEX = new URL("search/search_index.json", base).href;
  var WORKER = new URL("assets/search-worker.js", base).href;
  var EMPTY = "data:application/json," + encodeURIComponent(JSON.stringify(
    {config: {lang: ["en"], separator: "[\\s\\-]+", pipeline: [], fields: {}}, docs: []}));
  var SETUP = 0, READY = 1, QUERY = 2, RESULT = 3;  // the theme's message types

  var open = XMLHttpRequest.prototype.open;
  XMLHttpRequest.prototype.open = function (method, url) {
    var args = Array.prototype.slice.call(arguments);
    try {
      if (new URL(String(url), location.href).href === INDEX) args[1] = EMPTY;
    } catch (e) { /* not a URL: leave it */ }
    return open.apply(this, args);
  };

  function LazySearch() {
    this.listeners = [];
    this.real = null;
  }
  LazySearch.prototype.addEventListener = function (type, fn) {
    if (type === "message") this.listeners.push(fn);
  };
  LazySearch.prototype.removeEventListener = function (type, fn) {
    this.listeners = this.listeners.filter(function (f) { return f !== fn; });
  };
  LazySearch.prototype.emit = function (data) {
    var event = new MessageEvent("message", {data: data});
    var self = this;
    this.listeners.slice().forEach(function (fn) { fn.call(self, event); });
    if (typeof this.onmessage === "function") this.onmessage(event);
  };
  LazySearch.prototype.start = function () {
    if (this.real) return;
    var self = this;
    this.real = new RealWorker(WORKER);
    this.real.addEventListener("message", function (e) { self.emit(e.data); });
    this.real.addEventListener("error", function () {
      self.emit({type: RESULT, data: {items: []}});
    });
    this.real.postMessage({type: "genprep.load", url: INDEX, lang: lang});
  };
  LazySearch.prototype.postMessage = function (message) {
    var self = this;
    if (message && message.type === SETUP) {  // the theme's copy of the index is empty: nothing to set up
      setTimeout(function () { self.emit({type: READY}); }, 0);
      return;
    }
    if (message && message.type === QUERY && !String(message.data || "").trim()) {
      setTimeout(function () { self.emit({type: RESULT, data: {items: []}}); }, 0);
      return;  // an empty box needs no index
    }
    this.start();
    this.real.postMessage(message);
  };
  LazySearch.prototype.terminate = function () { if (this.real) this.real.terminate(); };

  var RealWorker = window.Worker;
  var lazy = null;
  window.Worker = function (url, options) {
    if (/\/workers\/search\.[0-9a-f]+\.min\.js/.test(String(url))) {
      lazy = lazy || new LazySearch();
      window.genprepSearch = lazy;
      return lazy;
    }
    return new RealWorker(url, options);
  };
  window.Worker.prototype = RealWorker.prototype;
  // Fetch the index as soon as the reader heads for the search box, so results are there when typing starts.
  document.addEventListener("focusin", function (e) {
    if (lazy && e.target && e.target.classList && e.target.classList.contains("md-search__input")) lazy.start();
  });
  document.addEventListener("change", function (e) {
    if (lazy && e.target && e.target.getAttribute && e.target.getAttribute("data-md-toggle") === "search" && e.target.checked) lazy.start();
  });
})();
