/* The verify page: checks a vaccination certificate's QR code in the browser, so that after
   a first visit it works without a connection (static/verify-sw.js keeps the page, this
   script and the lists).

   - EU DCC (HC1): "HC1:" prefix, Base45, zlib (DecompressionStream "deflate"), CBOR,
     COSE_Sign1 (tag 18, CWT tag 61 around it, or untagged; kid in the protected or the
     unprotected header, protected first), ES256 or PS256 (WebCrypto) against the trust list
     (/certificates/trust-list.json: kid, publicKey as SubjectPublicKeyInfo, keyUsage,
     notBefore, notAfter); dates: signer notBefore <= iat <= now <= exp <= signer notAfter;
     the DSC's EU DCC key usage for the certificate's type; revocation: base64 of the first
     16 bytes of SHA-256 of the UVCI (ci) among the revocation list's hashes.
   - SMART Health Cards: "shc:/" numeric (or the JWS as such, or a .smart-health-card file),
     raw DEFLATE payload, ES256 against the issuer's JWK Set (this deployment's
     /.well-known/jwks.json, for iss = its public address), nbf/exp, rid revocation.

   Nothing here throws at the reader: every bad input ends as "not valid" with a reason, in
   the page's language (the words come from the page's data-config, rendered by the server).
   Certificate contents are put in the page as text, never as markup.
   window.CowinVerify.verify(text, store, options) is the check itself (tests call it). */
