/* The holder pages' service worker (scope /t/): a ticket's page and its scripts open again
 * with the network off. Network first, so a live page is always the server's latest and a
 * dead link (404, 410) is forgotten at once; the kept copy only when the network fails. */
"use strict";
var PAGES = "entrix-holder-pages";
var ASSETS = "entrix-holder-assets-1";
var ASSET_URLS = [
  "/dashboard/static/holder.js",
  "/dashboard/static/holder.css",
  "/dashboard/static/vendor/qrcode-generator-2.0.4.js",
  "/dashboard/static/favicon.svg"
];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(ASSETS).then(function (cache) {
    return cache.addAll(ASSET_URLS);
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (names) {
    return Promise.all(names.filter(function (name) {
      return name.indexOf("entrix-holder-assets-") === 0 && name !== ASSETS;
    }).map(function (name) { return caches.delete(name); }));
  }).then(function () { return self.clients.claim(); }));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (/\/clock$/.test(url.pathname) || url.pathname === "/t/sw.js") return;  /* always asked */
  var isPage = url.pathname.indexOf("/t/") === 0;
  var store = isPage ? PAGES : ASSETS;
  event.respondWith(caches.open(store).then(function (cache) {
    return fetch(request).then(function (response) {
      if (response.ok) {
        cache.put(request, response.clone());
      } else if (isPage && (response.status === 404 || response.status === 410)) {
        forget(cache, url.pathname);
      }
      return response;
    }).catch(function (error) {
      return cache.match(request).then(function (kept) {
        if (kept) return kept;
        throw error;
      });
    });
  }));
});

function forget(cache, pathname) {
  return cache.keys().then(function (requests) {
    return Promise.all(requests.filter(function (request) {
      return new URL(request.url).pathname === pathname;
    }).map(function (request) { return cache.delete(request); }));
  });
}
