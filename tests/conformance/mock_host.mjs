#!/usr/bin/env node
// Minimal Proxy-Wasm host in Node (WebAssembly API) used as a self-check: it runs every case of
// expected.json against the built modules with Envoy/cpp-host semantics for the few hostcalls these
// plugins use, and compares the outcome with the expectation. It is NOT the wasmgate host; it only
// proves that the plugins and expected.json agree (and that the import lists are complete).
//
//   node tests/conformance/mock_host.mjs [BUILD_DIR] [-v]
//
// Semantics modelled (see /work/shared/docs/proxy-wasm-abi.md): strict linking (every import must
// be provided with the exact signature), allocator = `malloc` then `proxy_on_memory_allocate`,
// start-up via `_initialize` or else `_start` with restricted hostcalls, root context creation ->
// proxy_on_vm_start -> proxy_on_configure, PLUGIN_CONFIGURATION readable only during on_configure,
// (0,0) pair for empty results, header maps readable/writable only in their phase, lower-cased keys,
// local replies deferred until the callback returns, `proc_exit` logs and returns (cpp-host),
// root-context callbacks (callout response, tick, queue ready) that reach a stream only after
// proxy_set_effective_context, proxy_continue_stream acting once the callback has returned, shared
// queues keyed by (vm_id, name) whose proxy_on_queue_ready(root, token) is delivered after the
// enqueuing callback has returned (never re-entrantly), as Envoy posts it to the registrant's thread.
import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const args = process.argv.slice(2);
const verbose = args.includes("-v");
const buildDir = resolve(args.find((a) => !a.startsWith("-")) ?? join(here, "build"));
const spec = JSON.parse(readFileSync(join(here, "expected.json"), "utf8"));

const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2, INVALID_MEMORY_ACCESS = 6, EMPTY = 7;
const enc = new TextEncoder();
const dec = new TextDecoder();

class Trap extends Error {}
const ROOT = 1, STREAM = 2; // context ids

