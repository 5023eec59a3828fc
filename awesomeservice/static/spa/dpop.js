// DPoP from the browser (RFC 9449): a key pair made by Web Crypto with extractable: false, so
// not even this page's own script can read the private key — only ask the browser to sign
// with it. The key lives in this page's memory: gone when the tab closes, and so is the
// token's worth. Each request gets its own proof (§4.2), shown decoded on the page.
"use strict";

const SPA_DPOP = (() => {
  const ALG = { name: "ECDSA", namedCurve: "P-256" };
  const proofBox = document.getElementById("spa-dpop-proofs");
  let keyPair = null;
  let publicJwk = null;
  let nonce = null; // RFC 9449 §8: the last DPoP-Nonce the server gave, sent in the next proof

  const encode = (value) => SPA.base64url(new TextEncoder().encode(JSON.stringify(value)));

  // RFC 9449 §4.2, §11.4: a fresh ES256 key pair; the private half cannot be exported.
  async function newKey() {
    keyPair = await crypto.subtle.generateKey(ALG, false, ["sign", "verify"]);
    const jwk = await crypto.subtle.exportKey("jwk", keyPair.publicKey);
    publicJwk = { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
    return keyPair.privateKey.extractable;
  }

  // RFC 9449 §4.2 ath: base64url(SHA-256(access token)).
  async function ath(accessToken) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(accessToken));
    return SPA.base64url(digest);
  }

  function show(label, header, claims) {
    if (!proofBox) return;
    const item = document.createElement("details");
    const summary = document.createElement("summary");
    summary.textContent = label + " — " + claims.htm + " " + claims.htu;
    const pre = document.createElement("pre");
    pre.className = "code";
    pre.textContent = JSON.stringify({ header, claims }, null, 2);
    item.append(summary, pre);
    proofBox.append(item);
    proofBox.hidden = false;
  }

  // One proof for one request (§4.2): typ, alg and the public jwk; jti, htm, htu, iat (+ ath,
  // nonce). htu is the URL without query or fragment. The signature is ECDSA P-256 SHA-256 in
  // the r||s form JWS wants, which is what Web Crypto returns.
  async function proof(method, url, accessToken, label) {
    const target = new URL(url);
    const header = { typ: "dpop+jwt", alg: "ES256", jwk: publicJwk };
    const claims = {
      jti: SPA.randomValue(),
      htm: method,
      htu: target.origin + target.pathname,
      iat: Math.floor(Date.now() / 1000),
    };
    if (accessToken) claims.ath = await ath(accessToken);
    if (nonce) claims.nonce = nonce;
    const input = encode(header) + "." + encode(claims);
    const signature = await crypto.subtle.sign(
      { name: "ECDSA", hash: "SHA-256" }, keyPair.privateKey, new TextEncoder().encode(input),
    );
    show(label || "Proof", header, claims);
    return input + "." + SPA.base64url(signature);
  }

  // fetch() with a proof; once more with the server's nonce when it asks (§8, §9).
  async function send(url, init, accessToken, label) {
    for (let attempt = 0; ; attempt++) {
      const headers = { ...(init.headers || {}) };
      headers.DPoP = await proof(init.method || "GET", url, accessToken, label);
      if (accessToken) headers.Authorization = "DPoP " + accessToken;
      const response = await fetch(url, { ...init, headers });
      const given = response.headers.get("DPoP-Nonce");
      if (given) nonce = given;
      const challenge = response.headers.get("WWW-Authenticate") || "";
      const wantsNonce = challenge.includes("use_dpop_nonce") ||
        (response.status === 400 && (await response.clone().json().catch(() => ({}))).error === "use_dpop_nonce");
      if (!wantsNonce || !given || attempt > 0) return response;
    }
  }

  return { newKey, send, get enabled() { return keyPair !== null; } };
})();
