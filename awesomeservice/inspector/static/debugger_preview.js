// The OAuth debugger's live preview: the authorization URL the form would send, rebuilt on every
// change, and a link that reopens the same form. The same rules as the server's preview
// (awesomeservice/pages/debugger.py preview_url): empty parameters left out (RFC 6749 §3.1), the
// PKCE challenge made only when sent (its verifier never leaves the server), never the secret.
(function () {
  "use strict";
  var form = document.querySelector("form.debugger-form");
  var preview = document.getElementById("debugger-preview");
  var reopen = document.getElementById("debugger-reopen");
  if (!form || !preview || !reopen) { return; }
  var SENT = ["response_type", "client_id", "redirect_uri", "scope", "response_mode", "state", "nonce", "prompt"];
  var REOPENED = ["discovery_url", "client_id", "redirect_uri", "response_type", "response_mode", "scope", "prompt"];

  function field(name) {
    var element = form.elements.namedItem(name);
    return element && typeof element.value === "string" ? element.value.trim() : "";
  }

  function update() {
    var query = new URLSearchParams();
    SENT.forEach(function (name) { if (field(name)) { query.append(name, field(name)); } });
    var pkce = form.elements.namedItem("pkce");
    var usesPkce = pkce && pkce.checked && field("response_type").split(" ").indexOf("code") >= 0;
    if (usesPkce) {
      query.append("code_challenge", "(made when sent)");
      query.append("code_challenge_method", "S256");
    }
    var endpoint = field("discovery_url") ? "(the provider's authorization_endpoint)" : preview.getAttribute("data-endpoint");
    preview.textContent = endpoint + (endpoint.indexOf("?") >= 0 ? "&" : "?") + query.toString();
    var link = new URLSearchParams();
    REOPENED.forEach(function (name) { if (field(name)) { link.append(name, field(name)); } });
    link.append("pkce", pkce && pkce.checked ? "on" : "off");
    reopen.setAttribute("href", "/debugger?" + link.toString());
  }

  form.addEventListener("input", update);
  form.addEventListener("change", update);
  update();
})();
