/* The vaccinator's today page, through a dropped connection (no framework).

   - Today's queue (GET queue.json) is kept in IndexedDB; without a connection the page shows
     the copy kept on the phone.
   - Without a connection, tapping a person opens a small form on this page; the recording
     (with its idempotency key, made when the form was shown, and the moment tapped) is kept
     in IndexedDB, as is one whose sending failed for network reasons.
   - The kept recordings are sent when the connection returns ('online' event, and a timer),
     oldest first. One leaves the phone only when the server answers 201 (recorded) or 200
     (recorded before: the key makes re-sending safe). A refusal (409: the person was
     vaccinated elsewhere meanwhile; 400, 403, 404) is kept under "Needs attention" until the
     vaccinator marks it dealt with: never dropped silently.
   - A service worker (/staff/sw.js) keeps the page and its files for offline reloads. */
(function () {
  "use strict";
  var root = document.getElementById("today");
  if (!root) { return; }
  var DB_NAME = "cowin-kit-vaccinate";
  var RETRY_MS = 20000;
  var csrf = root.dataset.csrf;
  var queueData = null;
  var syncing = false;
  var current = null;  // the recording being made in the offline form
  var loggedOut = false;  // the server said the login has ended (401)

  function text(name, params) {
    var key = "t" + name.split("-").map(function (p) {
      return p.charAt(0).toUpperCase() + p.slice(1);
    }).join("");
    var value = root.dataset[key] || name;
    Object.keys(params || {}).forEach(function (k) {
      value = value.split("%(" + k + ")s").join(String(params[k]));
    });
    return value;
  }

  // --- IndexedDB -------------------------------------------------------------------------
  var dbPromise = null;
  function openDb() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var req = indexedDB.open(DB_NAME, 1);
        req.onupgradeneeded = function () {
          req.result.createObjectStore("queue", { keyPath: "facility" });
          req.result.createObjectStore("recordings", { keyPath: "idempotency_key" });
        };
        req.onsuccess = function () { resolve(req.result); };
        req.onerror = function () { reject(req.error); };
      });
    }
    return dbPromise;
  }
  function store(name, mode, work) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(name, mode);
        var result = work(tx.objectStore(name));
        tx.oncomplete = function () { resolve(result && "result" in result ? result.result : result); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function allRecordings() {
    return store("recordings", "readonly", function (s) { return s.getAll(); })
      .then(function (items) {
        return items.sort(function (a, b) { return a.given_at < b.given_at ? -1 : 1; });
      });
  }
  function putRecording(item) {
    return store("recordings", "readwrite", function (s) { s.put(item); });
  }
  function dropRecording(key) {
    return store("recordings", "readwrite", function (s) { s["delete"](key); });
  }

  // --- the queue -------------------------------------------------------------------------
  function loadQueue() {
    return fetch(root.dataset.queueUrl, { credentials: "same-origin",
                                          headers: { Accept: "application/json" } })
      .then(function (r) {
        var type = r.headers.get("content-type") || "";
        if (!r.ok || type.indexOf("json") < 0) { throw new Error("no queue"); }
        return r.json();
      })
      .then(function (data) {
        csrf = data.csrf_token || csrf;
        data.facility_key = root.dataset.facility;
        data.saved_at = new Date().toISOString();
        queueData = data;
        return store("queue", "readwrite", function (s) {
          s.put({ facility: root.dataset.facility, data: data });
        }).then(function () { return false; });
      })
      ["catch"](function () {
        return store("queue", "readonly", function (s) { return s.get(root.dataset.facility); })
          .then(function (row) { if (row) { queueData = row.data; } return true; });
      });
  }

  function entryById(id) {
    if (!queueData) { return null; }
    for (var i = 0; i < queueData.sessions.length; i++) {
      var session = queueData.sessions[i];
      for (var j = 0; j < session.queue.length; j++) {
        if (session.queue[j].appointment_id === id) {
          return { session: session, entry: session.queue[j] };
        }
      }
    }
    return null;
  }

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function renderQueue(pendingIds) {
    if (!queueData) { return; }
    queueData.sessions.forEach(function (session) {
      var section = root.querySelector('section[data-session="' + session.session_id + '"]');
      var list = section && section.querySelector("ul.queue");
      if (!list) { return; }
      Object.keys(session.counts || {}).forEach(function (name) {
        var count = section.querySelector('[data-count="' + name + '"]');
        if (count) { count.textContent = String(session.counts[name]); }
      });
      list.textContent = "";
      session.queue.forEach(function (e) {
        var pending = pendingIds.indexOf(e.appointment_id) >= 0;
        var state = pending ? text("waiting") : text("status-" + e.status);
        var link = el("a", { href: root.dataset.appointmentUrl.replace("APPOINTMENT", e.appointment_id),
                             "data-appointment": e.appointment_id }, [
          el("span", { "class": "who" }, [el("bdi", {}, [e.name])]),
          el("span", { "class": "meta" }, [el("span", { dir: "ltr" }, [e.slot]), " · ",
            text("dose", { n: e.booked_dose }), " · ", el("span", { "class": "state" }, [state])])
        ]);
        list.appendChild(el("li", { "class": "entry status-" + e.status + (pending ? " pending" : "") },
                            [link]));
      });
    });
  }

  // --- what is kept on the phone ---------------------------------------------------------
  function render() {
    return allRecordings().then(function (items) {
      var pending = items.filter(function (i) { return i.state === "pending"; });
      var attention = items.filter(function (i) { return i.state === "attention"; });
      var box = document.getElementById("sync");
      var offline = !navigator.onLine;
      box.hidden = !(pending.length || attention.length || offline);
      box.classList.toggle("all-sent", !pending.length && !attention.length);
      var status = pending.length ? text("pending", { n: pending.length })
        : text("none-pending");
      var note = offline ? text("offline") : "";
      if (loggedOut && pending.length) { note = text("login"); }
      document.getElementById("sync-status").textContent = status;
      document.getElementById("sync-note").textContent = note;
      document.getElementById("sync-note").hidden = !note;
      var list = document.getElementById("pending-list");
      list.textContent = "";
      pending.forEach(function (i) {
        list.appendChild(el("li", {}, [el("bdi", {}, [i.name]), " · ", text("dose", { n: i.dose }),
          " · ", el("time", { datetime: i.given_at }, [new Date(i.given_at).toLocaleTimeString()]),
          " · ", text("waiting")]));
      });
      var alist = document.getElementById("attention-list");
      alist.textContent = "";
      attention.forEach(function (i) {
        var button = el("button", { type: "button" }, [text("dismiss")]);
        button.addEventListener("click", function () {
          dropRecording(i.idempotency_key).then(render);
        });
        alist.appendChild(el("li", {}, [el("bdi", {}, [i.name]), " · ", text("dose", { n: i.dose }),
          el("span", { "class": "message" }, [i.message]), button]));
      });
      document.getElementById("attention").hidden = !attention.length;
      renderQueue(pending.map(function (i) { return i.appointment_id; }));
    });
  }

  function send(item) {
    return fetch(root.dataset.dosesUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", Accept: "application/json",
                 "X-CSRFToken": csrf },
      body: JSON.stringify({ appointment_id: item.appointment_id, lot_id: item.lot_id,
                             site: item.site, given_at: item.given_at,
                             idempotency_key: item.idempotency_key })
    }).then(function (r) {
      var type = r.headers.get("content-type") || "";
      if (type.indexOf("json") < 0) { return { keep: true, stop: true }; }
      return r.json().then(function (data) {
        loggedOut = r.status === 401;
        if (r.status === 201 || r.status === 200) { return { done: true }; }
        if (r.status === 401 || data.code === "csrf" || r.status >= 500 || r.status === 429) {
          return { keep: true, stop: true, refresh: data.code === "csrf", message: data.message };
        }
        return { attention: true, message: data.message || String(r.status) };
      });
    }, function () { return { keep: true, stop: true }; });  // the network failed: keep it
  }

  function sync() {
    if (syncing) { return Promise.resolve(); }
    syncing = true;
    return allRecordings().then(function (items) {
      var pending = items.filter(function (i) { return i.state === "pending"; });
      if (!pending.length || !navigator.onLine) { return null; }
      var sent = 0;
      var next = function (k) {
        if (k >= pending.length) { return Promise.resolve(); }
        var item = pending[k];
        return send(item).then(function (outcome) {
          if (outcome.done) { sent++; return dropRecording(item.idempotency_key).then(function () { return next(k + 1); }); }
          if (outcome.attention) {
            item.state = "attention";
            item.message = outcome.message;
            return putRecording(item).then(function () { return next(k + 1); });
          }
          if (outcome.refresh) { return loadQueue(); }
          return null;  // stop: try again later
        });
      };
      return loadQueue().then(function () { return next(0); }).then(function () {
        return sent ? loadQueue() : null;
      });
    }).then(render, render).then(function () { syncing = false; },
                                 function () { syncing = false; });
  }

  // --- the offline form ------------------------------------------------------------------
  var section = document.getElementById("offline-record");
  var form = document.getElementById("offline-form");
  var errorBox = document.getElementById("offline-error");

  function uuid4() {
    if (window.crypto && crypto.randomUUID) { return crypto.randomUUID(); }
    var b = new Uint8Array(16);
    crypto.getRandomValues(b);
    b[6] = (b[6] & 15) | 64; b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  function openForm(found) {
    var e = found.entry;
    current = { appointment_id: e.appointment_id, name: e.name,
                dose: e.next_dose || e.booked_dose, idempotency_key: uuid4() };
    var who = document.getElementById("offline-who");
    who.textContent = "";
    [["label-name", [e.name]], ["label-born", [String(e.birth_year)]],
     ["label-id", [e.id_type, " ", el("span", { dir: "ltr" }, [e.id_masked])]],
     ["label-vaccine", [found.session.product, " · ", text("dose", { n: current.dose })]]
    ].forEach(function (row) {
      who.appendChild(el("div", {}, [el("dt", {}, [text(row[0])]), el("dd", {}, row[1].map(function (p) {
        return typeof p === "string" ? el("bdi", {}, [p]) : p;
      }))]));
    });
    var select = document.getElementById("offline-lot");
    select.textContent = "";
    found.session.lots.forEach(function (lot) {
      select.appendChild(el("option", { value: String(lot.id) }, [lot.lot_number + " (" + lot.expires_on + ")"]));
    });
    form.reset();
    errorBox.hidden = true;
    if (!found.session.lots.length) { errorBox.textContent = text("no-lot"); errorBox.hidden = false; }
    section.hidden = false;
    document.getElementById("offline-title").focus();
    section.scrollIntoView();
  }

  root.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[data-appointment]");
    if (!link || navigator.onLine) { return; }
    var found = entryById(link.dataset.appointment);
    if (!found) { return; }
    event.preventDefault();
    openForm(found);
  });

  // Without a connection, the secret code is checked against the queue kept on the phone
  // (which holds a hash of each code, not the codes).
  function sha256hex(value) {
    return crypto.subtle.digest("SHA-256", new TextEncoder().encode(value)).then(function (buf) {
      return Array.prototype.map.call(new Uint8Array(buf), function (x) {
        return (x + 256).toString(16).slice(1);
      }).join("");
    });
  }
  var findForm = document.getElementById("find-code-form");
  var findError = document.getElementById("find-error");
  findForm.addEventListener("submit", function (event) {
    if (navigator.onLine || !queueData || !(window.crypto && crypto.subtle)) { return; }
    event.preventDefault();
    var reference = findForm.elements.reference.value.replace(/\s/g, "");
    var code = findForm.elements.code.value.replace(/\s/g, "");
    var found = null;
    queueData.sessions.forEach(function (session) {
      session.queue.forEach(function (e) {
        if (e.reference_id === reference && e.status !== "done") { found = { session: session, entry: e }; }
      });
    });
    findError.hidden = true;
    if (!found) {
      findError.textContent = text("no-match", { reference: reference });
      findError.hidden = false;
      return;
    }
    sha256hex(found.entry.appointment_id + ":" + code).then(function (hex) {
      if (hex !== found.entry.code_check) {
        findError.textContent = text("bad-code");
        findError.hidden = false;
        return;
      }
      findForm.reset();
      openForm(found);
    });
  });

  document.getElementById("offline-cancel").addEventListener("click", function () {
    section.hidden = true;
    current = null;
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!current) { return; }
    var lot = form.elements.lot.value;
    var site = form.querySelector('input[name="site"]:checked');
    if (!lot || !site) {
      errorBox.textContent = !lot ? text("no-lot") : (form.querySelector("legend").textContent);
      errorBox.hidden = false;
      return;
    }
    var item = { idempotency_key: current.idempotency_key, appointment_id: current.appointment_id,
                 lot_id: Number(lot), site: site.value, given_at: new Date().toISOString(),
                 name: current.name, dose: current.dose, state: "pending" };
    current = null;
    section.hidden = true;
    putRecording(item).then(render).then(sync);
  });

  // --- start -----------------------------------------------------------------------------
  if ("serviceWorker" in navigator && root.dataset.swUrl) {
    navigator.serviceWorker.register(root.dataset.swUrl).then(function () {
      // Keep this page for offline reloads (the worker refreshes it on each visit).
      if (window.caches && navigator.onLine) {
        caches.open("cowin-kit-vaccinate-v1").then(function (c) { return c.add(location.href); })
          ["catch"](function () { return null; });
      }
    })["catch"](function () { return null; });
  }
  window.addEventListener("online", sync);
  window.addEventListener("offline", render);
  setInterval(sync, RETRY_MS);
  loadQueue().then(render).then(sync);
}());
