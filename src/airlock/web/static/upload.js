/* Airlock: resumable, parallel artifact uploads from the submission page.
 *
 * A file is declared by name and size, then sent in chunks, several at once (the server takes
 * them in any order). While the chunks go out, a Web Worker hashes the file with a WebAssembly
 * SHA-256 (upload-worker.js, hash-wasm vendored), off the page's main thread; the digest goes
 * with the completion, and the server checks it against what it stored. An upload that stops
 * (a lost connection, a reload, a closed tab) resumes when the same file is selected again:
 * declaring the same name and size returns the open session with the chunks it still lacks.
 */
(function () {
  "use strict";

  // --- helpers -----------------------------------------------------------------------------

  var RETRIES = 6; // chunk attempts after a lost connection before asking for a new selection
  var MAX_WAIT_MS = 8000;
  var IN_FLIGHT = 4; // chunks sent at once
  var WORKER_URL = "/static/upload-worker.js";

  function filesize(n) {
    var units = ["B", "KB", "MB", "GB", "TB"], v = n, i = 0;
    while (v >= 1000 && i < units.length - 1) { v /= 1000; i++; }
    return i === 0 ? v + " B" : v.toFixed(1) + " " + units[i];
  }

  function percent(done, total) {
    return total === 0 ? 100 : Math.floor((done * 100) / total);
  }

  function sleep(ms) {
    return new Promise(function (resolve) { setTimeout(resolve, ms); });
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /** Mirror of airlock.vault.rules.guess_kind, for the "(guess from the name)" choice. */
  function guessKind(name) {
    var base = name.split("/").pop().toLowerCase();
    var suffix = base.indexOf(".") >= 0 ? base.slice(base.lastIndexOf(".")) : "";
    var hints = ["tokenizer", "vocab", "merges", "special_tokens_map", "spiece"];
    var weights = [".safetensors", ".gguf", ".bin", ".pt", ".pth", ".onnx", ".h5", ".keras",
      ".ckpt", ".npz"];
    if (hints.some(function (h) { return base.indexOf(h) >= 0; })) return "tokenizer";
    if (weights.indexOf(suffix) >= 0) return "weights";
    if (base.slice(-11) === "config.json") return "config";
    if (["manifest.json", "sha256sums", "sha256sums.txt"].indexOf(base) >= 0) return "manifest";
    return "other";
  }

  function ApiError(status, message, network) {
    this.status = status;
    this.message = message;
    this.network = !!network;
  }
  ApiError.prototype = Object.create(Error.prototype);

  /* Only what a later attempt can fix: a lost connection, a proxy or a restarting server.
   * Any other 5xx is a fault on the server: the page says so at once and stops. */
  function retryable(err) {
    return err instanceof ApiError &&
      (err.network || err.status === 502 || err.status === 503 || err.status === 504);
  }

  function duration(seconds) {
    if (!isFinite(seconds)) return "";
    if (seconds < 60) return Math.max(1, Math.round(seconds)) + " s";
    if (seconds < 3600) return Math.round(seconds / 60) + " min";
    return (seconds / 3600).toFixed(1) + " h";
  }

  function detailOf(status, text) {
    try {
      var body = JSON.parse(text);
      if (body && typeof body.detail === "string") return body.detail;
    } catch (e) { /* not JSON */ }
    return "the server answered " + status;
  }

  // --- hashing in a worker -----------------------------------------------------------------

  /** One Web Worker hashing files with WebAssembly SHA-256, one file at a time. */
  function WorkerHasher() {
    this.worker = new Worker(WORKER_URL);
    this.nextId = 0;
    this.jobs = {};
    var self = this;
    this.worker.onmessage = function (ev) {
      var msg = ev.data, job = self.jobs[msg.id];
      if (!job) return;
      if (msg.type === "hashed") job.onProgress(msg.bytes);
      else if (msg.type === "digest") { delete self.jobs[msg.id]; job.resolve(msg); }
      else if (msg.type === "error") { delete self.jobs[msg.id]; job.reject(new Error("hashing failed: " + msg.message)); }
    };
    this.worker.onerror = function (ev) {
      var message = "the hashing worker failed: " + (ev.message || "unknown error");
      Object.keys(self.jobs).forEach(function (id) { self.jobs[id].reject(new Error(message)); });
      self.jobs = {};
    };
  }

  /** Start hashing a file: push() its slices in order, then finish() answers the digest. */
  WorkerHasher.prototype.begin = function (onProgress) {
    var id = ++this.nextId, worker = this.worker, job = { onProgress: onProgress || function () {} };
    var done = new Promise(function (resolve, reject) { job.resolve = resolve; job.reject = reject; });
    this.jobs[id] = job;
    worker.postMessage({ type: "begin", id: id });
    return {
      push: function (blob) { worker.postMessage({ type: "slice", id: id, blob: blob }); },
      finish: function () { worker.postMessage({ type: "end", id: id }); return done; },
      failed: done.then(function () { return null; }, function (err) { return err; })
    };
  };

  /** The SHA-256 of a Blob, hashed in the worker (used by tests to check the hasher). */
  WorkerHasher.prototype.hashBlob = function (blob, sliceBytes) {
    var h = this.begin();
    var step = sliceBytes || 8 * 1024 * 1024;
    for (var off = 0; off < blob.size; off += step) h.push(blob.slice(off, off + step));
    return h.finish();
  };

  // --- the uploader ------------------------------------------------------------------------

  function Uploader(section) {
    this.section = section;
    this.submissionId = section.getAttribute("data-submission-id");
    this.csrf = section.getAttribute("data-csrf-token");
    this.list = section.querySelector("#upload-list");
    this.manifest = section.querySelector("#manifest tbody");
    this.hasher = null;
  }

  Uploader.prototype.getHasher = function () {
    if (!this.hasher) this.hasher = new WorkerHasher();
    return this.hasher;
  };

  Uploader.prototype.api = async function (method, url, body) {
    var init = {
      method: method,
      credentials: "same-origin",
      headers: { "Accept": "application/json", "X-CSRF-Token": this.csrf }
    };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    var resp;
    try {
      resp = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, "the connection to the server was lost", true);
    }
    var text = await resp.text();
    if (!resp.ok) throw new ApiError(resp.status, detailOf(resp.status, text), false);
    return JSON.parse(text);
  };

  /** PUT one chunk with XMLHttpRequest, for progress within the chunk. */
  Uploader.prototype.putChunk = function (uploadId, index, blob, onProgress) {
    var csrf = this.csrf;
    return new Promise(function (resolve, reject) {
      var xhr = new XMLHttpRequest();
      xhr.open("PUT", "/api/v1/uploads/" + encodeURIComponent(uploadId) + "/chunks/" + index);
      xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = function (e) { onProgress(e.loaded); };
      xhr.onload = function () {
        if (xhr.status >= 200 && xhr.status < 300) {
          try { resolve(JSON.parse(xhr.responseText)); } catch (e) {
            reject(new ApiError(xhr.status, "the server's answer could not be read", true));
          }
        } else {
          reject(new ApiError(xhr.status, detailOf(xhr.status, xhr.responseText), false));
        }
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () {
        reject(new ApiError(0, "the connection to the server was lost", true));
      };
      xhr.send(blob);
    });
  };

  Uploader.prototype.row = function (file, kind) {
    var row = el("div", "upload");
    row.setAttribute("data-name", file.name);
    var head = el("p", "upload-head");
    head.appendChild(el("strong", "upload-name", file.name));
    head.appendChild(document.createTextNode(" "));
    head.appendChild(el("span", "tag upload-kind", kind));
    head.appendChild(document.createTextNode(" "));
    var state = el("span", "upload-state", "waiting");
    head.appendChild(state);
    var bar = el("progress", "upload-progress");
    bar.max = Math.max(file.size, 1);
    bar.value = 0;
    var bytes = el("span", "upload-bytes", "0 B of " + filesize(file.size) + " (0%)");
    var speed = el("span", "upload-speed hint");
    var line = el("div", "upload-bar");
    line.appendChild(bar);
    line.appendChild(bytes);
    line.appendChild(document.createTextNode(" "));
    line.appendChild(speed);
    var note = el("p", "upload-note hint");
    var sha = el("p", "upload-sha hint");
    row.appendChild(head);
    row.appendChild(line);
    row.appendChild(note);
    row.appendChild(sha);
    this.list.appendChild(row);
    var size = file.size;
    return {
      node: row,
      state: function (text, cls) {
        state.textContent = text;
        row.className = "upload" + (cls ? " " + cls : "");
      },
      progress: function (done) {
        done = Math.min(done, size);
        bar.value = size === 0 ? 1 : done;
        bar.setAttribute("aria-valuetext", percent(done, size) + "%");
        bytes.textContent = filesize(done) + " of " + filesize(size) + " (" + percent(done, size) + "%)";
        row.setAttribute("data-percent", String(percent(done, size)));
      },
      note: function (text) { note.textContent = text; },
      speed: function (text) { speed.textContent = text; },
      sha: function (hex) {
        sha.textContent = "SHA-256 ";
        sha.appendChild(el("code", "sha256", hex));
        row.setAttribute("data-sha256", hex);
      }
    };
  };

  Uploader.prototype.upload = async function (file, kind, row) {
    var self = this;
    row.state("starting");
    var up = await this.api(
      "POST",
      "/api/v1/submissions/" + encodeURIComponent(this.submissionId) + "/uploads",
      { name: file.name, kind: kind, size: file.size }
    );
    var uploadId = up.id, chunk = up.chunk_bytes, total = up.chunks_total;
    row.node.setAttribute("data-upload-id", uploadId);
    var todo = [];
    (up.missing || []).forEach(function (r) { for (var i = r[0]; i < r[1]; i++) todo.push(i); });
    var sizeOf = function (i) { return Math.min(chunk, file.size - i * chunk); };
    var already = file.size - todo.reduce(function (n, i) { return n + sizeOf(i); }, 0);
    if (up.chunks_received > 0) {
      row.note("resuming from " + percent(up.next_offset, file.size) + "% (" +
        up.chunks_received + " of " + total + " chunks were already on the server)");
      row.node.setAttribute("data-resumed-from", String(up.next_offset));
    }

    // The worker hashes every slice in order, the ones already on the server included.
    var hashing = this.getHasher().begin(function (bytes) {
      row.node.setAttribute("data-hashed", String(bytes));
    });
    for (var i = 0; i < total; i++) hashing.push(file.slice(i * chunk, i * chunk + sizeOf(i)));

    var acked = already, loading = {}, started = performance.now(), stop = null;
    function shown() {
      var inChunk = 0;
      Object.keys(loading).forEach(function (k) { inChunk += loading[k]; });
      return acked + inChunk;
    }
    function report() {
      var done = shown();
      row.progress(done);
      var seconds = (performance.now() - started) / 1000;
      var rate = seconds > 0.2 ? (done - already) / seconds : 0;
      if (rate > 0 && done < file.size) {
        row.speed(filesize(rate) + "/s, about " + duration((file.size - done) / rate) + " left");
      } else if (rate > 0) {
        row.speed(filesize(rate) + "/s");
      }
    }
    report();
    row.state("uploading");
    var inFlight = Number(this.section.getAttribute("data-in-flight")) || IN_FLIGHT;
    row.node.setAttribute("data-in-flight", String(inFlight));

    async function sendOne(index) {
      var start = index * chunk, failures = 0;
      for (;;) {
        if (stop) throw stop;
        try {
          loading[index] = 0;
          await self.putChunk(uploadId, index, file.slice(start, start + sizeOf(index)),
            function (loaded) { loading[index] = loaded; report(); });
          delete loading[index];
          acked += sizeOf(index);
          row.state("uploading", "");
          report();
          return;
        } catch (err) {
          delete loading[index];
          if (!retryable(err) || failures >= RETRIES) throw err;
          failures++;
          var wait = Math.min(500 * Math.pow(2, failures - 1), MAX_WAIT_MS);
          var why = err.network ? "connection lost" : "the server answered " + err.status;
          row.state(why + "; retrying in " + Math.ceil(wait / 1000) + " s", "retrying");
          row.note(err.message + ". The server keeps what it received: this upload continues " +
            "from there, also after a reload if you select the same file again.");
          await sleep(wait);
        }
      }
    }

    var next = 0;
    async function sender() {
      while (next < todo.length && !stop) {
        var index = todo[next++];
        try {
          await sendOne(index);
        } catch (err) {
          stop = stop || err;
          throw err;
        }
      }
    }
    var senders = [];
    for (var k = 0; k < Math.min(inFlight, Math.max(todo.length, 1)); k++) senders.push(sender());
    var results = await Promise.allSettled(senders);
    if (stop) throw stop;
    results.forEach(function (r) { if (r.status === "rejected") throw r.reason; });

    row.state("verifying");
    var digest = await hashing.finish();
    row.sha(digest.hex);
    row.node.setAttribute("data-hasher", digest.hasher);
    var art = await this.api(
      "POST", "/api/v1/uploads/" + encodeURIComponent(uploadId) + "/complete", { sha256: digest.hex }
    );
    row.progress(file.size);
    row.state("stored", "done");
    row.node.setAttribute("data-artifact-id", art.id);
    this.addToManifest(art);
    return art;
  };

  Uploader.prototype.addToManifest = function (art) {
    if (!this.manifest) return;
    var tr = el("tr", "artifact");
    tr.setAttribute("data-artifact-id", art.id);
    tr.setAttribute("data-name", art.name);
    tr.appendChild(el("td", "name", art.name));
    tr.appendChild(el("td", "", art.kind));
    var size = el("td", "size", filesize(art.size));
    size.title = art.size + " bytes";
    tr.appendChild(size);
    var shaCell = el("td");
    shaCell.appendChild(el("code", "sha256", art.sha256));
    tr.appendChild(shaCell);
    var when = new Date(art.created_at.replace(/(\.\d+)?(Z|[+-]\d\d:\d\d)?$/, "Z"));
    var iso = isNaN(when.getTime()) ? art.created_at : when.toISOString();
    tr.appendChild(el("td", "", iso.slice(0, 10) + " " + iso.slice(11, 16) + " UTC"));
    var empty = this.manifest.querySelector("tr.empty");
    if (empty) empty.hidden = true;
    this.manifest.appendChild(tr);
    var total = this.section.querySelector("#manifest-total");
    if (total) {
      var count = Number(total.getAttribute("data-count") || 0) + 1;
      var bytes = Number(total.getAttribute("data-bytes") || 0) + art.size;
      total.setAttribute("data-count", String(count));
      total.setAttribute("data-bytes", String(bytes));
      total.textContent = count + " file" + (count === 1 ? "" : "s") + ", " + filesize(bytes) +
        " stored";
    }
    var box = this.section.querySelector("#pending-uploads");
    if (box) {
      var pending = box.querySelectorAll("li");
      for (var i = 0; i < pending.length; i++) {
        if (pending[i].getAttribute("data-name") === art.name) pending[i].remove();
      }
      if (!box.querySelector("li")) box.remove();
    }
  };

  Uploader.prototype.start = async function (files, chosenKind) {
    for (var i = 0; i < files.length; i++) {
      var file = files[i];
      var kind = chosenKind || guessKind(file.name);
      var row = this.row(file, kind);
      try {
        await this.upload(file, kind, row);
      } catch (err) {
        var msg = err && err.message ? err.message : String(err);
        row.state("stopped", "failed");
        row.note(err instanceof ApiError && err.network
          ? msg + ". Select the same file again to resume where it stopped."
          : err instanceof ApiError && err.status >= 500
            ? "The server failed (" + err.status + "): " + msg
            : msg);
      }
    }
  };

  function init() {
    var section = document.getElementById("artifacts");
    var form = document.getElementById("upload-form");
    if (!section || !form) return;
    var uploader = new Uploader(section);
    var input = form.querySelector("#artifact-files");
    var kind = form.querySelector("#artifact-kind");
    var button = form.querySelector("#upload-start");
    form.addEventListener("submit", function (ev) {
      ev.preventDefault();
      var files = Array.prototype.slice.call(input.files || []);
      if (!files.length) return;
      button.disabled = true;
      uploader.start(files, kind.value).then(function () {
        button.disabled = false;
        input.value = "";
      });
    });
  }

  var shared = null;
  window.AirlockUpload = {
    guessKind: guessKind,
    filesize: filesize,
    /** The SHA-256 of a Blob from the page's hashing worker (for tests). */
    hashBlob: function (blob, sliceBytes) {
      shared = shared || new WorkerHasher();
      return shared.hashBlob(blob, sliceBytes);
    }
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