(function () {
  "use strict";

  var DCC_USAGE = ["1.3.6.1.4.1.1847.2021.1.", "1.3.6.1.4.1.0.1847.2021.1."];
  var USAGE_OF_KIND = { t: "1", v: "2", r: "3" };
  var MAX_INFLATED = 1 << 20; // a certificate is a few kilobytes; refuse zip bombs
  var SKEW_SECONDS = 300; // a phone's clock a few minutes off still accepts a new certificate

  function Fail(reason, detail, params) {
    this.reason = reason;
    this.detail = detail || "";
    this.params = params || {};
  }

  // --- bytes ---------------------------------------------------------------------------------

  function b64ToBytes(text) {
    var s = String(text).replace(/-/g, "+").replace(/_/g, "/").replace(/\s+/g, "");
    while (s.length % 4) { s += "="; }
    var bin = atob(s);
    var out = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) { out[i] = bin.charCodeAt(i); }
    return out;
  }

  function bytesToB64(bytes) {
    var bin = "";
    for (var i = 0; i < bytes.length; i++) { bin += String.fromCharCode(bytes[i]); }
    return btoa(bin);
  }

  function utf8(bytes) { return new TextDecoder("utf-8").decode(bytes); }

  function concat(parts) {
    var size = parts.reduce(function (n, p) { return n + p.length; }, 0);
    var out = new Uint8Array(size);
    var at = 0;
    parts.forEach(function (p) { out.set(p, at); at += p.length; });
    return out;
  }

  // --- Base45 (RFC 9285) ---------------------------------------------------------------------

  var B45 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:";

  function base45(text) {
    if (text.length % 3 === 1) { throw new Fail("damaged", "Base45: length " + text.length); }
    var out = new Uint8Array(Math.floor(text.length / 3) * 2 + (text.length % 3 ? 1 : 0));
    var o = 0;
    for (var i = 0; i < text.length; i += 3) {
      var digits = [];
      for (var j = i; j < Math.min(i + 3, text.length); j++) {
        var d = B45.indexOf(text.charAt(j));
        if (d < 0) { throw new Fail("damaged", "Base45: character " + (j + 1)); }
        digits.push(d);
      }
      var n = digits[0] + digits[1] * 45 + (digits.length === 3 ? digits[2] * 2025 : 0);
      if (digits.length === 3) {
        if (n > 0xffff) { throw new Fail("damaged", "Base45: value at " + (i + 1)); }
        out[o++] = n >> 8;
        out[o++] = n & 0xff;
      } else {
        if (n > 0xff) { throw new Fail("damaged", "Base45: value at " + (i + 1)); }
        out[o++] = n;
      }
    }
    return out;
  }

  // --- DEFLATE -------------------------------------------------------------------------------

  function inflate(bytes, format, what) {
    var stream;
    try {
      stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream(format));
    } catch (e) {
      return Promise.reject(new Fail("browser", "DecompressionStream " + format));
    }
    var reader = stream.getReader();
    var parts = [];
    var size = 0;
    function next() {
      return reader.read().then(function (step) {
        if (step.done) { return concat(parts); }
        size += step.value.length;
        if (size > MAX_INFLATED) {
          reader.cancel().catch(function () {});
          throw new Fail("damaged", what + ": too large");
        }
        parts.push(step.value);
        return next();
      });
    }
    return next().catch(function (e) {
      if (e instanceof Fail) { throw e; }
      throw new Fail("damaged", what + ": " + (e && e.message ? e.message : "not compressed data"));
    });
  }

  // --- CBOR (RFC 8949), what COSE and the DCC use --------------------------------------------

  function Tagged(tag, value) { this.tag = tag; this.value = value; }
  var BREAK = {};

  function cbor(bytes) {
    var r = { b: bytes, p: 0 };
    var value = cborItem(r, 0);
    if (value === BREAK) { throw new Fail("damaged", "CBOR: unexpected break"); }
    if (r.p !== bytes.length) { throw new Fail("damaged", "CBOR: extra bytes"); }
    return value;
  }

  function need(r, n) {
    if (n > r.b.length - r.p) { throw new Fail("damaged", "CBOR: truncated"); }
  }

  function cborArg(r, info) {
    if (info < 24) { return info; }
    var size = { 24: 1, 25: 2, 26: 4, 27: 8 }[info];
    if (!size) { throw new Fail("damaged", "CBOR: reserved value " + info); }
    need(r, size);
    var n = 0;
    for (var i = 0; i < size; i++) { n = n * 256 + r.b[r.p++]; }
    return n;
  }

  function cborFloat(r, size) {
    need(r, size);
    var view = new DataView(r.b.buffer, r.b.byteOffset + r.p, size);
    r.p += size;
    if (size === 4) { return view.getFloat32(0); }
    if (size === 8) { return view.getFloat64(0); }
    var h = view.getUint16(0);
    var exp = (h >> 10) & 0x1f, frac = h & 0x3ff, sign = h & 0x8000 ? -1 : 1;
    if (exp === 0) { return sign * Math.pow(2, -14) * (frac / 1024); }
    if (exp === 31) { return frac ? NaN : sign * Infinity; }
    return sign * Math.pow(2, exp - 15) * (1 + frac / 1024);
  }

  function cborKey(key) {
    if (key instanceof Uint8Array) { return "h'" + bytesToB64(key) + "'"; }
    return String(key);
  }

  function cborItem(r, depth) {
    if (depth > 32) { throw new Fail("damaged", "CBOR: nested too deep"); }
    need(r, 1);
    var first = r.b[r.p++];
    var major = first >> 5, info = first & 0x1f;
    if (major === 7) {
      if (info === 20) { return false; }
      if (info === 21) { return true; }
      if (info === 22) { return null; }
      if (info === 23) { return undefined; }
      if (info === 25) { return cborFloat(r, 2); }
      if (info === 26) { return cborFloat(r, 4); }
      if (info === 27) { return cborFloat(r, 8); }
      if (info === 31) { return BREAK; }
      if (info < 24) { return { simple: info }; }
      if (info === 24) { need(r, 1); return { simple: r.b[r.p++] }; }
      throw new Fail("damaged", "CBOR: bad simple value");
    }
    if (info === 31) { return cborIndefinite(r, major, depth); }
    if (info > 27) { throw new Fail("damaged", "CBOR: reserved value " + info); }
    var n = cborArg(r, info);
    switch (major) {
      case 0: return n;
      case 1: return -1 - n;
      case 2: need(r, n); r.p += n; return r.b.slice(r.p - n, r.p);
      case 3: need(r, n); r.p += n; return utf8(r.b.subarray(r.p - n, r.p));
      case 4: {
        if (n > r.b.length - r.p) { throw new Fail("damaged", "CBOR: truncated"); }
        var list = [];
        for (var i = 0; i < n; i++) {
          var item = cborItem(r, depth + 1);
          if (item === BREAK) { throw new Fail("damaged", "CBOR: unexpected break"); }
          list.push(item);
        }
        return list;
      }
      case 5: {
        if (n > r.b.length - r.p) { throw new Fail("damaged", "CBOR: truncated"); }
        var map = {};
        for (var k = 0; k < n; k++) {
          var key = cborItem(r, depth + 1);
          var value = cborItem(r, depth + 1);
          if (key === BREAK || value === BREAK) { throw new Fail("damaged", "CBOR: unexpected break"); }
          map[cborKey(key)] = value;
        }
        return map;
      }
      default: { // 6: a tag
        var tagged = cborItem(r, depth + 1);
        if (tagged === BREAK) { throw new Fail("damaged", "CBOR: unexpected break"); }
        return new Tagged(n, tagged);
      }
    }
  }

  function cborIndefinite(r, major, depth) {
    var item;
    if (major === 2 || major === 3) {
      var chunks = [];
      while ((item = cborItem(r, depth + 1)) !== BREAK) {
        if (major === 2 ? !(item instanceof Uint8Array) : typeof item !== "string") {
          throw new Fail("damaged", "CBOR: bad chunk");
        }
        chunks.push(item);
      }
      return major === 2 ? concat(chunks) : chunks.join("");
    }
    if (major === 4) {
      var list = [];
      while ((item = cborItem(r, depth + 1)) !== BREAK) { list.push(item); }
      return list;
    }
    if (major === 5) {
      var map = {};
      while ((item = cborItem(r, depth + 1)) !== BREAK) {
        var value = cborItem(r, depth + 1);
        if (value === BREAK) { throw new Fail("damaged", "CBOR: unexpected break"); }
        map[cborKey(item)] = value;
      }
      return map;
    }
    throw new Fail("damaged", "CBOR: bad indefinite length");
  }

  function cborHead(major, n) {
    if (n < 24) { return [(major << 5) | n]; }
    if (n < 0x100) { return [(major << 5) | 24, n]; }
    if (n < 0x10000) { return [(major << 5) | 25, n >> 8, n & 0xff]; }
    return [(major << 5) | 26, (n >>> 24) & 0xff, (n >> 16) & 0xff, (n >> 8) & 0xff, n & 0xff];
  }

  function bstr(bytes) { return concat([new Uint8Array(cborHead(2, bytes.length)), bytes]); }

  // COSE's Sig_structure: ["Signature1", protected, external_aad, payload].
  function sigStructure(protectedBytes, payload) {
    var context = new TextEncoder().encode("Signature1");
    return concat([new Uint8Array(cborHead(4, 4)),
      concat([new Uint8Array(cborHead(3, context.length)), context]),
      bstr(protectedBytes), bstr(new Uint8Array(0)), bstr(payload)]);
  }

  // --- the store: trust list, revocation list, issuers' keys ---------------------------------

  function normaliseStore(store) {
    store = store || {};
    var revocation = store.revocation || {};
    var issuers = {};
    Object.keys(store.issuers || {}).forEach(function (iss) {
      var entry = store.issuers[iss] || {};
      issuers[iss.replace(/\/+$/, "")] = {
        keys: (entry.keys || []).filter(function (k) { return k && typeof k === "object"; }),
        rids: new Set((entry.rids || []).map(String))
      };
    });
    return {
      dsc: (store.dsc || []).filter(function (e) { return e && typeof e === "object"; }),
      hashes: new Set((revocation.hashes || []).map(String)),
      issuers: issuers,
      ready: !!store.dsc
    };
  }

  // --- time ----------------------------------------------------------------------------------

  function seconds(date) { return Math.floor(date.getTime() / 1000); }

  function isoDate(secs) {
    try { return new Date(secs * 1000).toISOString().slice(0, 10); } catch (e) { return ""; }
  }

  function parseTime(text) {
    var ms = Date.parse(text);
    return isNaN(ms) ? null : Math.floor(ms / 1000);
  }

  // --- signatures ----------------------------------------------------------------------------

  function subtle() { return window.crypto && window.crypto.subtle; }

  function verifyCose(alg, spki, signature, data) {
    var s = subtle();
    if (alg === -7) {
      if (signature.length !== 64) { return Promise.resolve(false); }
      return s.importKey("spki", spki, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])
        .then(function (key) {
          return s.verify({ name: "ECDSA", hash: "SHA-256" }, key, signature, data);
        });
    }
    if (alg === -37) {
      return s.importKey("spki", spki, { name: "RSA-PSS", hash: "SHA-256" }, false, ["verify"])
        .then(function (key) {
          return s.verify({ name: "RSA-PSS", saltLength: 32 }, key, signature, data);
        });
    }
    return Promise.reject(new Fail("unsupported", "COSE alg " + alg));
  }

  function sha256(bytes) { return subtle().digest("SHA-256", bytes).then(function (d) { return new Uint8Array(d); }); }

  // --- HC1 -----------------------------------------------------------------------------------

  function dccKind(dcc) {
    var kinds = ["v", "t", "r"].filter(function (k) { return dcc[k] !== undefined; });
    return kinds.length === 1 ? kinds[0] : null;
  }

  var DATE = /^\d{4}-\d{2}-\d{2}/;

  // The schema's essentials: what this page shows and checks must be there and well formed.
  function schemaProblem(dcc) {
    if (!dcc || typeof dcc !== "object" || Array.isArray(dcc)) { return "hcert: no certificate"; }
    if (typeof dcc.ver !== "string" || !/^\d+\.\d+\.\d+$/.test(dcc.ver)) { return "ver"; }
    var nam = dcc.nam;
    if (!nam || typeof nam !== "object" || typeof nam.fnt !== "string" ||
        !/^[A-Z<]*$/.test(nam.fnt) || (nam.gnt !== undefined && !/^[A-Z<]*$/.test(nam.gnt))) {
      return "nam";
    }
    if (typeof dcc.dob !== "string" || !/^(\d{4}(-\d{2}(-\d{2})?)?)?$/.test(dcc.dob.slice(0, 10))) {
      return "dob";
    }
    var kind = dccKind(dcc);
    if (!kind) { return "one of v, t, r"; }
    var entries = dcc[kind];
    if (!Array.isArray(entries) || !entries.length) { return kind + ": no entry"; }
    var e = entries[0];
    if (!e || typeof e !== "object") { return kind + "[0]"; }
    var strings = { v: ["tg", "vp", "mp", "ma", "dt", "co", "is", "ci"],
      t: ["tg", "tt", "sc", "co", "is", "ci"], r: ["tg", "fr", "df", "du", "co", "is", "ci"] }[kind];
    for (var i = 0; i < strings.length; i++) {
      if (typeof e[strings[i]] !== "string") { return kind + "[0]." + strings[i]; }
    }
    if (kind === "v") {
      if (!Number.isInteger(e.dn) || !Number.isInteger(e.sd) || e.dn < 1 || e.sd < 1) {
        return "v[0].dn/sd";
      }
      if (!DATE.test(e.dt)) { return "v[0].dt"; }
    }
    if (!/^[A-Z]{2}$/.test(e.co)) { return kind + "[0].co"; }
    return null;
  }

  function keyUsageAllows(usages, kind) {
    var dcc = (usages || []).filter(function (u) {
      return DCC_USAGE.some(function (p) { return String(u).indexOf(p) === 0; });
    });
    if (!dcc.length) { return true; } // no DCC usage: the DSC may sign every type
    return dcc.some(function (u) {
      return DCC_USAGE.some(function (p) { return u === p + USAGE_OF_KIND[kind]; });
    });
  }

  function hc1(text, store, options) {
    var checks = { prefix: false };
    var result = { format: "HC1", checks: checks };
    checks.prefix = true; // verify() sent only "HC1:" texts here
    var raw;
    try { raw = base45(text.slice(4)); checks.base45 = true; }
    catch (e) { checks.base45 = false; e.result = result; throw e; }
    return inflate(raw, "deflate", "zlib").catch(function (e) {
      checks.zlib = false;
      e.result = result;
      throw e;
    }).then(function (coseBytes) {
      checks.zlib = true;
      var cose;
      try { cose = decodeCose(coseBytes); checks.cose = true; }
      catch (e) { checks.cose = false; e.result = result; throw e; }
      return checkCose(cose, store, options, result);
    });
  }

  function decodeCose(bytes) {
    var value = cbor(bytes);
    var tags = 0;
    while (value instanceof Tagged) {
      if ((value.tag !== 18 && value.tag !== 61) || ++tags > 2) {
        throw new Fail("damaged", "COSE: tag " + value.tag);
      }
      value = value.value;
    }
    if (!Array.isArray(value) || value.length !== 4) { throw new Fail("damaged", "COSE: not a COSE_Sign1"); }
    var prot = value[0], unprot = value[1], payload = value[2], signature = value[3];
    if (!(prot instanceof Uint8Array) || !(payload instanceof Uint8Array) ||
        !(signature instanceof Uint8Array) || !unprot || typeof unprot !== "object" ||
        Array.isArray(unprot)) {
      throw new Fail("damaged", "COSE: bad structure");
    }
    var headers = prot.length ? cbor(prot) : {};
    if (!headers || typeof headers !== "object" || Array.isArray(headers)) {
      throw new Fail("damaged", "COSE: bad protected header");
    }
    var kid = headers["4"] !== undefined ? headers["4"] : unprot["4"];
    var alg = headers["1"] !== undefined ? headers["1"] : unprot["1"];
    var claims = cbor(payload);
    if (!claims || typeof claims !== "object" || Array.isArray(claims)) {
      throw new Fail("damaged", "CWT: not a map");
    }
    var hcert = claims["-260"];
    var dcc = hcert && typeof hcert === "object" && !Array.isArray(hcert) ? hcert["1"] : null;
    if (!dcc || typeof dcc !== "object" || Array.isArray(dcc) || dcc instanceof Uint8Array) {
      throw new Fail("content", "CWT: no certificate in -260/1");
    }
    return { protectedBytes: prot, payload: payload, signature: signature,
      kid: kid instanceof Uint8Array ? kid : null, alg: alg, claims: claims };
  }

  function checkCose(cose, store, options, result) {
    var checks = result.checks;
    var claims = cose.claims;
    var dcc = claims["-260"]["1"];
    var kidB64 = cose.kid ? bytesToB64(cose.kid) : "";
    result.kid = kidB64;
    result.issuer = typeof claims["1"] === "string" ? claims["1"] : "";
    result.dcc = dcc;
    result.iat = typeof claims["6"] === "number" ? claims["6"] : null;
    result.exp = typeof claims["4"] === "number" ? claims["4"] : null;
    var problem = schemaProblem(dcc);
    checks.schema = !problem;
    var kind = problem ? null : dccKind(dcc);
    result.kind = kind;
    var candidates = store.dsc.filter(function (e) { return kidB64 && e.kid === kidB64; });
    var data = sigStructure(cose.protectedBytes, cose.payload);
    var tries = candidates.map(function (entry) {
      var spki;
      try { spki = b64ToBytes(entry.publicKey || ""); } catch (e) { return Promise.resolve(null); }
      return verifyCose(cose.alg, spki, cose.signature, data).then(function (ok) {
        return ok ? entry : null;
      }, function (e) {
        if (e instanceof Fail) { throw e; }
        return null; // a key of another type, or one WebCrypto refuses: not this signer
      });
    });
    return Promise.all(tries).then(function (found) {
      var signer = found.filter(Boolean)[0] || null;
      checks.signature = !!signer;
      if (signer) {
        var now = seconds(options.now);
        var notBefore = parseTime(signer.notBefore), notAfter = parseTime(signer.notAfter);
        var skew = options.skew;
        var iat = result.iat, exp = result.exp;
        var signerOk = (notBefore === null || iat === null || notBefore <= iat) &&
          (notAfter === null || exp === null || exp <= notAfter);
        var started = iat === null || iat <= now + skew;
        var ended = exp === null || now > exp;
        checks.expiry = signerOk && started && !ended;
        result.expiryProblem = !signerOk ? "signer" : !started ? "not_yet_valid" :
          ended ? (exp === null ? "content" : "expired") : null;
        result.country = signer.country || "";
        checks.keyUsage = kind ? keyUsageAllows(signer.keyUsage, kind) : null;
      }
      return revokedHc1(dcc, kind, store).then(function (revoked) {
        checks.revocation = !revoked;
        return result;
      });
    });
  }

  function revokedHc1(dcc, kind, store) {
    if (!kind || !store.hashes.size) { return Promise.resolve(false); }
    var ids = dcc[kind].map(function (e) { return e && e.ci; }).filter(function (ci) {
      return typeof ci === "string";
    });
    return Promise.all(ids.map(function (ci) {
      return sha256(new TextEncoder().encode(ci)).then(function (d) {
        return store.hashes.has(bytesToB64(d.slice(0, 16)));
      });
    })).then(function (hits) { return hits.some(Boolean); });
  }

  function hc1Verdict(result) {
    var c = result.checks;
    if (c.signature === false) {
      var known = result.kid && result.trusted;
      return known ? ["signature"] : ["untrusted"];
    }
    if (c.revocation === false) { return ["revoked"]; }
    if (c.schema === false) { return ["content"]; }
    if (c.keyUsage === false) { return ["key_usage"]; }
    if (c.expiry === false) {
      return [result.expiryProblem || "expired", { date: result.exp ? isoDate(result.exp) : "" }];
    }
    return null;
  }

  // --- SMART Health Cards --------------------------------------------------------------------

  var CHUNK = /^shc:\/(\d+)\/(\d+)\/(\d*)$/;

  function shcJws(text) {
    var lines = text.split(/\s+/).filter(Boolean);
    var digits;
    var chunk = CHUNK.exec(lines[0]);
    if (chunk) {
      var total = +chunk[2];
      var parts = {};
      lines.forEach(function (line) {
        var m = CHUNK.exec(line);
        if (m && +m[2] === total) { parts[+m[1]] = m[3]; }
      });
      for (var i = 1; i <= total; i++) {
        if (parts[i] === undefined) {
          throw new Fail("part", "chunk " + chunk[1] + "/" + total, { part: chunk[1], total: total });
        }
      }
      digits = Object.keys(parts).sort(function (a, b) { return a - b; })
        .map(function (k) { return parts[k]; }).join("");
    } else {
      if (lines.length !== 1) { throw new Fail("damaged", "shc: spaces in the code"); }
      digits = lines[0].slice(5);
    }
    if (!/^\d*$/.test(digits) || digits.length % 2) { throw new Fail("damaged", "shc: not numeric"); }
    var jws = "";
    for (var j = 0; j < digits.length; j += 2) {
      var n = +digits.slice(j, j + 2);
      if (n > 77) { throw new Fail("damaged", "shc: value " + n); }
      jws += String.fromCharCode(n + 45);
    }
    return jws;
  }

  function jsonPart(text, what) {
    try { return JSON.parse(utf8(b64ToBytes(text))); }
    catch (e) { throw new Fail("damaged", "JWS " + what); }
  }

  function shc(jws, store, options) {
    var checks = {};
    var result = { format: "SHC", checks: checks };
    var parts = jws.split(".");
    if (parts.length !== 3 || parts.some(function (p) { return !/^[A-Za-z0-9_-]*$/.test(p); })) {
      throw new Fail("damaged", "JWS: not three parts");
    }
    var header = jsonPart(parts[0], "header");
    if (!header || typeof header !== "object") { throw new Fail("damaged", "JWS header"); }
    var body, signature;
    try { body = b64ToBytes(parts[1]); signature = b64ToBytes(parts[2]); }
    catch (e) { throw new Fail("damaged", "JWS: base64url"); }
    var unpacked = header.zip === "DEF" ? inflate(body, "deflate-raw", "DEFLATE")
      : Promise.resolve(body);
    return unpacked.then(function (bytes) {
      var payload;
      try { payload = JSON.parse(utf8(bytes)); } catch (e) { throw new Fail("damaged", "JWS payload"); }
      if (!payload || typeof payload !== "object") { throw new Fail("damaged", "JWS payload"); }
      result.payload = payload;
      result.issuer = typeof payload.iss === "string" ? payload.iss : "";
      result.kid = typeof header.kid === "string" ? header.kid : "";
      var vc = payload.vc || {};
      var bundle = vc.credentialSubject && vc.credentialSubject.fhirBundle;
      checks.schema = !!(bundle && Array.isArray(bundle.entry));
      var issuer = store.issuers[result.issuer.replace(/\/+$/, "")];
      var key = issuer && issuer.keys.filter(function (k) { return k.kid === result.kid; })[0];
      if (!key || header.alg !== "ES256") {
        result.trusted = !!issuer && header.alg === "ES256";
        checks.signature = false;
        return result;
      }
      result.trusted = true;
      var s = subtle();
      var data = new TextEncoder().encode(parts[0] + "." + parts[1]);
      return s.importKey("jwk", { kty: "EC", crv: "P-256", x: key.x, y: key.y, ext: true },
        { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"])
        .then(function (k) {
          return signature.length === 64 ? s.verify({ name: "ECDSA", hash: "SHA-256" }, k, signature, data) : false;
        }, function () { return false; })
        .then(function (ok) {
          checks.signature = ok;
          var now = seconds(options.now);
          var nbf = typeof payload.nbf === "number" ? payload.nbf : null;
          var exp = typeof payload.exp === "number" ? payload.exp : null;
          result.exp = exp;
          checks.expiry = (nbf === null || nbf <= now + options.skew) && (exp === null || now <= exp);
          result.expiryProblem = checks.expiry ? null : (nbf !== null && nbf > now + options.skew)
            ? "not_yet_valid" : "expired";
          var rid = typeof vc.rid === "string" ? vc.rid.split(".")[0] : "";
          checks.revocation = !(rid && issuer.rids.has(rid));
          return result;
        });
    });
  }

  function shcVerdict(result) {
    var c = result.checks;
    if (c.signature === false) { return [result.trusted ? "signature" : "untrusted"]; }
    if (c.revocation === false) { return ["revoked"]; }
    if (c.schema === false) { return ["content"]; }
    if (c.expiry === false) {
      return [result.expiryProblem, { date: result.exp ? isoDate(result.exp) : "" }];
    }
    return null;
  }

  // --- the check -----------------------------------------------------------------------------

  function detailOf(result) {
    var parts = [];
    if (result.format) { parts.push(result.format); }
    if (result.issuer) { parts.push("iss " + result.issuer); }
    if (result.country) { parts.push("country " + result.country); }
    if (result.kid) { parts.push("kid " + result.kid); }
    return parts.join(" · ");
  }

  /* The verdict on ``text`` (a QR code's text, or a card's JWS): resolves, never rejects, to
     {valid, reason, params, detail, format, checks, ...}. ``store``: {dsc: trust list
     entries, revocation: {hashes, rids}, issuers: {iss: {keys, rids}}}; ``options``: {now:
     Date, skew: seconds}. */
  function verify(text, store, options) {
    options = options || {};
    var opts = { now: options.now || new Date(),
      skew: options.skew === undefined ? SKEW_SECONDS : options.skew };
    var trust = normaliseStore(store);
    var started;
    try {
      var input = String(text === undefined || text === null ? "" : text)
        .replace(/^\s+/, "").replace(/[\r\n\t]+$/, "");
      if (!input) { throw new Fail("empty"); }
      if (!subtle() || typeof DecompressionStream === "undefined") {
        throw new Fail("browser", "WebCrypto or DecompressionStream missing");
      }
      if (/^shc:\//i.test(input)) {
        started = shc(shcJws(input.replace(/^shc:\//i, "shc:/")), trust, opts);
      } else if (/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/.test(input)) {
        started = shc(input, trust, opts);
      } else if (input.slice(0, 4) === "HC1:") {
        if (!trust.ready) { throw new Fail("no_trust"); }
        started = hc1(input, trust, opts);
      } else {
        var prefixResult = { format: "HC1", checks: { prefix: false } };
        throw Object.assign(new Fail("format", "prefix"), { result: prefixResult });
      }
    } catch (e) {
      started = Promise.reject(e);
    }
    return Promise.resolve(started).then(function (result) {
      if (result.format === "HC1") {
        result.trusted = trust.dsc.some(function (e) { return e.kid === result.kid; });
      }
      var failed = result.format === "HC1" ? hc1Verdict(result) : shcVerdict(result);
      var summary = result.format === "HC1" ? hc1Summary(result) : shcSummary(result);
      return Object.assign(result, {
        valid: !failed, reason: failed ? failed[0] : "", params: failed ? failed[1] || {} : {},
        detail: detailOf(result), summary: failed ? null : summary
      });
    }).catch(function (e) {
      var fail = e instanceof Fail ? e : new Fail("damaged", e && e.message ? e.message : String(e));
      var result = e && e.result ? e.result : {};
      return Object.assign(result, { valid: false, reason: fail.reason, params: fail.params,
        detail: [result.format, fail.detail].filter(Boolean).join(" · "), checks: result.checks || {} });
    });
  }

  // --- what the reader is shown --------------------------------------------------------------

  function str(v) { return typeof v === "string" ? v.trim() : ""; }

  function hc1Summary(result) {
    var dcc = result.dcc || {};
    var nam = dcc.nam || {};
    var family = str(nam.fn) || str(nam.fnt), given = str(nam.gn) || str(nam.gnt);
    var kind = result.kind || "v";
    var entries = Array.isArray(dcc[kind]) ? dcc[kind] : [];
    var first = entries[0] || {};
    return {
      kind: kind, name: family && given ? family + ", " + given : family || given,
      birthDate: str(dcc.dob), country: str(first.co), issuer: str(first.is),
      certificateId: str(first.ci), expires: result.exp ? isoDate(result.exp) : "",
      doses: kind !== "v" ? [] : entries.map(function (e) {
        return { number: e.dn, series: e.sd, product: str(e.mp), date: str(e.dt) };
      })
    };
  }

  function shcSummary(result) {
    var vc = (result.payload || {}).vc || {};
    var bundle = (vc.credentialSubject || {}).fhirBundle || {};
    var resources = (bundle.entry || []).map(function (e) { return e && e.resource; }).filter(Boolean);
    var patient = resources.filter(function (r) { return r.resourceType === "Patient"; })[0] || {};
    var name = ((patient.name || [])[0]) || {};
    var given = (name.given || []).map(str).join(" ");
    var fullName = str(name.text) || (str(name.family) && given ? str(name.family) + ", " + given
      : str(name.family) || given);
    return {
      kind: "record", name: fullName, birthDate: str(patient.birthDate), issuer: result.issuer,
      country: "", certificateId: "", expires: result.exp ? isoDate(result.exp) : "",
      doses: resources.filter(function (r) { return r.resourceType === "Immunization"; })
        .map(function (r) {
          var code = r.vaccineCode || {};
          var coding = (code.coding || [])[0] || {};
          var applied = (r.protocolApplied || [])[0] || {};
          var system = str(coding.system) === "http://hl7.org/fhir/sid/cvx" ? "CVX " : "";
          return { number: applied.doseNumberPositiveInt, series: applied.seriesDosesPositiveInt,
            product: str(code.text) || (coding.code ? system + coding.code : ""),
            date: str(r.occurrenceDateTime).slice(0, 10) };
        })
    };
  }

  window.CowinVerify = { verify: verify, base45: base45, cbor: cbor };

  // --- the page ------------------------------------------------------------------------------

  var app = document.getElementById("verify-app");
  if (!app) { return; }
  var config = {};
  try { config = JSON.parse(app.getAttribute("data-config") || "{}"); } catch (e) { config = {}; }
  var M = config.messages || {};
  var lang = document.documentElement.lang || "en";
  var form = document.getElementById("verify-form");
  var textField = document.getElementById("text");
  var fileField = document.getElementById("file");
  var verdictArea = document.getElementById("verdict");
  var trustStatus = document.getElementById("trust-status");
  var capable = !!(subtle() && typeof DecompressionStream !== "undefined" && window.Promise &&
    window.TextDecoder && window.fetch);

  // A message with its placeholders filled; each value isolated (FSI…PDI), so a date or a
  // number keeps its own direction inside a sentence of the other direction.
  function t(key, params) {
    var text = M[key] || M.content || key;
    return text.replace(/%\((\w+)\)s/g, function (whole, name) {
      return params && params[name] !== undefined && params[name] !== ""
        ? "\u2068" + params[name] + "\u2069" : whole;
    });
  }

  function formatDate(iso) {
    iso = str(iso);
    try {
      if (/^\d{4}$/.test(iso)) { return iso; }
      if (/^\d{4}-\d{2}$/.test(iso)) {
        return new Intl.DateTimeFormat(lang, { year: "numeric", month: "long", timeZone: "UTC" })
          .format(new Date(iso + "-01T00:00:00Z"));
      }
      if (DATE.test(iso)) {
        return new Intl.DateTimeFormat(lang, { dateStyle: "long", timeZone: "UTC" })
          .format(new Date(iso.slice(0, 10) + "T00:00:00Z"));
      }
    } catch (e) { /* an unknown language: the date as written */ }
    return iso;
  }

  function formatDateTime(date) {
    try {
      return new Intl.DateTimeFormat(lang, { dateStyle: "medium", timeStyle: "short" }).format(date);
    } catch (e) { return date.toISOString(); }
  }

  function countryName(code) {
    try { return new Intl.DisplayNames([lang], { type: "region" }).of(code) || code; }
    catch (e) { return code; }
  }

  // The lists, from the network when there is one (the service worker answers with its copy
  // when not). Their Date header says how fresh they are.
  var store = null;
  function fetchList(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(url + ": " + response.status); }
      return response.json().then(function (data) {
        return { data: data, date: response.headers.get("Date") };
      });
    });
  }

  var loading = !capable ? Promise.resolve(null) : Promise.all([
    fetchList(config.trustUrl), fetchList(config.revocationUrl),
    fetchList(config.jwksUrl).catch(function () { return { data: { keys: [] } }; })
  ]).then(function (lists) {
    var revocation = lists[1].data || {};
    var issuers = {};
    if (config.issuer) {
      issuers[config.issuer] = { keys: (lists[2].data || {}).keys || [], rids: revocation.rids || [] };
    }
    store = { dsc: Array.isArray(lists[0].data) ? lists[0].data : [], revocation: revocation,
      issuers: issuers };
    // An HTTP date is 29 characters; a header repeated by a proxy holds two.
    var date = lists[0].date ? new Date(lists[0].date.slice(0, 29)) : null;
    if (date && !isNaN(date)) {
      trustStatus.textContent = t(navigator.onLine === false ? "trust_saved" : "trust_date",
        { date: formatDateTime(date) });
    }
    return store;
  }).catch(function () {
    trustStatus.textContent = t("no_trust");
    return null;
  });
  window.CowinVerify.ready = loading;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  // A row of the facts; ``value`` a text, or a list of texts shown "a · b · c", each isolated
  // (a product name in Latin letters inside an Arabic line keeps its order).
  function fact(list, label, value, className) {
    var parts = (Array.isArray(value) ? value : [value]).filter(Boolean);
    if (!parts.length) { return; }
    var row = el("div");
    row.appendChild(el("dt", "", label));
    var dd = el("dd", className || "");
    parts.forEach(function (part, i) {
      if (i) { dd.appendChild(document.createTextNode(" · ")); }
      dd.appendChild(el("bdi", "", part));
    });
    row.appendChild(dd);
    list.appendChild(row);
  }

  function doseParts(d) {
    var parts = [];
    if (d.number && d.series) { parts.push(t("dose_of", { dose: d.number, doses: d.series })); }
    else if (d.number) { parts.push(String(d.number)); }
    var products = config.products || {};
    if (d.product) { parts.push(products[d.product] || d.product); }
    if (d.date) { parts.push(formatDate(d.date)); }
    return parts;
  }

  var shown = 0;
  function verdictNode(r) {
    var id = "verdict-title-" + (++shown);
    var section = el("section", "verdict " + (r.valid ? "verdict-valid" : "verdict-invalid"));
    section.setAttribute("aria-labelledby", id);
    var h2 = el("h2");
    h2.id = id;
    var mark = el("span", "verdict-mark", r.valid ? "✓" : "✗");
    mark.setAttribute("aria-hidden", "true");
    h2.appendChild(mark);
    h2.appendChild(document.createTextNode(" " + t(r.valid ? "valid" : "invalid")));
    section.appendChild(h2);
    if (!r.valid) {
      var params = Object.assign({}, r.params);
      if (params.date) { params.date = formatDate(params.date); }
      section.appendChild(el("p", "verdict-reason", t(r.reason, params)));
    } else if (r.summary) {
      var s = r.summary;
      if (s.kind === "t" || s.kind === "r") {
        section.appendChild(el("p", "verdict-note", t(s.kind === "t" ? "test" : "recovery")));
      }
      var list = el("dl", "verdict-facts");
      fact(list, t("name"), s.name);
      fact(list, t("birth_date"), formatDate(s.birthDate));
      s.doses.forEach(function (d) { fact(list, t("vaccination"), doseParts(d)); });
      fact(list, t("country"), s.country ? countryName(s.country) : "");
      fact(list, t("issuer"), s.issuer);
      fact(list, t("certificate_id"), s.certificateId, "uvci");
      fact(list, t("expires"), s.expires ? formatDate(s.expires) : "");
      section.appendChild(list);
      section.appendChild(el("p", "verdict-note", t("compare")));
    }
    if (r.detail) {
      var details = el("details", "verdict-detail");
      details.appendChild(el("summary", "", t("detail")));
      var p = el("p");
      var code = el("code", "", r.detail);
      code.setAttribute("dir", "ltr");
      p.appendChild(code);
      details.appendChild(p);
      section.appendChild(details);
    }
    return section;
  }

  function show(results) {
    verdictArea.textContent = "";
    results.forEach(function (r) { verdictArea.appendChild(verdictNode(r)); });
    verdictArea.setAttribute("data-state", "done");
    verdictArea.focus();
  }

  function refusal(reason) { return { valid: false, reason: reason, params: {}, detail: "" }; }

  // --- reading QR codes from pictures and the camera -----------------------------------------

  var detector = null;
  var detectorReady = Promise.resolve();
  if ("BarcodeDetector" in window) {
    detectorReady = Promise.resolve().then(function () {
      return window.BarcodeDetector.getSupportedFormats();
    }).then(function (formats) {
      if (formats.indexOf("qr_code") >= 0) {
        detector = new window.BarcodeDetector({ formats: ["qr_code"] });
      }
    }).catch(function () { detector = null; });
  }

  function jsqrOn(source, width, height, limit) {
    if (typeof window.jsQR !== "function" || !width || !height) { return null; }
    var scale = Math.min(1, limit / Math.max(width, height));
    var w = Math.max(1, Math.round(width * scale)), h = Math.max(1, Math.round(height * scale));
    var canvas = document.createElement("canvas");
    canvas.width = w;
    canvas.height = h;
    var context = canvas.getContext("2d", { willReadFrequently: true });
    context.drawImage(source, 0, 0, w, h);
    var found = window.jsQR(context.getImageData(0, 0, w, h).data, w, h,
      { inversionAttempts: "attemptBoth" });
    return found && found.data ? found.data : null;
  }

  function readCode(source, width, height) {
    return detectorReady.then(function () {
      if (!detector) { return null; }
      return detector.detect(source).then(function (codes) {
        return codes.length ? codes[0].rawValue : null;
      }, function () { return null; });
    }).then(function (text) {
      if (text) { return text; }
      return jsqrOn(source, width, height, 1200) || (Math.max(width, height) > 700
        ? jsqrOn(source, width, height, 600) : null);
    });
  }

  function decodeImage(blob) {
    if (typeof createImageBitmap !== "function") { return Promise.resolve(null); }
    return createImageBitmap(blob).then(function (bitmap) {
      return readCode(bitmap, bitmap.width, bitmap.height);
    }, function () { return null; });
  }
  window.CowinVerify.decodeImage = decodeImage;

  var IMAGE = /\.(png|jpe?g|gif|webp|bmp|avif|heic)$/i;

  // The texts a file holds: a picture's QR code, a .smart-health-card file's cards, or text.
  function textsOfFile(file) {
    if (file.size > 8 * 1024 * 1024) { return Promise.reject(new Fail("file")); }
    if (/^image\//.test(file.type) || IMAGE.test(file.name)) {
      return decodeImage(file).then(function (text) {
        if (!text) { throw new Fail("no_qr"); }
        return [text];
      });
    }
    return file.text().then(function (content) {
      content = content.replace(/^\uFEFF/, "").trim();
      if (content.charAt(0) === "{") {
        var cards;
        try { cards = JSON.parse(content).verifiableCredential; } catch (e) { cards = null; }
        if (!Array.isArray(cards) || !cards.length) { throw new Fail("file"); }
        return cards.map(String);
      }
      return [content];
    }, function () { throw new Fail("file"); });
  }

  function check(texts) {
    verdictArea.textContent = "";
    verdictArea.appendChild(el("p", "verdict-checking", t("checking")));
    verdictArea.setAttribute("data-state", "checking");
    return Promise.resolve(texts).then(function (list) {
      return loading.then(function (s) {
        return Promise.all(list.map(function (text) {
          if (!s && str(text)) { return refusal("no_trust"); }
          return verify(text, s || {}, {});
        }));
      });
    }).then(show, function (e) {
      show([refusal(e instanceof Fail ? e.reason : "file")]);
    });
  }

  function run() {
    var text = textField ? textField.value : "";
    var file = fileField && fileField.files && fileField.files[0];
    if (!str(text) && file) { return check(textsOfFile(file)); }
    return check([text]);
  }

  if (!capable || !form) { return; } // the form posts, and the server checks

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    run();
  });
  if (fileField) {
    fileField.addEventListener("change", function () {
      if (fileField.files && fileField.files[0]) {
        textField.value = "";
        run();
      }
    });
  }

  // The camera, where the browser offers one and something can read its frames.
  var cameraBox = document.getElementById("camera");
  var scanButton = document.getElementById("scan-button");
  var cameraView = document.getElementById("camera-view");
  var video = document.getElementById("camera-video");
  var cameraHint = document.getElementById("camera-hint");
  var stream = null, scanLabel = scanButton ? scanButton.textContent : "";

  function stopCamera() {
    if (stream) { stream.getTracks().forEach(function (track) { track.stop(); }); }
    stream = null;
    video.srcObject = null;
    cameraView.hidden = true;
    scanButton.textContent = scanLabel;
  }

  function scanFrame() {
    if (!stream) { return; }
    var pending = video.readyState >= 2
      ? readCode(video, video.videoWidth, video.videoHeight) : Promise.resolve(null);
    pending.then(function (text) {
      if (!stream) { return; }
      if (text) {
        stopCamera();
        textField.value = text;
        if (fileField) { fileField.value = ""; }
        run();
      } else {
        setTimeout(scanFrame, 250);
      }
    }, function () { setTimeout(scanFrame, 250); });
  }

  detectorReady.then(function () {
    var media = navigator.mediaDevices && navigator.mediaDevices.getUserMedia;
    if (!cameraBox || !media || !(detector || typeof window.jsQR === "function")) { return; }
    cameraBox.hidden = false;
    scanButton.addEventListener("click", function () {
      if (stream) { stopCamera(); return; }
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (s) {
          stream = s;
          video.srcObject = s;
          cameraView.hidden = false;
          cameraHint.textContent = t("aim");
          scanButton.textContent = t("stop");
          return video.play().then(scanFrame);
        }).catch(function () {
          stopCamera();
          show([refusal("camera")]);
        });
    });
  });

  if ("serviceWorker" in navigator && config.serviceWorker) {
    navigator.serviceWorker.register(config.serviceWorker, { scope: config.scope })
      .catch(function () { /* no offline copy: the page still works online */ });
  }
})();
