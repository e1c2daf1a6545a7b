// kzcourse site search: runs in the browser over assets/search-index.js (loaded by a script tag, so it
// works from disk as well as from any static server). All words must appear; results are ranked by hits.
(function () {
  "use strict";
  function words(q) { return q.toLowerCase().split(/\s+/).filter(function (w) { return w.length > 0; }); }
  function snippet(text, first) {
    var at = Math.max(0, text.toLowerCase().indexOf(first) - 80);
    return (at > 0 ? "… " : "") + text.slice(at, at + 240) + (at + 240 < text.length ? " …" : "");
  }
  function show(q) {
    var box = document.getElementById("kz-results");
    var terms = words(q);
    box.textContent = "";
    if (!terms.length) { return; }
    var hits = [];
    (window.KZ_SEARCH_INDEX || []).forEach(function (rec) {
      var hay = (rec.title + " " + rec.text).toLowerCase(), score = 0;
      for (var i = 0; i < terms.length; i++) {
        var n = hay.split(terms[i]).length - 1;
        if (n === 0) { return; }
        score += n + (rec.title.toLowerCase().indexOf(terms[i]) >= 0 ? 5 : 0);
      }
      hits.push({ rec: rec, score: score });
    });
    hits.sort(function (a, b) { return b.score - a.score; });
    var head = document.createElement("p");
    head.textContent = hits.length + " result" + (hits.length === 1 ? "" : "s") + " for “" + q + "”.";
    box.appendChild(head);
    var list = document.createElement("ol");
    hits.slice(0, 50).forEach(function (h) {
      var li = document.createElement("li"), a = document.createElement("a"), p = document.createElement("p");
      a.href = h.rec.url;
      a.textContent = h.rec.title;
      p.textContent = snippet(h.rec.text, terms[0]);
      li.appendChild(a);
      li.appendChild(p);
      list.appendChild(li);
    });
    box.appendChild(list);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var q = new URLSearchParams(window.location.search).get("q") || "";
    var input = document.getElementById("kz-q2");
    if (input) { input.value = q; }
    show(q);
  });
})();
