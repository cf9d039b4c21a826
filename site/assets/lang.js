// The reader's language: Chinese (the default; bilingual labels such as "首页 · Home" stay as they are) or
// English (everything in English: headings, menus, tables, buttons, the theme's own words, `lang`
// attributes). head.js applies the remembered choice before the page is drawn; this script
//  - gives every "中文 · English" text on the page an English-only twin (lang.css shows one of the two),
//    also for text that other scripts add later, and translates attributes, <option>s and the tab title;
//  - keeps the choice and the 中文 / English content tabs in step (choosing a tab chooses the language);
//  - adds a switch to the header.
(function () {
  var KEY = "genprep.lang";
  var HAN = /[\u3400-\u9fff\uf900-\ufaff]/;
  var SEP = " · ";
  // The theme's own words (its interface language is Chinese on this site).
  var THEME = {
    "搜索": "Search", "查找": "Search", "目录": "Table of contents", "回到页面顶部": "Back to top",
    "上一页": "Previous", "下一页": "Next", "跳转至": "Skip to content", "页眉": "Header", "页脚": "Footer",
    "导航栏": "Navigation", "复制": "Copy to clipboard", "已复制": "Copied to clipboard", "分享": "Share",
    "清空当前内容": "Clear", "正在初始化搜索引擎": "Initializing search", "键入以开始搜索": "Type to start searching",
    "没有找到符合条件的结果": "No matching documents", "标签": "Tabs", "编辑此页": "Edit this page",
    "查看本页的源代码": "View source of this page", "前往仓库": "Go to repository", "选择当前语言": "Select language",
  };
  var SKIP = "script, style, code, pre, textarea, select, option, mjx-container, .arithmatex, .tabbed-labels, .gp-lang-switch, " +
    ".gp-zh, .gp-en, .md-search-result";

  function lang() { return document.documentElement.classList.contains("gp-lang-en") ? "en" : "zh"; }

  // "中文 · English" → "English": the parts without Chinese; null when there is nothing to change.
  function english(text) {
    var trimmed = text.trim();
    if (!trimmed || !HAN.test(trimmed)) return null;
    if (Object.prototype.hasOwnProperty.call(THEME, trimmed)) return text.replace(trimmed, THEME[trimmed]);
    var parts = text.split(SEP);
    if (parts.length < 2) return null;
    var kept = parts.filter(function (p) { return !HAN.test(p); });
    if (!kept.length || kept.length === parts.length) return null;
    var out = kept.join(SEP);
    if (/^\s/.test(text) && !/^\s/.test(out)) out = " " + out;
    if (/\s$/.test(text) && !/\s$/.test(out)) out += " ";
    return out;
  }

  function twin(node) {
    var en = english(node.nodeValue);
    if (en === null) return;
    var zh = document.createElement("span");
    zh.className = "gp-zh";
    zh.setAttribute("lang", "zh");
    zh.textContent = node.nodeValue;
    // The English shows through CSS (lang.css: ::before { content: attr(data-gp-en) }), so the element's
    // textContent stays what it was for the scripts that read it (the topic filters split it into words).
    var other = document.createElement("span");
    other.className = "gp-en";
    other.setAttribute("lang", "en");
    other.setAttribute("data-gp-en", en);
    var parent = node.parentNode;
    parent.insertBefore(zh, node);
    parent.insertBefore(other, node);
    parent.removeChild(node);
  }

  function textNodes(root) {
    var out = [];
    if (root.nodeType === 3) {
      if (!root.parentElement || !root.parentElement.closest(SKIP)) out.push(root);
      return out;
    }
    if (root.nodeType !== 1 || root.closest(SKIP)) return out;
    var walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT | NodeFilter.SHOW_ELEMENT, {
      acceptNode: function (n) {
        if (n.nodeType === 1) return n.matches(SKIP) ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_SKIP;
        return HAN.test(n.nodeValue) ? NodeFilter.FILTER_ACCEPT : NodeFilter.FILTER_SKIP;
      },
    });
    while (walker.nextNode()) out.push(walker.currentNode);
    return out;
  }

  // Attributes, <option> texts (which cannot hold elements) and the tab title switch in place.
  var ATTRS = ["placeholder", "title", "aria-label", "data-md-state"];
  function switchAttributes(root, to) {
    var scope = root.nodeType === 1 ? root : root.parentElement;
    if (!scope) return;
    var els = [scope].concat(Array.prototype.slice.call(scope.querySelectorAll("[placeholder], [title], [aria-label], option")));
    els.forEach(function (el) {
      ATTRS.forEach(function (attr) {
        var key = "gpZh" + attr.replace(/-(\w)/g, function (_, c) { return c.toUpperCase(); }).replace(/^\w/, function (c) { return c.toUpperCase(); });
        var value = el.getAttribute(attr);
        if (value === null) return;
        if (!(key in el.dataset)) {
          if (english(value) === null) return;
          el.dataset[key] = value;
        }
        var zh = el.dataset[key], want = to === "en" ? english(zh) : zh;
        if (value !== want) el.setAttribute(attr, want);
      });
      if (el.tagName === "OPTION") {
        if (!("gpZhText" in el.dataset)) {
          if (english(el.textContent) === null) return;
          el.dataset.gpZhText = el.textContent;
        }
        var text = to === "en" ? english(el.dataset.gpZhText) : el.dataset.gpZhText;
        if (el.textContent !== text) el.textContent = text;  // (a change here is seen again by the observer)
      }
    });
  }

  var zhTitle = null;
  function switchTitle(to) {
    if (zhTitle === null || (document.title !== zhTitle && document.title !== englishTitle(zhTitle))) zhTitle = document.title;
    document.title = to === "en" ? englishTitle(zhTitle) : zhTitle;
  }
  function englishTitle(title) {
    return title.split(" - ").map(function (p) { var e = english(p); return e === null ? p : e; }).join(" - ");
  }

  function translate(root) {
    textNodes(root).forEach(twin);
    switchAttributes(root, lang());
  }

  // The content tabs speak for the language they show.
  function markTabs() {
    document.querySelectorAll(".tabbed-set").forEach(function (set) {
      var labels = set.querySelectorAll(".tabbed-labels > label");
      var blocks = set.querySelectorAll(".tabbed-content > .tabbed-block");
      labels.forEach(function (label, i) {
        var tab = label.textContent.trim();
        var code = tab === "English" ? "en" : tab === "中文" ? "zh" : null;
        if (code && blocks[i]) blocks[i].setAttribute("lang", code);
      });
    });
  }
  function showTab(to) {
    var want = to === "en" ? "English" : "中文";
    var sets = document.querySelectorAll(".tabbed-set");
    for (var s = 0; s < sets.length; s++) {
      var inputs = sets[s].querySelectorAll(":scope > input");
      for (var i = 0; i < inputs.length; i++) {
        var label = sets[s].querySelector('label[for="' + inputs[i].id + '"]');
        if (label && label.textContent.trim() === want) {
          if (!inputs[i].checked) label.click();  // the theme switches every linked tab on the page
          return;
        }
      }
    }
  }

  function setLang(to, fromTab) {
    var root = document.documentElement;
    if (to !== "en") to = "zh";
    try { localStorage.setItem(KEY, to); } catch (e) { /* not remembered */ }
    window.genprepLang = to;
    if (lang() === to && root.getAttribute("lang") === to) { if (!fromTab) showTab(to); return; }
    root.classList.remove("gp-lang-zh", "gp-lang-en");
    root.classList.add("gp-lang-" + to);
    root.setAttribute("lang", to);
    switchAttributes(document.body, to);
    switchTitle(to);
    updateSwitch();
    if (!fromTab) showTab(to);
    document.dispatchEvent(new CustomEvent("genprep:lang", {detail: {lang: to}}));
  }
  window.genprepSetLang = setLang;

  var button = null;
  function updateSwitch() {
    if (!button) return;
    var en = lang() === "en";
    button.textContent = en ? "中文" : "EN";
    button.setAttribute("lang", en ? "zh" : "en");
    button.title = en ? "切换到中文" : "Switch to English";
    button.setAttribute("aria-label", button.title);
  }
  function addSwitch() {
    if (button && document.body.contains(button)) return;
    var header = document.querySelector(".md-header__inner");
    if (!header) return;
    button = document.createElement("button");
    button.type = "button";
    button.className = "md-header__button gp-lang-switch";
    button.addEventListener("click", function () { setLang(lang() === "en" ? "zh" : "en"); });
    var search = header.querySelector(".md-search");
    header.insertBefore(button, search || null);
    updateSwitch();
  }

  var observer = null;
  function setup() {
    addSwitch();
    markTabs();
    translate(document.body);
    switchTitle(lang());
    if (lang() === "en") showTab("en");
    if (!observer && typeof MutationObserver !== "undefined") {
      observer = new MutationObserver(function (records) {
        records.forEach(function (r) {
          if (r.type === "characterData") { if (r.target.parentNode) translate(r.target); return; }
          r.addedNodes.forEach(function (n) {
            if (n.nodeType === 1 && n.matches("mjx-container, mjx-container *")) return;
            if (n.nodeType === 1 || n.nodeType === 3) translate(n);
          });
        });
      });
      observer.observe(document.body, {childList: true, subtree: true, characterData: true});
    }
  }

  // Choosing a tab chooses the language, on this page and the next.
  document.addEventListener("change", function (e) {
    var input = e.target;
    if (!input || !input.matches || !input.matches(".tabbed-set > input") || !input.checked) return;
    var label = document.querySelector('label[for="' + input.id + '"]');
    var tab = label && label.textContent.trim();
    if (tab === "English") setLang("en", true);
    else if (tab === "中文") setLang("zh", true);
  });

  if (typeof document$ !== "undefined") document$.subscribe(setup);
  else if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