function runCase(c) {
  const bytes = readFileSync(join(buildDir, c.wasm));
  const mod = new WebAssembly.Module(bytes);
  const plugin = c.plugin;
  const vmConfig = enc.encode(plugin.vm_config?.configuration ?? "");
  const pluginConfig = enc.encode(plugin.configuration ?? "");
  const props = {
    plugin_root_id: plugin.root_id ?? "",
    plugin_name: plugin.name ?? "",
    plugin_vm_id: plugin.vm_config?.vm_id ?? "",
  };

  const log = [];          // "level: message" from proxy_log, "fdN: text" from fd_write
  let inst = null;
  let phase = "start";     // start | root | configure | request_headers | response_headers | other
  const contexts = new Set([0]);
  let reqHeaders = [], respHeaders = [];
  let localReply = null;
  // HTTP callouts (answered with 200 once proxy_on_request_headers returns), the stream's
  // continue, metrics (wasmcustom.<name>, Envoy's id encoding) and shared data with CAS.
  const callouts = [];
  let calloutHeaders = [];
  let continued = false;
  // Timer: the period set by the root context (0 = off), and the context hostcalls act on: the
  // one called, unless proxy_set_effective_context picked another (reset on every callback).
  let tickPeriod = 0, effective = 0;
  const metrics = new Map(), nextMetric = [4, 5, 6];
  const shared = new Map();
  let nextCas = 1;
  // Shared queues: "<vm_id>\0<name>" -> token, token -> items; tokens enqueued to since the last
  // delivery (one proxy_on_queue_ready per enqueue, to the registrant: the only root, ROOT).
  const queueTokens = new Map(), queues = new Map(), queueReady = [];

  const mem = () => new Uint8Array(inst.exports.memory.buffer);
  const view = () => new DataView(inst.exports.memory.buffer);
  const inBounds = (p, n) => p >>> 0 === p && n >>> 0 === n && p + n <= inst.exports.memory.buffer.byteLength;
  const readBytes = (p, n) => { if (!inBounds(p, n)) throw new RangeError("oob"); return mem().slice(p, p + n); };
  const readStr = (p, n) => dec.decode(readBytes(p, n));
  const restricted = (name) => { if (phase === "start") throw new Trap(`restricted hostcall ${name} during start-up`); };

  // Return-pair convention: empty -> (0,0) without allocating; else guest malloc + copy.
  function returnBytes(data, pp, sp) {
    if (!inBounds(pp, 4) || !inBounds(sp, 4)) return INVALID_MEMORY_ACCESS;
    let addr = 0;
    if (data.length > 0) {
      const alloc = inst.exports.malloc ?? inst.exports.proxy_on_memory_allocate;
      const saved = phase; phase = "alloc";
      try { addr = alloc(data.length) >>> 0; } finally { phase = saved; }
      if (addr === 0 || !inBounds(addr, data.length)) return INVALID_MEMORY_ACCESS;
      mem().set(data, addr);
    }
    view().setUint32(pp, addr, true);
    view().setUint32(sp, data.length, true);
    return OK;
  }

  function parsePairs(p, n) {
    const out = [];
    if (n === 0) return out;
    const b = readBytes(p, n), dv = new DataView(b.buffer);
    const count = dv.getUint32(0, true);
    let off = 4 + 8 * count;
    for (let i = 0; i < count; i++) {
      const kl = dv.getUint32(4 + 8 * i, true), vl = dv.getUint32(8 + 8 * i, true);
      const k = dec.decode(b.slice(off, off + kl)); off += kl + 1;
      const v = dec.decode(b.slice(off, off + vl)); off += vl + 1;
      out.push([k.toLowerCase(), v]);
    }
    return out;
  }

  function headerMap(type, write) {
    if (type === 0 && (phase === "request_headers" || (["callout", "tick", "queue_ready"].includes(phase) && effective === STREAM)))
      return reqHeaders;
    if (type === 6 && phase === "callout") return calloutHeaders;
    if (type === 2 && phase === "response_headers") return respHeaders;
    return null;
  }

  function fdWrite(fd, iovs, iovsLen, nwrittenPtr) {
    let total = 0, text = "";
    for (let i = 0; i < iovsLen; i++) {
      const p = view().getUint32(iovs + 8 * i, true), n = view().getUint32(iovs + 8 * i + 4, true);
      text += readStr(p, n); total += n;
    }
    for (const line of text.split("\n")) if (line !== "") log.push(`fd${fd}: ${line}`);
    view().setUint32(nwrittenPtr, total, true);
    return 0;
  }
  function procExit(code) { log.push(`proc_exit(${code})`); } // cpp-host: logs and returns

  const env = {
    proxy_log(level, p, n) {
      if (level > 5) return BAD_ARGUMENT;
      if (!inBounds(p, n)) return INVALID_MEMORY_ACCESS;
      log.push(`${level}: ${readStr(p, n)}`);
      return OK;
    },
    proxy_get_property(p, n, pp, sp) {
      restricted("proxy_get_property");
      const path = readStr(p, n).split("\0").filter((s) => s !== "").join(".");
      if (!(path in props)) return NOT_FOUND;
      return returnBytes(enc.encode(props[path]), pp, sp);
    },
    proxy_get_buffer_bytes(type, start, max, pp, sp) {
      restricted("proxy_get_buffer_bytes");
      let buf;
      if (type === 6) buf = vmConfig;
      else if (type === 7 && phase === "configure") buf = pluginConfig;
      else if (type > 8) return BAD_ARGUMENT;
      else return NOT_FOUND;
      start >>>= 0; max >>>= 0;
      const slice = start > buf.length ? new Uint8Array(0) : buf.subarray(start, Math.min(buf.length, start + max));
      return returnBytes(slice, pp, sp);
    },
    proxy_set_effective_context(id) {
      restricted("proxy_set_effective_context");
      if (!contexts.has(id >>> 0)) return BAD_ARGUMENT;
      effective = id >>> 0;
      return OK;
    },
    proxy_set_tick_period_milliseconds(ms) {
      restricted("proxy_set_tick_period_milliseconds");
      tickPeriod = ms >>> 0;
      return OK;
    },
    proxy_get_header_map_value(type, kp, kl, pp, sp) {
      restricted("proxy_get_header_map_value");
      if (type > 7) return BAD_ARGUMENT;
      const map = headerMap(type);
      if (!map) return BAD_ARGUMENT;
      const key = readStr(kp, kl).toLowerCase();
      const hit = map.find(([k]) => k === key);
      if (!hit) return NOT_FOUND;
      return returnBytes(enc.encode(hit[1]), pp, sp);
    },
    proxy_add_header_map_value(type, kp, kl, vp, vl) {
      restricted("proxy_add_header_map_value");
      if (type > 7) return BAD_ARGUMENT;
      const map = headerMap(type);
      if (!map) return BAD_ARGUMENT;
      map.push([readStr(kp, kl).toLowerCase(), readStr(vp, vl)]);
      return OK;
    },
    proxy_http_call(up, ul, hp, hl, bp, bl, tp, tl, timeout, tokenPtr) {
      restricted("proxy_http_call");
      if (!inBounds(up, ul) || !inBounds(hp, hl) || !inBounds(bp, bl) || !inBounds(tp, tl) || !inBounds(tokenPtr, 4))
        return INVALID_MEMORY_ACCESS;
      const headers = parsePairs(hp, hl);
      if (![":method", ":path", ":authority"].every((k) => headers.some(([hk]) => hk === k))) return BAD_ARGUMENT;
      const token = callouts.length + 1;
      callouts.push({ token, cluster: readStr(up, ul), headers });
      view().setUint32(tokenPtr, token, true);
      return OK;
    },
    proxy_continue_stream(type) {
      restricted("proxy_continue_stream");
      // Envoy: a root context has no stream to continue (OK, no effect); a stream resumes after the callback.
      if (type === 0 && effective === STREAM) continued = true;
      return type > 3 ? BAD_ARGUMENT : OK;
    },
    proxy_define_metric(type, np, nl, idPtr) {
      restricted("proxy_define_metric");
      if (type > 2) return BAD_ARGUMENT;
      const id = nextMetric[type]; nextMetric[type] += 4;
      metrics.set(id, { name: "wasmcustom." + readStr(np, nl), type, value: 0 });
      view().setUint32(idPtr, id, true);
      return OK;
    },
    proxy_increment_metric(id, offset) {
      const m = metrics.get(id >>> 0);
      if (!m) return NOT_FOUND;
      offset = Number(offset);
      if (m.type === 2 || (m.type === 0 && offset <= 0)) return BAD_ARGUMENT;
      m.value += offset;
      return OK;
    },
    proxy_record_metric(id, value) {
      const m = metrics.get(id >>> 0);
      if (!m) return NOT_FOUND;
      if (m.type === 1) m.value = Number(value); else m.value += m.type === 0 ? Number(value) : 0;
      return OK;
    },
    proxy_get_metric(id, valuePtr) {
      const m = metrics.get(id >>> 0);
      if (!m) return NOT_FOUND;
      if (m.type === 2) return BAD_ARGUMENT;
      view().setBigUint64(valuePtr, BigInt(m.value), true);
      return OK;
    },
    proxy_get_shared_data(kp, kl, pp, sp, casPtr) {
      restricted("proxy_get_shared_data");
      const e = shared.get(readStr(kp, kl));
      if (!e) return NOT_FOUND;
      view().setUint32(casPtr, e.cas, true);
      return returnBytes(e.value, pp, sp);
    },
    proxy_set_shared_data(kp, kl, vp, vl, cas) {
      restricted("proxy_set_shared_data");
      const key = readStr(kp, kl), e = shared.get(key);
      if (e && cas !== 0 && e.cas !== (cas >>> 0)) return 8; // CAS_MISMATCH
      shared.set(key, { value: readBytes(vp, vl), cas: nextCas++ });
      return OK;
    },
    proxy_register_shared_queue(np, nl, tokenPtr) {
      restricted("proxy_register_shared_queue");
      if (!inBounds(np, nl) || !inBounds(tokenPtr, 4)) return INVALID_MEMORY_ACCESS;
      const key = `${props.plugin_vm_id}\0${readStr(np, nl)}`; // the caller's own vm_id
      if (!queueTokens.has(key)) { const t = queueTokens.size + 1; queueTokens.set(key, t); queues.set(t, []); }
      view().setUint32(tokenPtr, queueTokens.get(key), true);
      return OK;
    },
    proxy_resolve_shared_queue(vp, vl, np, nl, tokenPtr) {
      restricted("proxy_resolve_shared_queue");
      if (!inBounds(vp, vl) || !inBounds(np, nl) || !inBounds(tokenPtr, 4)) return INVALID_MEMORY_ACCESS;
      const token = queueTokens.get(`${readStr(vp, vl)}\0${readStr(np, nl)}`);
      if (token === undefined) return NOT_FOUND;
      view().setUint32(tokenPtr, token, true);
      return OK;
    },
    proxy_enqueue_shared_queue(token, vp, vl) {
      restricted("proxy_enqueue_shared_queue");
      const q = queues.get(token >>> 0);
      if (!q) return NOT_FOUND;
      if (!inBounds(vp, vl)) return INVALID_MEMORY_ACCESS;
      q.push(readBytes(vp, vl));
      queueReady.push(token >>> 0);
      return OK;
    },
    proxy_dequeue_shared_queue(token, pp, sp) {
      restricted("proxy_dequeue_shared_queue");
      const q = queues.get(token >>> 0);
      if (!q) return NOT_FOUND;
      if (q.length === 0) return EMPTY;
      return returnBytes(q.shift(), pp, sp);
    },
    proxy_send_local_response(status, dp, dl, bp, bl, hp, hl, grpc) {
      restricted("proxy_send_local_response");
      if (!inBounds(dp, dl) || !inBounds(bp, bl) || !inBounds(hp, hl)) return INVALID_MEMORY_ACCESS;
      localReply = { status, details: readStr(dp, dl), body: readStr(bp, bl), headers: parsePairs(hp, hl), grpc: grpc | 0 };
      return OK;
    },
  };
  const wasi = {
    fd_write: fdWrite,
    proc_exit: procExit,
  };
  const provided = { env, wasi_snapshot_preview1: wasi, wasi_unstable: wasi };

  // Strict linking: every import must be provided.
  const importObj = {};
  for (const imp of WebAssembly.Module.imports(mod)) {
    const fn = provided[imp.module]?.[imp.name];
    if (imp.kind !== "function" || !fn) return { load: "link_error", detail: `missing import ${imp.module}.${imp.name} (${imp.kind})`, log };
    (importObj[imp.module] ??= {})[imp.name] = fn;
  }

  const call_ = (name, ...a) => call(name, ...a);
  const call = (name, ...a) => {
    const f = inst.exports[name];
    if (typeof f !== "function") return undefined;
    return f(...a);
  };
  const guarded = (fn) => { try { return { ok: true, v: fn() }; } catch (e) { return { ok: false, e }; } };
  // Queue notifications, delivered once the guest callback that enqueued has returned. Returns an
  // error message if one trapped.
  const deliverQueueReady = () => {
    for (let n = 0; queueReady.length > 0; n++) {
      if (n === 100) return "proxy_on_queue_ready: more than 100 notifications in a row";
      const token = queueReady.shift();
      phase = "queue_ready"; effective = ROOT;
      const q = guarded(() => call("proxy_on_queue_ready", ROOT, token));
      phase = "other";
      if (!q.ok) return `proxy_on_queue_ready trapped: ${q.e.message}`;
    }
    return null;
  };

  // Instantiate (runs a wasm start section), then _initialize or _start.
  let r = guarded(() => { inst = new WebAssembly.Instance(mod, importObj); });
  if (!r.ok) return { load: "start_fails", detail: `instantiate: ${r.e.message}`, log };
  if (!inst.exports.malloc && !inst.exports.proxy_on_memory_allocate) return { load: "link_error", detail: "no allocator", log };
  r = guarded(() => (inst.exports._initialize ? call("_initialize") : call("_start")));
  if (!r.ok) return { load: "start_fails", detail: `start-up: ${r.e.message}`, log };

  // Root context.
  phase = "root"; contexts.add(ROOT); effective = ROOT;
  r = guarded(() => call("proxy_on_context_create", ROOT, 0));
  if (!r.ok) return { load: "start_fails", detail: `proxy_on_context_create(root): ${r.e.message}`, log };
  r = guarded(() => call("proxy_on_vm_start", ROOT, vmConfig.length));
  if (!r.ok || r.v === 0) return { load: "start_fails", detail: `proxy_on_vm_start: ${r.ok ? "returned 0" : r.e.message}`, log };
  phase = "configure";
  r = guarded(() => call("proxy_on_configure", ROOT, pluginConfig.length));
  phase = "other";
  if (!r.ok) return { load: "configure_fails", detail: `proxy_on_configure trapped: ${r.e.message}`, log };
  if (r.v === 0) return { load: "configure_fails", detail: "proxy_on_configure returned 0", log };
  let qerr = deliverQueueReady();
  if (qerr) return { load: "ok", error: qerr, log };
  if (!c.request) return { load: "ok", log };

  // One HTTP stream.
  const req = c.request;
  contexts.add(STREAM);
  reqHeaders = [[":authority", "conformance.test"], [":path", req.path], [":method", req.method], [":scheme", "http"],
    ["user-agent", "wasmgate-mock-host"], ...Object.entries(req.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])];
  r = guarded(() => call("proxy_on_context_create", STREAM, ROOT));
  if (!r.ok) return { load: "ok", error: `proxy_on_context_create(stream): ${r.e.message}`, log };
  phase = "request_headers"; effective = STREAM;
  r = guarded(() => call("proxy_on_request_headers", STREAM, reqHeaders.length, 1));
  phase = "other";
  if (!r.ok) return { load: "ok", error: `proxy_on_request_headers trapped: ${r.e.message}`, log };
  let reqStatus = r.v;
  qerr = deliverQueueReady();
  if (qerr) return { load: "ok", error: qerr, log };
  // Answer the callouts the way the proxy does, after the callback returned: 200 from the
  // cluster, delivered to the root context; the SDK makes the stream effective again.
  for (const call of callouts) {
    calloutHeaders = [[":status", "200"], ["content-type", "application/json"]];
    phase = "callout"; effective = ROOT;
    r = guarded(() => call_("proxy_on_http_call_response", ROOT, call.token, calloutHeaders.length, 0, 0));
    phase = "other";
    if (!r.ok) return { load: "ok", error: `proxy_on_http_call_response trapped: ${r.e.message}`, log };
  }
  // A held request with the timer on: the next tick reaches the root context, which may make the
  // stream effective, edit its request headers and continue it (as the proxy's timer would).
  if (reqStatus === 1 && !continued && tickPeriod > 0 && !localReply) {
    phase = "tick"; effective = ROOT;
    r = guarded(() => call("proxy_on_tick", ROOT));
    phase = "other";
    if (!r.ok) return { load: "ok", error: `proxy_on_tick trapped: ${r.e.message}`, log };
  }
  if (continued) reqStatus = 0;

  let response, upstreamCalled = false, upstreamRequest = null;
  if (localReply) {
    respHeaders = [[":status", String(localReply.status)], ...localReply.headers];
    if (localReply.body) respHeaders.push(["content-type", "text/plain"]);
    response = { status: localReply.status, body: localReply.body };
  } else if (reqStatus !== 0) {
    return { load: "ok", error: `proxy_on_request_headers returned ${reqStatus} without a local reply (stream would hang)`, log };
  } else {
    upstreamCalled = true;
    upstreamRequest = Object.fromEntries([...reqHeaders].reverse().filter(([k]) => !k.startsWith(":")));
    const body = JSON.stringify({ method: req.method, path: req.path, headers: upstreamRequest });
    respHeaders = [[":status", "200"], ["content-type", "application/json"], ["content-length", String(body.length)]];
    response = { status: 200, body };
  }
  // Envoy runs a local reply through the encoder filters too, so the plugin sees response headers either way.
  phase = "response_headers"; effective = STREAM;
  r = guarded(() => call("proxy_on_response_headers", STREAM, respHeaders.length, 0));
  phase = "other";
  if (!r.ok) return { load: "ok", error: `proxy_on_response_headers trapped: ${r.e.message}`, log };
  for (const name of ["proxy_on_done", "proxy_on_log", "proxy_on_delete"]) {
    r = guarded(() => call(name, STREAM));
    if (!r.ok) return { load: "ok", error: `${name} trapped: ${r.e.message}`, log };
  }
  response.headers = respHeaders.filter(([k]) => !k.startsWith(":"));
  const stats = Object.fromEntries([...metrics.values()].map((m) => [m.name, m.value]));
  return { load: "ok", response, upstreamCalled, upstreamRequest, localReply, stats, log };
}

