// Our only script. On a page that comes back with form errors, move focus to the
// error summary (or the first field in error) so keyboard and screen-reader users
// land on the problem, as USWDS recommends. Served as a file: the CSP forbids
// inline script.
(function () {
  "use strict";
  function focusFirstError() {
    var target =
      document.querySelector("[data-focus-on-load]") ||
      document.querySelector('form [aria-invalid="true"]');
    if (target) {
      target.focus();
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusFirstError);
  } else {
    focusFirstError();
  }
})();
