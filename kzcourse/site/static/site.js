// kzcourse site: draw the charts with the site's own plotly.js (no network); nothing else needs a script.
(function () {
  "use strict";
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll(".kz-plotly").forEach(function (el) {
      var spec = JSON.parse(document.getElementById(el.getAttribute("data-spec")).textContent);
      window.Plotly.newPlot(el, spec.data, spec.layout || {}, { displayModeBar: false, responsive: true });
      el.setAttribute("data-drawn", "1");
    });
  }
  // A link to a claim's note (#C01-note) opens it.
  function openTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var el = id && document.getElementById(id);
    if (el && el.tagName === "DETAILS") { el.open = true; }
  }
  document.addEventListener("DOMContentLoaded", function () { draw(); openTarget(); });
  window.addEventListener("hashchange", openTarget);
})();
