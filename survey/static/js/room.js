// Keeps the room page's count of answers current without reloading the page.
(function () {
  var box = document.querySelector("[data-count-url]");
  if (!box) return;
  var url = box.getAttribute("data-count-url");
  var count = document.getElementById("count");
  var label = document.getElementById("count-label");
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) {
        if (!data) return;
        count.textContent = data.count;
        label.textContent = data.count === 1 ? "answer" : "answers";
      })
      .catch(function () {});
  }
  setInterval(refresh, 5000);
})();
