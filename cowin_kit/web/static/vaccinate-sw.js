/* The vaccinator's service worker (served as /staff/sw.js: its scope is /staff/).

   Keeps the today page and the site's static files, so that the page opens without a
   connection: the page first from the network (a fresh queue), else the copy kept here; an
   appointment's page without a connection falls back to the today page (which records
   offline). Static files: the copy kept here, refreshed in the background. Nothing else is
   touched: POSTs and JSON go to the network, and the page keeps what could not be sent. */
"use strict";
var CACHE = "cowin-kit-vaccinate-v1";
var STATIC = ["site.css", "site.js", "staff.css", "vaccinate.css", "vaccinate.js"];

function staticUrl(name) { return new URL("../static/" + name, self.location).href; }
function todayUrl() { return new URL("today", self.registration.scope).href; }

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return cache.addAll(STATIC.map(staticUrl));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k !== CACHE; })
      .map(function (k) { return caches["delete"](k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isToday(url) {
  return url.pathname === new URL(todayUrl()).pathname;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  if (request.mode === "navigate" && url.pathname.indexOf(new URL(self.registration.scope).pathname + "today") === 0) {
    event.respondWith(fetch(request).then(function (response) {
      if (response.ok && isToday(url) && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
      }
      return response;
    })["catch"](function () {
      return caches.match(request).then(function (hit) {
        return hit || caches.match(todayUrl(), { ignoreSearch: true });
      }).then(function (hit) { return hit || Response.error(); });
    }));
    return;
  }
  if (url.pathname.indexOf(new URL(staticUrl("")).pathname) === 0) {
    event.respondWith(caches.match(request).then(function (hit) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(request, copy); });
        }
        return response;
      })["catch"](function () { return hit || Response.error(); });
      return hit || fresh;
    }));
  }
});
