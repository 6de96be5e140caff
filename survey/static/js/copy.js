// A "Copy" button beside a one-time link: the link stays selectable text without JavaScript.
document.querySelectorAll("[data-copy]").forEach(function (button) {
  var target = document.getElementById(button.getAttribute("data-copy"));
  var status = document.getElementById(button.getAttribute("data-copy") + "-status");
  var bySelection = function () {
    target.select();
    var copied = false;
    try { copied = document.execCommand("copy"); } catch (error) { copied = false; }
    status.textContent = copied ? "Copied." : "Selected: press Ctrl+C (or Cmd+C) to copy.";
  };
  button.hidden = false;
  button.addEventListener("click", function () {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(target.value).then(function () {
        status.textContent = "Copied.";
      }, bySelection);
    } else {
      bySelection();
    }
  });
});
