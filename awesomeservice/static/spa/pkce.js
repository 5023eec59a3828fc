// The authorization code flow with PKCE from a single-page app (RFC 6749 §4.1, RFC 7636),
// a public client: no secret, the token endpoint called from the browser with CORS.
"use strict";

(() => {
  const STATE_KEY = "spa-pkce-state";
  const VERIFIER_KEY = "spa-pkce-verifier";
  const DPOP_KEY = "spa-pkce-dpop"; // the reader ticked "bind the token to a key" (RFC 9449)
  const { config } = SPA;

  // RFC 7636 §4.2: code_challenge = BASE64URL(SHA256(ASCII(code_verifier))).
  async function s256(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return SPA.base64url(digest);
  }

  // Step 1: a fresh state and verifier, kept in this tab only, and off to Mockgram.
  document.getElementById("spa-start").addEventListener("click", async () => {
    const state = SPA.randomValue();
    const verifier = SPA.randomValue();
    sessionStorage.setItem(STATE_KEY, state);
    sessionStorage.setItem(VERIFIER_KEY, verifier);
    const dpopBox = document.getElementById("spa-dpop");
    if (dpopBox && dpopBox.checked) sessionStorage.setItem(DPOP_KEY, "1");
    window.location.assign(SPA.authorizationUrl({
      response_type: "code",
      client_id: config.clientId,
      redirect_uri: config.redirectUri,
      scope: config.scope,
      state,
      code_challenge: await s256(verifier),
      code_challenge_method: "S256",
    }));
  });

  const answer = new URLSearchParams(window.location.search);
  if (!answer.has("code") && !answer.has("error")) return;
  // The code leaves the address bar at once.
  history.replaceState(null, "", window.location.pathname);
  SPA.note(answer.has("error")
    ? "Mockgram sent back an error, not a code, in the query string; this page removed it " +
      "from the address bar. With no code there is no token to ask for."
    : "Mockgram sent back a one-time code in the query string; this page removed it " +
      "from the address bar and will redeem it with its PKCE verifier.");

  const verifier = sessionStorage.getItem(VERIFIER_KEY);
  sessionStorage.removeItem(VERIFIER_KEY);
  const useDpop = sessionStorage.getItem(DPOP_KEY) === "1";
  sessionStorage.removeItem(DPOP_KEY);
  const stateOk = SPA.takeState(STATE_KEY, answer.get("state"));
  if (!SPA.answerOk(answer, stateOk, "The code was not redeemed.")) return;

  // Step 5 from the browser: a cross-origin POST that Mockgram allows for this origin (CORS).
  async function redeem() {
    SPA.say("Trading the code and the PKCE verifier for a token…", "info");
    const dpopNote = document.getElementById("spa-dpop-note");
    if (useDpop) {
      // RFC 9449 §5: the token request carries a proof; the token is bound to this key.
      const extractable = await SPA_DPOP.newKey();
      dpopNote.textContent = "This tab made an ES256 key pair with Web Crypto (private key " +
        (extractable ? "extractable!" : "not extractable") + ") and signs a DPoP proof for " +
        "each request; the proofs it sent are below, decoded.";
      dpopNote.hidden = false;
    }
    const send = useDpop
      ? (init) => SPA_DPOP.send(config.tokenEndpoint, init, null, "Step 5: the token request")
      : (init) => fetch(config.tokenEndpoint, init);
    const response = await send({
      method: "POST",
      headers: { "Content-Type": "application/x-www-form-urlencoded", Accept: "application/json" },
      body: new URLSearchParams({
        grant_type: "authorization_code",
        code: answer.get("code"),
        redirect_uri: config.redirectUri,
        client_id: config.clientId, // a public client identifies itself, it cannot authenticate
        code_verifier: verifier || "",
      }),
    });
    const body = await response.json().catch(() => ({}));
    if (!response.ok || typeof body.access_token !== "string") {
      SPA.say("The token endpoint refused: " + (body.error || response.status) + " " +
              (body.error_description || ""), "error");
      return;
    }
    if (useDpop) {
      // RFC 9449 §5: a bound token says so; sent as Bearer, Mockgram would refuse it (§7.2).
      dpopNote.textContent += " Mockgram answered token_type " + body.token_type +
        (body.token_type === "DPoP" ? ": the token is bound to this tab's key (cnf.jkt)." : ".");
    }
    await SPA.showPhotos(body.access_token);
  }
  redeem().catch(() => SPA.say("Could not reach Mockgram's token endpoint.", "error"));
})();
