// Small progressive enhancements. Every page works without this file.
// No inline scripts anywhere: the Content-Security-Policy forbids them.
document.addEventListener("DOMContentLoaded", function () {
  // Forms and buttons that ask before a destructive action: data-confirm="Question?"
  document.body.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  });
  // Filter forms marked data-autosubmit submit themselves when a select changes.
  document.body.addEventListener("change", function (event) {
    var form = event.target.form;
    if (form && form.hasAttribute("data-autosubmit") && event.target.tagName === "SELECT") {
      if (window.htmx) { window.htmx.trigger(form, "submit"); } else { form.requestSubmit(); }
    }
  });
});

// htmx does not swap 4xx answers. Inside an element marked
// data-htmx-errors="#region", show the server's reason (a 409 conflict, a 400)
// in that region instead, so an inline action never fails silently.
document.addEventListener("htmx:beforeSwap", function (event) {
  var status = event.detail.xhr.status;
  if (status < 400 || status >= 500) { return; }
  var scope = event.detail.elt && event.detail.elt.closest && event.detail.elt.closest("[data-htmx-errors]");
  var region = scope && document.querySelector(scope.getAttribute("data-htmx-errors"));
  if (!region) { return; }
  event.detail.shouldSwap = true;
  event.detail.isError = false;
  event.detail.target = region;
  event.detail.swapOverride = "innerHTML";
});

// The header search box: arrow keys move between the live results, Escape
// closes them. Without JavaScript the box is a plain form to /search.
document.addEventListener("keydown", function (event) {
  var box = document.getElementById("site-search-q");
  var live = document.getElementById("site-search-live");
  if (!box || !live) { return; }
  var links = Array.prototype.slice.call(live.querySelectorAll("a"));
  var inside = event.target === box || live.contains(event.target);
  if (!inside) { return; }
  if (event.key === "Escape") {
    live.innerHTML = "";
    box.focus();
  } else if ((event.key === "ArrowDown" || event.key === "ArrowUp") && links.length) {
    event.preventDefault();
    var at = links.indexOf(document.activeElement);
    var next = event.key === "ArrowDown" ? at + 1 : at - 1;
    if (next < 0) { box.focus(); return; }
    links[Math.min(next, links.length - 1)].focus();
  }
});
