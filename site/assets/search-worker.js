// The site's search, in a worker that head.js starts the first time search is used. It answers the theme's
// messages (QUERY → RESULT, in the shape the theme draws) from the index the build writes
// (search/search_index.json, rewritten by genprep/site/mkdocs_hook.py: plain text, no LaTeX, Chinese words
// separated by U+200B as jieba cut them with the glossary as its user dictionary).
//
// Matching: a query is split at spaces; within a word, Chinese and Latin runs are parts of one phrase
// ("KL散度" finds "KL 散度"). Chinese matches anywhere in the text (so 朗之万 is found however it was cut);
// Latin matches at the start of a word ("gradient" finds "gradients"). Ranking: every word of the query must
// match (if no page has them all, pages with some of them follow, the rest marked missing); a match in the
// title counts far more than one in the text, a match of a whole word (a jieba token, an English word) more
// than one inside a longer word (注意力 ranks a page about 注意力 above one that only says 注意).
/* eslint-env worker */
"use strict";

var RESULT = 3;
var docs = null;
var loading = false;
var waiting = null;  // the latest query that came while the index was loading

var HAN = /\p{Script=Han}/u;
var RUNS = /\p{Script=Han}+|[^\p{Script=Han}\s]+/gu;
var BOUNDARY = "[\\s\\u200b\\p{P}\\p{S}]";

