/* The verify page's service worker (served as /verify/sw.js, with the scope /verify).

   Keeps what the page needs to check certificates without a connection: the page itself, its
   scripts and styles, and the three lists it checks against (trust list, revocation list,
   SMART Health Cards keys). The page and the lists: from the network when there is one (and
   the copy kept here refreshed), else the copy. Static files: the copy kept here, refreshed in
   the background. POSTs (the form without JavaScript) and everything else go to the network. */
"use strict";
var CACHE = "cowin-kit-verify-v1";

function at(path) { return new URL(path, self.location).href; }

var PAGE = at("../verify");
var STATIC = ["site.css", "site.js", "portal.css", "verify.css", "verify.js",
  "vendor/jsQR.min.js"].map(function (name) { return at("../static/" + name); });
var LISTS = ["../certificates/trust-list.json", "../certificates/revocation-list.json",
  "../.well-known/jwks.json"].map(at);

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    // The scripts must be kept; the page and lists are kept when they answer (a deployment
    // without signing keys answers 503 for the trust list, and the page says so).
    return cache.addAll(STATIC).then(function () {
      return Promise.all([PAGE].concat(LISTS).map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          return response.ok ? cache.put(url, response) : null;
        })["catch"](function () { return null; });
      }));
    });
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener("activate", function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) {
      return k.indexOf("cowin-kit-verify-") === 0 && k !== CACHE;
    }).map(function (k) { return caches["delete"](k); }));
  }).then(function () { return self.clients.claim(); }));
});

// Vary (e.g. Cookie, the page's session) is ignored: the kept copy is this browser's own.
var MATCH = { ignoreVary: true };

function networkFirst(request, alsoAs) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected) {
      var copies = [request].concat(alsoAs ? [alsoAs] : []).map(function (key) {
        return [key, response.clone()];
      });
      caches.open(CACHE).then(function (cache) {
        copies.forEach(function (copy) { cache.put(copy[0], copy[1]); });
      });
      return response;
    }
    return caches.match(alsoAs || request, MATCH).then(function (hit) { return hit || response; });
  })["catch"](function () {
    return caches.match(request, MATCH).then(function (hit) {
      return hit || (alsoAs ? caches.match(alsoAs, MATCH) : null);
    }).then(function (hit) { return hit || Response.error(); });
  });
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") { return; }
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) { return; }
  var bare = url.origin + url.pathname;
  if (request.mode === "navigate" && bare === PAGE) {
    // Kept as asked (?lang=…) and as the bare page, the language last chosen.
    event.respondWith(networkFirst(request, PAGE));
    return;
  }
  if (LISTS.indexOf(bare) >= 0) {
    event.respondWith(networkFirst(request));
    return;
  }
  if (STATIC.indexOf(bare) >= 0) {
    event.respondWith(caches.match(request, { ignoreSearch: true, ignoreVary: true }).then(function (hit) {
      var fresh = fetch(request).then(function (response) {
        if (response.ok) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) { cache.put(bare, copy); });
        }
        return response;
      })["catch"](function () { return hit || Response.error(); });
      return hit || fresh;
    }));
  }
});
