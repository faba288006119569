/* Airlock: the upload page's SHA-256, in a Web Worker with WebAssembly (hash-wasm, vendored).
 *
 * The page posts the file's slices (Blob references, no bytes) in order while it sends them;
 * this worker reads each slice and hashes it off the page's main thread, reporting how far it
 * got, and answers the digest once the page says the file ended.
 *
 *   in:  {type: "begin", id} | {type: "slice", id, blob} | {type: "end", id}
 *   out: {type: "hashed", id, bytes} | {type: "digest", id, hex, hasher} | {type: "error", id, message}
 */
/* global hashwasm */
"use strict";

importScripts("/static/vendor/hash-wasm/sha256.umd.min.js");

var current = null; // {id, hasher, bytes, failed}
var queue = Promise.resolve();

function fail(id, err) {
  self.postMessage({ type: "error", id: id, message: (err && err.message) || String(err) });
}

self.onmessage = function (ev) {
  var msg = ev.data;
  // One message at a time, in order: SHA-256 must see the slices in sequence.
  queue = queue.then(function () {
    if (msg.type === "begin") {
      return hashwasm.createSHA256().then(function (hasher) {
        hasher.init();
        current = { id: msg.id, hasher: hasher, bytes: 0, failed: false };
      });
    }
    if (!current || current.id !== msg.id || current.failed) return null;
    var job = current;
    if (msg.type === "slice") {
      return msg.blob.arrayBuffer().then(function (buf) {
        job.hasher.update(new Uint8Array(buf));
        job.bytes += buf.byteLength;
        self.postMessage({ type: "hashed", id: job.id, bytes: job.bytes });
      });
    }
    if (msg.type === "end") {
      var hex = job.hasher.digest("hex");
      current = null;
      self.postMessage({ type: "digest", id: job.id, hex: hex, hasher: "wasm-worker" });
    }
    return null;
  }).catch(function (err) {
    if (current) current.failed = true;
    fail(msg.id, err);
  });
};
