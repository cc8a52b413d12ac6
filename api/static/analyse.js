// The never-published page: asks POST /v1/analyses for the player and follows its state.
"use strict";
(() => {
  const box = document.getElementById("analyse");
  if (!box) return;
  const button = box.querySelector("button");
  const status = box.querySelector("[role=status]");
  const say = (text) => { status.textContent = text; };
  const wait = (seconds) => new Promise((r) => setTimeout(r, 1000 * Math.min(Math.max(seconds, 1), 10)));
  const reason = async (response) => {
    try {
      const body = await response.json();
      return body.reason || body.detail || `${response.status}`;
    } catch (_) {
      return `${response.status}`;
    }
  };
  async function follow(href, retry) {
    for (;;) {
      await wait(retry);
      const response = await fetch(href);
      if (!response.ok) return say(`The analysis could not be followed: ${await reason(response)}`);
      const body = await response.json();
      if (body.state === "succeeded") {
        say("Done: loading the page…");
        return window.location.reload();
      }
      if (body.state === "failed") {
        button.disabled = false;
        return say(`The analysis failed: ${body.reason || body.error || "no reason given"}.`);
      }
      say(body.state === "running" ? "Analysing the games…" : "Queued: waiting for its turn…");
      retry = Number(response.headers.get("Retry-After")) || 2;
    }
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    say("Asking for an analysis…");
    const response = await fetch("/v1/analyses", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ username: box.dataset.username }),
    });
    if (response.status === 200) return window.location.reload(); // already fresh
    if (response.status !== 202) {
      button.disabled = false;
      return say(`The analysis was not accepted: ${await reason(response)}`);
    }
    say("Queued: waiting for its turn…");
    return follow(response.headers.get("Location"), Number(response.headers.get("Retry-After")) || 2);
  });
})();
