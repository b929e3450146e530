/* The holder's page (sync_server/dashboard/holder.py): draws the ticket's rotating code.
 *
 * Code = "EGR1:" RKID ":" TS ":" OTP ":" EG1-credential (docs/credential-format.md, section 9),
 * TS the start of the current step in seconds, OTP the 8-digit TOTP (RFC 6238, HMAC-SHA-1) of
 * step TS div period under the right's secret: the browser's own HMAC (WebCrypto), the QR
 * drawn by qrcode-generator (vendored) in alphanumeric mode, error correction M.
 * Time: the phone's clock corrected by the server's (measured here, kept for offline use).
 */
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("holder-data").textContent);
  var OFFSET_KEY = "entrix-clock-offset";
  var box = document.getElementById("code");
  var bar = document.getElementById("left");
  var clockNote = document.getElementById("clock");
  var offlineNote = document.getElementById("offline");
  var endedNote = document.getElementById("ended");
  var offsetMs = Number(localStorage.getItem(OFFSET_KEY) || 0);
  var shownStep = null;
  var dead = false;
  if (!window.isSecureContext || !window.crypto || !crypto.subtle) {
    /* WebCrypto exists on https:// (and localhost) pages only: say so rather than show nothing. */
    endedNote.textContent = data.words.holder_needs_https;
    endedNote.hidden = false;
    return;
  }
  var keyPromise = crypto.subtle.importKey(
    "raw", hexBytes(data.secret), { name: "HMAC", hash: "SHA-1" }, false, ["sign"]
  );

  function hexBytes(hex) {
    var out = new Uint8Array(hex.length / 2);
    for (var i = 0; i < out.length; i++) out[i] = parseInt(hex.substr(i * 2, 2), 16);
    return out;
  }

  function totp(key, step) {
    var counter = new Uint8Array(8);
    var value = step;
    for (var i = 7; i >= 0; i--) { counter[i] = value % 256; value = Math.floor(value / 256); }
    return crypto.subtle.sign("HMAC", key, counter).then(function (mac) {
      var h = new Uint8Array(mac);
      var at = h[h.length - 1] & 15;
      var bin = ((h[at] & 127) << 24) | (h[at + 1] << 16) | (h[at + 2] << 8) | h[at + 3];
      var text = String(bin % Math.pow(10, data.digits));
      while (text.length < data.digits) text = "0" + text;
      return text;
    });
  }

  function draw(text) {
    var qr = qrcode(0, "M");
    qr.addData(text, "Alphanumeric");
    qr.make();
    var n = qr.getModuleCount();
    var quiet = 4;
    var path = [];
    for (var row = 0; row < n; row++) {
      for (var col = 0; col < n; col++) {
        if (qr.isDark(row, col)) path.push("M" + (col + quiet) + " " + (row + quiet) + "h1v1h-1z");
      }
    }
    var ns = "http://www.w3.org/2000/svg";
    var svg = document.createElementNS(ns, "svg");
    var size = n + 2 * quiet;
    svg.setAttribute("viewBox", "0 0 " + size + " " + size);
    svg.setAttribute("shape-rendering", "crispEdges");
    var ground = document.createElementNS(ns, "rect");
    ground.setAttribute("width", size);
    ground.setAttribute("height", size);
    ground.setAttribute("fill", "#ffffff");
    var modules = document.createElementNS(ns, "path");
    modules.setAttribute("d", path.join(""));
    modules.setAttribute("fill", "#000000");
    svg.appendChild(ground);
    svg.appendChild(modules);
    box.replaceChildren(svg);
    box.setAttribute("data-code", text);
  }

  function tick() {
    if (dead) return;
    var nowMs = Date.now() + offsetMs;
    var period = data.period_s;
    var step = Math.floor(nowMs / 1000 / period);
    var left = period - (nowMs / 1000) % period;
    bar.style.transform = "scaleX(" + (left / period).toFixed(3) + ")";
    if (step === shownStep) return;
    shownStep = step;
    keyPromise.then(function (key) { return totp(key, step); }).then(function (otp) {
      if (dead || step !== shownStep) return;
      draw(["EGR1", data.rkid, String(step * period), otp, data.credential].join(":"));
    });
  }

  function spell(ms) {
    var s = Math.round(Math.abs(ms) / 1000);
    var m = Math.floor(s / 60);
    var seconds = data.ages.age_s.replace("{n}", String(s % 60));
    return m ? data.ages.age_min.replace("{n}", String(m)) + " " + seconds : seconds;
  }

  function showClock() {
    var off = -offsetMs;  /* the phone's clock minus the server's */
    if (Math.abs(off) < data.period_s * 1000) { clockNote.hidden = true; return; }
    var words = off > 0 ? data.words.holder_clock_ahead : data.words.holder_clock_behind;
    clockNote.textContent = words.replace("{by}", spell(off));
    clockNote.hidden = false;
  }

  function end() {
    dead = true;
    box.replaceChildren();
    box.removeAttribute("data-code");
    endedNote.textContent = data.words.holder_dead;
    endedNote.hidden = false;
    if (window.caches) forget();
  }

  function forget() {
    /* This ticket's pages only: the phone may hold other tickets' pages. */
    caches.open("entrix-holder-pages").then(function (cache) {
      return cache.keys().then(function (requests) {
        requests.forEach(function (request) {
          if (new URL(request.url).pathname === location.pathname) cache.delete(request);
        });
      });
    });
  }

  function askClock() {
    var sent = Date.now();
    fetch(data.clock_url, { cache: "no-store" }).then(function (response) {
      if (response.status === 410 || response.status === 404) { end(); return null; }
      return response.ok ? response.json() : null;
    }).then(function (answer) {
      if (!answer) return;
      var back = Date.now();
      offsetMs = Math.round(answer.now_ms - (sent + back) / 2);
      localStorage.setItem(OFFSET_KEY, String(offsetMs));
      offlineNote.hidden = true;
      shownStep = null;
      showClock();
      tick();
    }).catch(function () {
      offlineNote.textContent = data.words.holder_offline;
      offlineNote.hidden = false;
    });
  }

  function keepAwake() {
    if (navigator.wakeLock && document.visibilityState === "visible") {
      navigator.wakeLock.request("screen").catch(function () {});
    }
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/t/sw.js", { scope: "/t/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function () {
      /* This page, kept by the worker: it opens again with the network off. */
      return caches.open("entrix-holder-pages").then(function (cache) {
        return cache.add(location.pathname + location.search);
      });
    }).catch(function () {});
  }
  document.addEventListener("visibilitychange", function () {
    keepAwake();
    if (document.visibilityState === "visible") askClock();
  });
  window.addEventListener("online", askClock);
  window.addEventListener("offline", function () {
    offlineNote.textContent = data.words.holder_offline;
    offlineNote.hidden = false;
  });
  showClock();
  tick();
  askClock();
  keepAwake();
  setInterval(tick, 250);
  setInterval(askClock, data.clock_every_s * 1000);
})();
