// Progressive enhancement only: the survey works without this file (the server writes the
// same count on every page it sends). Keeps "x of N answered", at the top and the bottom, up
// to date as the officer goes; "Prefer not to answer" is a choice made, so it counts.
(function () {
  var form = document.querySelector("form.survey");
  if (!form) return;
  var counts = form.querySelectorAll(".progress");
  var total = parseInt(form.getAttribute("data-total"), 10);
  function update() {
    var names = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (r) { names[r.name] = true; });
    var text = Object.keys(names).length + " of " + total + " answered";
    counts.forEach(function (p) { if (p.textContent !== text) p.textContent = text; });
  }
  form.addEventListener("change", update);
  update();
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
