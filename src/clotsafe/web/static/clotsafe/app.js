// clotsafe: the only script besides the vendored htmx. No inline scripts (CSP script-src 'self').
document.addEventListener("click", function (event) {
  var target = event.target;
  if (target && target.matches && target.matches("[data-print]")) {
    window.print();
  }
});
