// Small progressive enhancements for staff pages. No inline scripts anywhere (CSP: script-src 'self').
document.addEventListener("click", function (event) {
  var el = event.target.closest("[data-confirm]");
  if (el && !window.confirm(el.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