function check(c, res) {
  const e = c.expect, errs = [];
  if (res.load !== e.load) errs.push(`load: got ${res.load} (${res.detail ?? ""}), want ${e.load}`);
  if (res.error) errs.push(res.error);
  if (e.load === "ok" && c.request && res.response) {
    const got = res.response;
    if (e.status !== undefined && got.status !== e.status) errs.push(`status: got ${got.status}, want ${e.status}`);
    for (const [k, v] of Object.entries(e.response_headers ?? {})) {
      const hit = got.headers.find(([hk]) => hk === k);
      if (!hit) errs.push(`response header ${k} missing`);
      else if (hit[1] !== v) errs.push(`response header ${k}: got ${JSON.stringify(hit[1])}, want ${JSON.stringify(v)}`);
    }
    for (const k of e.response_headers_absent ?? []) if (got.headers.some(([hk]) => hk === k)) errs.push(`response header ${k} present`);
    if (e.body !== undefined && got.body !== e.body) errs.push(`body: got ${JSON.stringify(got.body)}, want ${JSON.stringify(e.body)}`);
    if (e.upstream_called !== undefined && res.upstreamCalled !== e.upstream_called) errs.push(`upstream_called: got ${res.upstreamCalled}`);
    for (const [k, v] of Object.entries(e.upstream_request_headers ?? {})) {
      const got = res.upstreamRequest?.[k];
      if (got !== v) errs.push(`upstream request header ${k}: got ${JSON.stringify(got)}, want ${JSON.stringify(v)}`);
    }
    for (const [k, v] of Object.entries(e.stats ?? {}))
      if (res.stats?.[k] !== v) errs.push(`stat ${k}: got ${res.stats?.[k]}, want ${v}`);
  }
  for (const s of e.log_contains ?? []) if (!res.log.some((l) => l.includes(s))) errs.push(`log lacks ${JSON.stringify(s)}`);
  return errs;
}

let failures = 0;
for (const c of spec.cases) {
  let res;
  try { res = runCase(c); } catch (err) { res = { load: "host_error", detail: err.stack, log: [] }; }
  const errs = check(c, res);
  if (errs.length) failures++;
  console.log(`${errs.length ? "FAIL" : "ok  "} ${c.name}${errs.length ? "\n       " + errs.join("\n       ") : ""}`);
  if (verbose || errs.length) for (const l of res.log) console.log(`       | ${l}`);
}
console.log(`mock_host: ${spec.cases.length - failures}/${spec.cases.length} cases agree with expected.json`);
process.exit(failures ? 1 : 0);
