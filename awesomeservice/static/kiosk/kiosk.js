// The kiosk's screen polls AwesomeService's server (never Mockgram: the device_code stays on
// the server), which polls Mockgram's token endpoint when the interval has passed (RFC 8628
// §3.4). Each answer is appended to the list; once approved (or ended) the page reloads.
(function () {
  "use strict";
  var kiosk = document.getElementById("kiosk");
  var csrf = document.getElementById("kiosk-csrf");
  if (!kiosk || kiosk.dataset.status !== "pending" || !csrf) return;
  var list = document.getElementById("kiosk-polls");
  var expires = document.getElementById("kiosk-expires");
  var nowButton = document.getElementById("kiosk-poll-now");

  function show(state) {
    if (!state || !state.answers) return;
    list.textContent = "";
    state.answers.forEach(function (line) {
      var item = document.createElement("li");
      item.textContent = line;
      list.appendChild(item);
    });
    if (expires) expires.textContent = String(state.expires_in);
    kiosk.dataset.interval = String(state.interval);
    if (state.status !== "pending") window.location.reload();
  }

  function poll(now) {
    var body = new URLSearchParams({ csrf_token: csrf.value });
    if (now) body.set("now", "1");
    return fetch("/kiosk/poll", {
      method: "POST",
      headers: { Accept: "application/json" },
      body: body,
      credentials: "same-origin",
    })
      .then(function (response) { return response.json(); })
      .then(show)
      .catch(function () { /* the next tick tries again */ });
  }

  function tick() {
    poll(false).then(function () {
      if (kiosk.dataset.status === "pending") {
        window.setTimeout(tick, Number(kiosk.dataset.interval || "5") * 1000);
      }
    });
  }

  if (nowButton) {
    nowButton.addEventListener("click", function (event) {
      event.preventDefault();
      poll(true);
    });
  }
  // The first poll may go at once (the server still keeps the interval between two polls).
  tick();
})();
