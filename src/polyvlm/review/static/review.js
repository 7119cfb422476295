// Keyboard shortcuts of the review page (see docs/review.md). A static file: the page's CSP allows no inline script.
(function () {
  "use strict";
  function typing(el) {
    return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type !== "radio"));
  }
  function go(id) {
    var a = document.getElementById(id);
    if (a) { window.location.href = a.href; }
  }
  document.addEventListener("keydown", function (ev) {
    var form = document.getElementById("review") || document.getElementById("adjudicate");
    if ((ev.ctrlKey || ev.metaKey) && ev.key === "Enter" && form) {
      ev.preventDefault();
      if (form.reportValidity()) { form.requestSubmit(); }
      return;
    }
    if (ev.key === "Escape" && typing(document.activeElement)) { document.activeElement.blur(); return; }
    if (typing(document.activeElement) || ev.ctrlKey || ev.metaKey || ev.altKey || !form) { return; }
    var digit = /^Digit([0-9])$/.exec(ev.code);
    var key = digit ? (ev.shiftKey ? "shift+" : "") + digit[1] : ev.key.toLowerCase();
    var radio = form.querySelector('input[type="radio"][data-shortcut="' + key + '"]');
    if (radio) { radio.checked = true; radio.focus(); ev.preventDefault(); return; }
    if (key === "e") { var t = document.getElementById("turn_0"); if (t) { t.focus(); ev.preventDefault(); } }
    else if (key === "c") { var c = document.getElementById("comment"); if (c) { c.focus(); ev.preventDefault(); } }
    else if (key === "n" || key === "j") { go("next"); }
    else if (key === "p" || key === "k") { go("prev"); }
  });
})();
