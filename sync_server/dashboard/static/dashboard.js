// Keeps the dashboard live: the server pushes the live sections' HTML over server-sent events;
// this script swaps in the sections that changed and gives their forms this page's CSRF token.
"use strict";
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const conn = document.getElementById("conn");
  const updated = document.getElementById("updated");
  const shown = {};
  let source = null;

  function setState(text, cls) {
    conn.textContent = text;
    conn.className = cls;
  }

  function apply(data) {
    for (const [id, html] of Object.entries(data.parts)) {
      const el = document.getElementById(id);
      if (!el || shown[id] === html) continue; // unchanged: keep focus and open details
      const open = [...el.querySelectorAll("details[open]")].length > 0;
      el.innerHTML = html;
      el.querySelectorAll('input[name="csrf"]').forEach((input) => { input.value = csrf; });
      if (open) el.querySelectorAll("details").forEach((d) => { d.open = true; });
      shown[id] = html;
    }
    updated.textContent = data.at;
  }

  async function pollOnce() {
    const answer = await fetch("/dashboard/live", { credentials: "same-origin" });
    if (answer.status === 401) {
      window.location.assign("/dashboard/login");
      return;
    }
    if (answer.ok) apply(await answer.json());
  }

  function connect() {
    source = new EventSource("/dashboard/stream");
    source.addEventListener("live", (event) => {
      setState("● Live", "live");
      apply(JSON.parse(event.data));
    });
    source.addEventListener("signed_out", () => window.location.assign("/dashboard/login"));
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) {
        setState("◌ Reconnecting…", "down");
        return;
      }
      // The server refused the stream (signed out?) or is gone: poll, then try again.
      setState("✕ Disconnected, retrying", "down");
      pollOnce().catch(() => {}).finally(() => setTimeout(connect, 5000));
    });
  }

  connect();
})();
