// Shared by the two single-page demos: configuration, random values, the photos API.
// No framework, no third-party code: what a reader sees is all that runs.
"use strict";

const SPA = (() => {
  const root = document.getElementById("spa");
  const config = { ...root.dataset };
  const statusBox = document.getElementById("spa-status");
  const fragmentBox = document.getElementById("spa-fragment");
  const grid = document.getElementById("spa-photos");

  function say(text, kind) {
    statusBox.textContent = text;
    statusBox.className = "flash flash-" + (kind || "info");
  }

  function note(text) {
    fragmentBox.textContent = text;
    fragmentBox.hidden = false;
  }

  function base64url(bytes) {
    let binary = "";
    for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  // 32 random bytes from the browser's CSPRNG (RFC 6749 §10.10, RFC 7636 §4.1).
  function randomValue() {
    return base64url(crypto.getRandomValues(new Uint8Array(32)));
  }

  // Constant-time enough for a value that is already single-use; but compare all characters.
  function sameString(a, b) {
    if (typeof a !== "string" || typeof b !== "string" || a.length !== b.length) return false;
    let diff = 0;
    for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
    return diff === 0;
  }

  // RFC 6749 §10.12: the state sent must come back unchanged, to this tab; used once.
  function takeState(storageKey, returned) {
    const expected = sessionStorage.getItem(storageKey);
    sessionStorage.removeItem(storageKey);
    return expected !== null && sameString(expected, returned);
  }

  // RFC 9207 §2.4: when Mockgram names itself, it must be exactly the expected issuer.
  function issuerOk(iss) {
    return iss === null || iss === config.issuer;
  }

  // Step 4 in the browser, for both demos: the state (already taken with takeState, so it is
  // used once), then iss, then an error answer, each refused with a sentence for the reader;
  // `consequence` says what was not done ("The code was not redeemed."). True when usable.
  function answerOk(answer, stateOk, consequence) {
    if (!stateOk) {
      say("Refused: the state in the answer is not the one this tab sent (RFC 6749 §10.12). " +
          consequence, "error");
      return false;
    }
    if (!issuerOk(answer.get("iss"))) {
      say("Refused: the answer names another issuer (RFC 9207). " + consequence, "error");
      return false;
    }
    // RFC 6749 §4.1.2.1 / §4.2.2.1: Mockgram answered with an error.
    if (answer.get("error")) {
      say("Mockgram answered " + answer.get("error") + ": " +
          (answer.get("error_description") || ""), answer.get("error") === "access_denied" ? "info" : "error");
      return false;
    }
    return true;
  }

  // One call to the photos API: the bearer token in the Authorization header (RFC 6750 §2.1),
  // or, when the page made a DPoP key (dpop.js), the DPoP scheme with a proof (RFC 9449 §7).
  function callApi(url, accessToken, label) {
    if (typeof SPA_DPOP !== "undefined" && SPA_DPOP.enabled) {
      return SPA_DPOP.send(url, {}, accessToken, label);
    }
    return fetch(url, { headers: { Authorization: "Bearer " + accessToken } });
  }

  // Step 6 from the browser: the token in the Authorization header, never in the URL.
  // Images too: fetched with the header, shown through blob: URLs.
  async function showPhotos(accessToken) {
    say("Calling Mockgram's photos API from this page…", "info");
    const response = await callApi(config.api, accessToken, "Step 6: the photo list");
    if (!response.ok) {
      say("Mockgram's API answered " + response.status + ": " +
          (response.headers.get("WWW-Authenticate") || ""), "error");
      return;
    }
    const body = await response.json();
    const photos = Array.isArray(body.photos) ? body.photos : [];
    grid.replaceChildren();
    for (const photo of photos) {
      const figure = document.createElement("figure");
      figure.className = "photo";
      const img = document.createElement("img");
      img.alt = String(photo.caption || "");
      const caption = document.createElement("figcaption");
      caption.className = "caption";
      caption.textContent = String(photo.caption || "");
      figure.append(img, caption);
      grid.append(figure);
      callApi(config.api + "/" + encodeURIComponent(photo.id) + "/image", accessToken, "Step 6: an image")
        .then((r) => (r.ok ? r.blob() : Promise.reject(r.status)))
        .then((blob) => { img.src = URL.createObjectURL(blob); })
        .catch(() => { caption.textContent += " (image refused)"; });
    }
    say("This page holds an access token and read " + photos.length +
        " photos with it, straight from Mockgram — AwesomeService's server never saw the token.", "ok");
  }

  function authorizationUrl(params) {
    const url = new URL(config.authorizationEndpoint);
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url.toString();
  }

  return { config, say, note, base64url, randomValue, takeState, issuerOk, answerOk, showPhotos, authorizationUrl };
})();