function escapeRe(s) { return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"); }
function escapeHtml(s) {
  return s.replace(/[&<>"']/g, function (c) {
    return {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c];
  });
}

function prepare(raw) {
  return raw.map(function (d) {
    var title = d.title || "", text = d.text || "";
    return {
      location: d.location, title: title, text: text,
      titleN: title.replace(/\u200b/g, "").toLowerCase(), textN: text.replace(/\u200b/g, "").toLowerCase(),
      titleS: title.toLowerCase(), textS: text.toLowerCase(),
      page: d.location.split("#")[0],
    };
  });
}

// One word of the query → the regular expressions that find it.
function compile(word) {
  var parts = word.match(RUNS) || [];
  if (!parts.length) return null;
  var latinStart = !HAN.test(parts[0]) && /^[\p{L}\p{N}]/u.test(parts[0]);
  var latinEnd = !HAN.test(parts[parts.length - 1]) && /[\p{L}\p{N}]$/u.test(parts[parts.length - 1]);
  var body = parts.map(escapeRe).join("\\s*");
  var start = latinStart ? "(?<![\\p{L}\\p{N}])" : "";
  // a whole word: a jieba token (U+200B or punctuation around it) or an English word
  var wholeStart = latinStart ? start : "(?<=^|" + BOUNDARY + ")";
  var wholeEnd = latinEnd ? "(?![\\p{L}\\p{N}])" : "(?=$|" + BOUNDARY + ")";
  var tokenBody = parts.map(function (p) { return escapeRe(p); }).join("[\\s\\u200b]*");
  return {
    word: word,
    parts: parts.length > 1 ? parts.map(compile) : null,
    any: new RegExp(start + body, "gu"),
    whole: new RegExp(wholeStart + tokenBody + wholeEnd, "gu"),
  };
}

function count(re, text, cap) {
  re.lastIndex = 0;
  var n = 0;
  while (n < cap && re.exec(text)) n++;
  return n;
}

// How well one word matches one document (0: not at all).
function wordScore(t, d) {
  var titleAny = count(t.any, d.titleN, 3), textAny = count(t.any, d.textN, 40);
  if (!titleAny && !textAny) {
    if (!t.parts) return 0;
    var sum = 0;  // "KL散度" with "KL" and "散度" apart: every part must be there, worth less than the phrase
    for (var i = 0; i < t.parts.length; i++) {
      var s = wordScore(t.parts[i], d);
      if (!s) return 0;
      sum += s;
    }
    return 0.4 * sum / t.parts.length;
  }
  var titleWhole = titleAny ? count(t.whole, d.titleS, 3) : 0;
  var textWhole = textAny ? count(t.whole, d.textS, 40) : 0;
  var score = 0;
  if (titleAny) {
    score += 40 + (titleWhole ? 25 : 0);
    // a short title that is mostly this word is about it
    score += 20 * Math.min(1, t.word.length / Math.max(4, d.titleN.length));
  }
  score += 3 * Math.log2(1 + textAny) + 3 * Math.log2(1 + textWhole);
  return score;
}

function snippet(d, words) {
  var plain = d.text.replace(/\u200b/g, "");
  var lower = plain.toLowerCase();
  var at = -1;
  for (var i = 0; i < words.length && at < 0; i++) {
    words[i].any.lastIndex = 0;
    var m = words[i].any.exec(lower);
    if (m) at = m.index;
  }
  var from = Math.max(0, at - 60), to = Math.min(plain.length, Math.max(at, 0) + 220);
  var piece = (from > 0 ? "… " : "") + plain.slice(from, to) + (to < plain.length ? " …" : "");
  return "<p>" + mark(piece, words) + "</p>";
}

function mark(text, words) {
  var lower = text.toLowerCase();
  var spans = [];
  words.forEach(function (w) {
    [w].concat(w.parts || []).forEach(function (t) {
      t.any.lastIndex = 0;
      var m;
      while ((m = t.any.exec(lower)) && spans.length < 200) {
        if (!m[0].length) { t.any.lastIndex++; continue; }
        spans.push([m.index, m.index + m[0].length]);
      }
    });
  });
  spans.sort(function (a, b) { return a[0] - b[0] || b[1] - a[1]; });
  var out = "", pos = 0;
  spans.forEach(function (s) {
    if (s[0] < pos) return;
    out += escapeHtml(text.slice(pos, s[0])) + "<mark>" + escapeHtml(text.slice(s[0], s[1])) + "</mark>";
    pos = s[1];
  });
  return out + escapeHtml(text.slice(pos));
}

function search(query) {
  var words = String(query).toLowerCase().replace(/\u200b/g, "")
    .split(/[\s,，。；;、？?！!]+/u).filter(Boolean)
    .map(function (w) { return w.replace(/^["'“”‘’]+|["'“”‘’]+$/g, ""); }).filter(Boolean)
    .map(compile).filter(Boolean);
  if (!words.length) return {items: []};
  var scored = [];
  docs.forEach(function (d) {
    var found = 0, score = 0, terms = {};
    words.forEach(function (w) {
      var s = wordScore(w, d);
      terms[w.word] = s > 0;
      if (s > 0) { found++; score += s; }
    });
    if (found) scored.push({doc: d, score: score, found: found, terms: terms});
  });
  var all = scored.filter(function (r) { return r.found === words.length; });
  var hits = all.length ? all : scored;  // nothing has every word: show what has some of them
  var groups = new Map();
  hits.forEach(function (r) {
    var g = groups.get(r.doc.page);
    if (!g) groups.set(r.doc.page, g = {score: 0, members: []});
    var s = r.score * (r.doc.location === r.doc.page ? 1.2 : 1) * r.found / words.length;
    g.members.push({doc: r.doc, score: s, terms: r.terms});
    g.score = Math.max(g.score, s);
  });
  var byLocation = new Map(docs.map(function (d) { return [d.location, d]; }));
  var items = Array.from(groups.values())
    .sort(function (a, b) { return b.score - a.score; })
    .slice(0, 100)
    .map(function (g) {
      g.members.sort(function (a, b) { return b.score - a.score; });
      var page = g.members[0].doc.page;
      if (!g.members.some(function (m) { return m.doc.location === page; }) && byLocation.has(page)) {
        g.members.push({doc: byLocation.get(page), score: 0, terms: {}});
      }
      return g.members.map(function (m) {
        return {
          location: m.doc.location, title: mark(m.doc.title.replace(/\u200b/g, ""), words),
          text: m.score ? snippet(m.doc, words) : "", score: m.score, terms: m.terms,
        };
      });
    });
  return {items: items};
}

function answer(query) {
  var data;
  try {
    data = search(query);
  } catch (err) {
    data = {items: []};
  }
  postMessage({type: RESULT, data: data});
}

addEventListener("message", function (ev) {
  var message = ev.data || {};
  if (message.type === "genprep.load") {
    if (loading || docs) return;
    loading = true;
    fetch(message.url).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.json();
    }).then(function (index) {
      docs = prepare(index.docs || []);
    }).catch(function () {
      docs = [];  // no index: every search comes back empty rather than hanging
    }).then(function () {
      loading = false;
      if (waiting !== null) { var q = waiting; waiting = null; answer(q); }
    });
  } else if (message.type === 2) {  // QUERY
    if (docs) answer(message.data);
    else waiting = message.data;
  }
});
