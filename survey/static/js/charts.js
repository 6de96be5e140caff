// Draws every chart on the page with the app's own Vega bundle: no CDN, no inline script.
// `ast: true` evaluates Vega expressions without eval, so the page's CSP needs no unsafe-eval.
(function () {
  if (typeof window.vegaEmbed !== "function") return;
  document.querySelectorAll("script.chart-spec[type='application/json']").forEach(function (node) {
    var target = document.getElementById(node.getAttribute("data-target"));
    if (!target) return;
    var spec = JSON.parse(node.textContent);
    window.vegaEmbed(target, spec, {
      actions: false, ast: true, renderer: "svg", defaultStyle: false,
      tooltip: { disableDefaultStyle: true }
    })
      .then(function () { target.classList.add("chart-live"); })
      .catch(function () { /* the server-drawn SVG stays in place */ });
  });
})();

// Printing opens every disclosure of numbers (browsers without the print stylesheet's
// ::details-content rule print a closed one as its summary alone), and closes them again after.
(function () {
  var opened = [];
  window.addEventListener("beforeprint", function () {
    opened = [];
    document.querySelectorAll("details.numbers:not([open])").forEach(function (node) {
      node.open = true; opened.push(node);
    });
  });
  window.addEventListener("afterprint", function () {
    opened.forEach(function (node) { node.open = false; });
    opened = [];
  });
})();
