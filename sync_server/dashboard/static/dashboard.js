// Keeps the dashboard live: the server pushes the live sections over server-sent events. The
// first push carries every section, the next ones only what changed: gate tiles that moved (by
// their data-gate key) and the sections whose HTML changed. This script swaps them in, gives
// their forms this page's CSRF token, and keeps every age ("il y a 12 s") counting, in the
// page's language: the words come from the server's (data-words on the board).
"use strict";
(() => {
  const csrf = document.querySelector('meta[name="csrf-token"]').content;
  const conn = document.getElementById("conn");
  const updated = document.getElementById("updated");
  const words = JSON.parse(document.querySelector("main.board").dataset.words || "{}");
  const shown = {};
  let source = null;
  // The server's clock minus this browser's: ages are counted on the server's time.
  let offsetMs = Number(updated.dataset.nowMs || Date.now()) - Date.now();

  function setState(text, cls) {
    conn.textContent = text;
    conn.className = cls;
  }

  function say(template, values) {
    return template.replace(/\{(\w+)\}/g, (_, name) => String(values[name]));
  }

  // The same words and steps as the server's shared.i18n.ago_text().
  function age(ms) {
    const seconds = Math.max(0, Math.floor((Date.now() + offsetMs - ms) / 1000));
    let short;
    if (seconds < 120) short = say(words.age_s, { n: seconds });
    else if (seconds < 2 * 3600) short = say(words.age_min, { n: Math.floor(seconds / 60) });
    else short = say(words.age_h, { n: Math.floor(seconds / 3600) });
    return say(words.ago, { age: short });
  }

  function tick(root) {
    root.querySelectorAll("time.ago[data-ms]").forEach((el) => {
      const text = age(Number(el.dataset.ms));
      if (el.textContent !== text) el.textContent = text;
    });
  }

  function fill(el) {
    el.querySelectorAll('input[name="csrf"]').forEach((input) => { input.value = csrf; });
    tick(el);
  }

  function apply(data) {
    let missing = false;
    for (const [id, html] of Object.entries(data.parts)) {
      const el = document.getElementById(id);
      if (!el || shown[id] === html) continue; // unchanged: keep focus and open details
      const open = [...el.querySelectorAll("details[open]")].length > 0;
      el.innerHTML = html;
      fill(el);
      if (open) el.querySelectorAll("details").forEach((d) => { d.open = true; });
      shown[id] = html;
    }
    for (const [key, html] of Object.entries(data.tiles || {})) {
      const tile = document.querySelector(`li[data-gate="${CSS.escape(key)}"]`);
      if (!tile) { missing = true; continue; }
      const template = document.createElement("template");
      template.innerHTML = html.trim();
      const fresh = template.content.firstElementChild;
      fill(fresh);
      tile.replaceWith(fresh);
      delete shown.gates; // the section now differs from the last one sent whole
    }
    if (data.now_ms) offsetMs = data.now_ms - Date.now();
    updated.textContent = data.at;
    if (missing) pollOnce().catch(() => {}); // a tile we never had: fetch every section
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
      setState(words.live, "live");
      apply(JSON.parse(event.data));
    });
    source.addEventListener("signed_out", () => window.location.assign("/dashboard/login"));
    source.addEventListener("error", () => {
      if (source.readyState !== EventSource.CLOSED) {
        setState(words.reconnecting, "down");
        return;
      }
      // The server refused the stream (signed out?) or is gone: poll, then try again.
      setState(words.disconnected, "down");
      pollOnce().catch(() => {}).finally(() => setTimeout(connect, 5000));
    });
  }

  tick(document);
  setInterval(() => tick(document), 1000);
  connect();
})();
