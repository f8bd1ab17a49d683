// Collections Guard console: the only script (no build step, no framework). It copies the
// service-request drafts, reads a chosen CSV file into the import form, and fills "now" into
// an empty received-at field. Every page works without it.
"use strict";
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button.copy").forEach(function (button) {
    button.addEventListener("click", function () {
      var source = document.getElementById(button.dataset.copy);
      if (!source) { return; }
      var text = source.textContent;
      var done = function () { button.textContent = button.dataset.done; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { fallback(source); done(); });
      } else { fallback(source); done(); }
    });
  });
  function fallback(source) {
    var range = document.createRange(); range.selectNodeContents(source);
    var selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
    document.execCommand("copy");
  }
  document.querySelectorAll("input[type=file][data-into]").forEach(function (input) {
    input.addEventListener("change", function () {
      var target = document.getElementById(input.dataset.into);
      if (!input.files.length || !target) { return; }
      input.files[0].text().then(function (text) { target.value = text; });
    });
  });
  document.querySelectorAll("input[data-now=local]").forEach(function (input) {
    if (input.value) { return; }
    var now = new Date(), offset = -now.getTimezoneOffset(), sign = offset >= 0 ? "+" : "-";
    var pad = function (n) { return String(Math.abs(n)).padStart(2, "0"); };
    var local = new Date(now.getTime() + offset * 60000).toISOString().slice(0, 19);
    input.value = local + sign + pad(Math.trunc(offset / 60)) + ":" + pad(offset % 60);
  });
});
