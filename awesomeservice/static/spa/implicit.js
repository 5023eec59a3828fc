// The implicit flow (RFC 6749 §4.2) — teaching only: RFC 9700 §2.1.2 says do not use it.
"use strict";

(() => {
  const STATE_KEY = "spa-implicit-state";
  const SENT_KEY = "spa-implicit-sent-url";
  const { config } = SPA;

  // Step 1: off to Mockgram with response_type=token; the answer comes in the fragment.
  document.getElementById("spa-start").addEventListener("click", () => {
    const state = SPA.randomValue();
    sessionStorage.setItem(STATE_KEY, state);
    const url = SPA.authorizationUrl({
      response_type: "token",
      client_id: config.clientId,
      redirect_uri: config.redirectUri,
      scope: config.scope,
      state,
    });
    sessionStorage.setItem(SENT_KEY, url); // shown when the answer comes back
    window.location.assign(url);
  });

  // What travelled: the request this page sent, and the fragment as it came back, the token
  // shortened (enough to recognise, useless to replay) — read before the address bar is cleared.
  function showTravelled(sentUrl, fragment) {
    const box = document.getElementById("spa-travelled");
    if (!box) return;
    const shortened = new URLSearchParams(fragment);
    for (const name of ["access_token", "id_token", "code"]) {
      const value = shortened.get(name);
      if (value) shortened.set(name, value.slice(0, 12) + "…(" + value.length + " characters)");
    }
    document.getElementById("spa-sent-url").textContent = sentUrl || "(not kept: this tab did not send it)";
    document.getElementById("spa-came-back").textContent =
      config.redirectUri + "#" + decodeURIComponent(shortened.toString()).replace(/\+/g, " ");
    box.hidden = false;
  }

  // Step 4, the implicit way: the token itself is in the URL fragment.
  const fragment = window.location.hash.slice(1);
  if (!fragment) return;
  const answer = new URLSearchParams(fragment);
  showTravelled(sessionStorage.getItem(SENT_KEY), fragment);
  sessionStorage.removeItem(SENT_KEY);
  // Take it out of the address bar at once (the history entry was already made).
  history.replaceState(null, "", window.location.pathname);
  SPA.note(answer.has("error")
    ? "Mockgram's answer arrived in the address bar's fragment (#error=…) with no token; this " +
      "page read it and removed it from the address bar with history.replaceState."
    : "The answer arrived in the address bar's fragment (#access_token=…). This page " +
      "read it and removed it from the address bar with history.replaceState — but the " +
      "browser's history had already seen it. That is the implicit flow's weakness.");

  const stateOk = SPA.takeState(STATE_KEY, answer.get("state"));
  if (!SPA.answerOk(answer, stateOk, "The token was not used.")) return;
  const accessToken = answer.get("access_token");
  if (!accessToken || (answer.get("token_type") || "").toLowerCase() !== "bearer") {
    SPA.say("The answer carried no bearer access token.", "error");
    return;
  }
  SPA.showPhotos(accessToken).catch(() => SPA.say("Could not reach Mockgram's API.", "error"));
})();
