/* Airlock: resumable artifact uploads from the submission page.
 *
 * The upload API wants the file's size and SHA-256 declared before the first chunk, and
 * WebCrypto has no incremental SHA-256, so this file carries a small pure-JS one: the file is
 * read and hashed in slices, never whole in memory. It is then sent chunk by chunk (the
 * server says the chunk size and the next chunk it expects), so an upload that stops — a
 * lost connection, a reload, a closed tab — resumes from the server's next expected chunk
 * when the same file is selected again (declaring the same name, size and hash returns the
 * same upload session).
 */
(function () {
  "use strict";

  // --- SHA-256 (FIPS 180-4), incremental -----------------------------------------------------

  var K = new Int32Array([
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2
  ]);

  function Sha256() {
    this.h = new Uint32Array([
      0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19
    ]);
    this.w = new Int32Array(64);
    this.buf = new Uint8Array(64);
    this.bufLen = 0;
    this.length = 0; // bytes hashed so far (exact up to 2^53)
    this.finished = false;
  }

  Sha256.prototype._blocks = function (d, off, end) {
    var w = this.w, h = this.h;
    var h0 = h[0] | 0, h1 = h[1] | 0, h2 = h[2] | 0, h3 = h[3] | 0;
    var h4 = h[4] | 0, h5 = h[5] | 0, h6 = h[6] | 0, h7 = h[7] | 0;
    var a, b, c, dd, e, f, g, hh, t, x, y, wt, t1, t2;
    for (; off + 64 <= end; off += 64) {
      a = h0; b = h1; c = h2; dd = h3; e = h4; f = h5; g = h6; hh = h7;
      for (t = 0; t < 64; t++) {
        if (t < 16) {
          x = off + (t << 2);
          wt = (d[x] << 24) | (d[x + 1] << 16) | (d[x + 2] << 8) | d[x + 3];
        } else {
          x = w[t - 15];
          y = w[t - 2];
          wt = ((((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3)) +
            (((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10)) +
            w[t - 16] + w[t - 7]) | 0;
        }
        w[t] = wt;
        t1 = (hh + (((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7))) +
          (g ^ (e & (f ^ g))) + K[t] + wt) | 0;
        t2 = ((((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10))) +
          ((a & b) | (c & (a | b)))) | 0;
        hh = g; g = f; f = e; e = (dd + t1) | 0; dd = c; c = b; b = a; a = (t1 + t2) | 0;
      }
      h0 = (h0 + a) | 0; h1 = (h1 + b) | 0; h2 = (h2 + c) | 0; h3 = (h3 + dd) | 0;
      h4 = (h4 + e) | 0; h5 = (h5 + f) | 0; h6 = (h6 + g) | 0; h7 = (h7 + hh) | 0;
    }
    h[0] = h0; h[1] = h1; h[2] = h2; h[3] = h3; h[4] = h4; h[5] = h5; h[6] = h6; h[7] = h7;
    return off;
  };

  /** Add bytes (a Uint8Array or ArrayBuffer); returns this. */
  Sha256.prototype.update = function (data) {
    if (this.finished) throw new Error("sha256: update after digest");
    var d = data instanceof Uint8Array ? data : new Uint8Array(data);
    var i = 0, n = d.length;
    this.length += n;
    if (this.bufLen > 0) {
      var take = Math.min(64 - this.bufLen, n);
      this.buf.set(d.subarray(0, take), this.bufLen);
      this.bufLen += take;
      i = take;
      if (this.bufLen < 64) return this;
      this._blocks(this.buf, 0, 64);
      this.bufLen = 0;
    }
    i = this._blocks(d, i, n);
    if (i < n) {
      this.buf.set(d.subarray(i), 0);
      this.bufLen = n - i;
    }
    return this;
  };

  /** The digest as 64 lower-case hex digits; the hash takes no more data afterwards. */
  Sha256.prototype.hex = function () {
    if (!this.finished) {
      var bits = this.length * 8;
      var pad = new Uint8Array(((this.bufLen < 56 ? 56 : 120) - this.bufLen) + 8);
      pad[0] = 0x80;
      var hi = Math.floor(bits / 4294967296), lo = bits >>> 0;
      var p = pad.length - 8;
      pad[p] = hi >>> 24; pad[p + 1] = hi >>> 16; pad[p + 2] = hi >>> 8; pad[p + 3] = hi;
      pad[p + 4] = lo >>> 24; pad[p + 5] = lo >>> 16; pad[p + 6] = lo >>> 8; pad[p + 7] = lo;
      var length = this.length;
      this.update(pad);
      this.length = length;
      this.finished = true;
    }
    var out = "";
    for (var i = 0; i < 8; i++) out += ("00000000" + this.h[i].toString(16)).slice(-8);
    return out;
  };

  // --- helpers -----------------------------------------------------------------------------

  var READ_BYTES = 4 * 1024 * 1024; // slice size for hashing
  var RETRIES = 6; // chunk attempts after a lost connection before asking for a new selection
  var MAX_WAIT_MS = 8000;

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

  function retryable(err) {
    return err instanceof ApiError && (err.network || err.status >= 500 || err.status === 409);
  }

  function detailOf(status, text) {
    try {
      var body = JSON.parse(text);
      if (body && typeof body.detail === "string") return body.detail;
    } catch (e) { /* not JSON */ }
    return "the server answered " + status;
  }

  /** Hash a File in slices, reporting bytes hashed; the whole file is never in memory. */
  async function hashFile(file, onProgress) {
    var sha = new Sha256();
    for (var off = 0; off < file.size;) {
      var end = Math.min(off + READ_BYTES, file.size);
      sha.update(new Uint8Array(await file.slice(off, end).arrayBuffer()));
      off = end;
      onProgress(off);
    }
    return sha.hex();
  }

  // --- the uploader ------------------------------------------------------------------------

  function Uploader(section) {
    this.section = section;
    this.submissionId = section.getAttribute("data-submission-id");
    this.csrf = section.getAttribute("data-csrf-token");
    this.list = section.querySelector("#upload-list");
    this.manifest = section.querySelector("#manifest tbody");
  }

  /* This tab remembers each file's hash (until it is closed), so resuming after a reload
   * does not read a large file twice. A file changed without a change of size or date would
   * fail the server's check at completion; the remembered hash is then forgotten. */
  Uploader.prototype.memoKey = function (file) {
    return ["airlock-sha256", this.submissionId, file.name, file.size, file.lastModified].join(":");
  };

  function memoGet(key) {
    try { return window.sessionStorage.getItem(key); } catch (e) { return null; }
  }

  function memoSet(key, value) {
    try {
      if (value === null) window.sessionStorage.removeItem(key);
      else window.sessionStorage.setItem(key, value);
    } catch (e) { /* storage unavailable: hash again next time */ }
  }

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
    var line = el("div", "upload-bar");
    line.appendChild(bar);
    line.appendChild(bytes);
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
      sha: function (hex) {
        sha.textContent = "SHA-256 ";
        sha.appendChild(el("code", "sha256", hex));
        row.setAttribute("data-sha256", hex);
      }
    };
  };

  Uploader.prototype.upload = async function (file, kind, row) {
    var self = this;
    var memo = this.memoKey(file);
    var sha = memoGet(memo);
    if (sha) {
      row.node.setAttribute("data-hash-source", "remembered");
    } else {
      row.state("hashing 0%");
      sha = await hashFile(file, function (done) {
        row.state("hashing " + percent(done, file.size) + "%");
      });
      memoSet(memo, sha);
      row.node.setAttribute("data-hash-source", "computed");
    }
    row.sha(sha);
    row.memo = memo;
    row.state("starting");
    var up = await this.api(
      "POST",
      "/api/v1/submissions/" + encodeURIComponent(this.submissionId) + "/uploads",
      { name: file.name, kind: kind, size: file.size, sha256: sha }
    );
    row.node.setAttribute("data-upload-id", up.id);
    row.progress(up.next_offset);
    if (up.chunks_received > 0) {
      row.note("resuming from " + percent(up.next_offset, file.size) + "% (" +
        up.chunks_received + " of " + up.chunks_total + " chunks were already on the server)");
      row.node.setAttribute("data-resumed-from", String(up.next_offset));
    }
    var failures = 0;
    while (up.next_index !== null) {
      var index = up.next_index;
      var start = index * up.chunk_bytes;
      var end = Math.min(start + up.chunk_bytes, file.size);
      row.state("uploading");
      try {
        up = await this.putChunk(up.id, index, file.slice(start, end), function (loaded) {
          row.progress(start + loaded);
        });
        failures = 0;
        row.progress(up.next_offset);
        if (up.next_index === null) row.progress(file.size);
      } catch (err) {
        if (!retryable(err) || failures >= RETRIES) throw err;
        failures++;
        var wait = Math.min(500 * Math.pow(2, failures - 1), MAX_WAIT_MS);
        row.state("connection lost; retrying in " + Math.ceil(wait / 1000) + " s", "retrying");
        row.note(err.message + ". The server keeps what it received: this upload continues " +
          "from there, also after a reload if you select the same file again.");
        await sleep(wait);
        try {
          var id = up.id;
          up = await self.api("GET", "/api/v1/uploads/" + encodeURIComponent(id));
          if (up.state !== "open") throw new Error("this upload session is " + up.state + "; select the file again to start over");
          row.note("resuming from " + percent(up.next_offset, file.size) + "%");
          row.progress(up.next_offset);
        } catch (statusErr) {
          if (!retryable(statusErr)) throw statusErr;
        }
      }
    }
    row.state("verifying");
    var art = await this.api(
      "POST", "/api/v1/uploads/" + encodeURIComponent(up.id) + "/complete"
    );
    row.progress(file.size);
    memoSet(row.memo, null);
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
        if (row.memo && !(err instanceof ApiError && err.network)) memoSet(row.memo, null);
        row.state("stopped", "failed");
        row.note(err instanceof ApiError && err.network
          ? msg + ". Select the same file again to resume where it stopped."
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

  window.AirlockUpload = { Sha256: Sha256, guessKind: guessKind, filesize: filesize };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
