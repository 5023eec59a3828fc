// The OAuth debugger's answer reader. The fragment (implicit and hybrid flows) never reaches
// the server, so this posts it back, then strips it; a cross-site form_post is relayed once.
(function () {
  "use strict";
  var form = document.getElementById("fragment-form");
  if (!form) { return; }
  if (form.getAttribute("data-relay") === "1") { form.submit(); return; }
  var fragment = window.location.hash.replace(/^#/, "");
  if (!fragment) { return; }
  new URLSearchParams(fragment).forEach(function (value, name) {
    var input = document.createElement("input");
    input.type = "hidden";
    input.name = name;
    input.value = value;
    form.appendChild(input);
  });
  // Tokens should not linger in the address bar or the history (RFC 9700 §4.3.2).
  window.history.replaceState(null, "", window.location.pathname);
  form.submit();
})();
