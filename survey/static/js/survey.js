// Progressive enhancement only: the survey works without this file.
// Shows how many statements are answered as the officer goes.
(function () {
  var form = document.querySelector("form.survey");
  var progress = document.getElementById("progress");
  if (!form || !progress) return;
  var total = parseInt(form.getAttribute("data-total"), 10);
  function update() {
    var names = {};
    form.querySelectorAll("input[type=radio]:checked").forEach(function (r) { names[r.name] = true; });
    var done = Object.keys(names).length;
    progress.textContent = done + " of " + total + " answered";
  }
  progress.hidden = false;
  form.addEventListener("change", update);
  update();
  var summary = document.getElementById("error-summary");
  if (summary) summary.focus();
})();
