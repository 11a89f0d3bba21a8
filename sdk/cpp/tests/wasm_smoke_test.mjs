// Runs the example plugins' .wasm modules in V8 (Node.js) against a tiny Proxy-Wasm host
// written here from proxy-wasm-abi.md: exercises the real exports, the malloc export and the
// return-pair convention, serialized maps as a host produces them, and the plugins' behaviour.
// It is a smoke test of the modules, not of wasmgate's host.
//
//   node wasm_smoke_test.mjs <dir with add_header.wasm, path_rewrite.wasm, body_redact.wasm>
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2];
const OK = 0, NOT_FOUND = 1, BAD_ARGUMENT = 2, UNIMPLEMENTED = 12;
const enc = new TextEncoder(), dec = new TextDecoder();

function encodePairs(pairs) {
  const parts = pairs.map(([k, v]) => [enc.encode(k), enc.encode(v)]);
  let size = 4;
  for (const [k, v] of parts) size += 8 + k.length + 1 + v.length + 1;
  const out = new Uint8Array(size), view = new DataView(out.buffer);
  view.setUint32(0, parts.length, true);
  let p = 4;
  for (const [k, v] of parts) {
    view.setUint32(p, k.length, true); view.setUint32(p + 4, v.length, true); p += 8;
  }
  for (const [k, v] of parts) {
    out.set(k, p); p += k.length + 1; out.set(v, p); p += v.length + 1;
  }
  return out;
}

class Host {
  constructor(file) {
    this.module = new WebAssembly.Module(readFileSync(join(dir, file)));
    this.logs = [];
    this.properties = new Map();
    this.maps = new Map();   // map type -> [[k, v]]
    this.buffers = new Map(); // buffer type -> Uint8Array
    this.metrics = new Map();
    this.unimplemented = [];
    this.nextId = 4;
    const env = this.env(), wasi = this.wasi();
    const imports = { env: {}, wasi_snapshot_preview1: {} };
    for (const imp of WebAssembly.Module.imports(this.module)) {
      const table = imp.module === 'env' ? env : wasi;
      imports[imp.module][imp.name] = table[imp.name] ?? ((...args) => {
        this.unimplemented.push(imp.name);
        return imp.module === 'env' ? UNIMPLEMENTED : 52; // errno NOSYS
      });
    }
    this.instance = new WebAssembly.Instance(this.module, imports);
    this.x = this.instance.exports;
    this.x._initialize(); // runs the RegisterContextFactory constructors
  }

  get mem() { return new Uint8Array(this.x.memory.buffer); }
  get dv() { return new DataView(this.x.memory.buffer); }
  bytes(ptr, len) { return this.mem.slice(ptr, ptr + len); }
  str(ptr, len) { return dec.decode(this.bytes(ptr, len)); }

  // Host -> guest results: allocate with the module's malloc, write (ptr, size) out-params.
  returnBytes(data, ptrPtr, sizePtr) {
    if (data.length === 0) {
      this.dv.setUint32(ptrPtr, 0, true); this.dv.setUint32(sizePtr, 0, true);
      return OK;
    }
    const p = this.x.malloc(data.length);
    assert.notEqual(p, 0);
    this.mem.set(data, p);
    this.dv.setUint32(ptrPtr, p, true); this.dv.setUint32(sizePtr, data.length, true);
    return OK;
  }

  env() {
    const h = this;
    const map = (t) => h.maps.get(t);
    return {
      proxy_log(level, p, n) { h.logs.push([level, h.str(p, n)]); return OK; },
      proxy_set_effective_context() { return OK; },
      proxy_get_property(p, n, rp, rn) {
        const path = h.str(p, n).replace(/\0+$/, '');
        if (!h.properties.has(path)) return NOT_FOUND;
        return h.returnBytes(enc.encode(h.properties.get(path)), rp, rn);
      },
      proxy_get_buffer_bytes(type, start, max, rp, rn) {
        const b = h.buffers.get(type);
        if (!b) return NOT_FOUND;
        return h.returnBytes(b.slice(start, start + max), rp, rn); // clamps
      },
      proxy_get_buffer_status(type, lenPtr, flagsPtr) {
        const b = h.buffers.get(type);
        if (!b) return NOT_FOUND;
        h.dv.setUint32(lenPtr, b.length, true); h.dv.setUint32(flagsPtr, 0, true);
        return OK;
      },
      proxy_set_buffer_bytes(type, start, size, p, n) {
        const b = h.buffers.get(type);
        if (!b) return NOT_FOUND;
        const data = h.bytes(p, n);
        if (start === 0) {
          const rest = b.slice(Math.min(size, b.length));
          const out = new Uint8Array(data.length + rest.length);
          out.set(data); out.set(rest, data.length);
          h.buffers.set(type, out);
        } else if (start >= b.length) {
          const out = new Uint8Array(b.length + data.length);
          out.set(b); out.set(data, b.length);
          h.buffers.set(type, out);
        } else return BAD_ARGUMENT;
        return OK;
      },
      proxy_get_header_map_pairs(t, rp, rn) {
        const m = map(t);
        return h.returnBytes(m && m.length ? encodePairs(m) : new Uint8Array(), rp, rn);
      },
      proxy_get_header_map_value(t, kp, kn, rp, rn) {
        const m = map(t);
        if (!m) return BAD_ARGUMENT;
        const e = m.find(([k]) => k === h.str(kp, kn));
        return e ? h.returnBytes(enc.encode(e[1]), rp, rn) : NOT_FOUND;
      },
      proxy_add_header_map_value(t, kp, kn, vp, vn) {
        const m = map(t);
        if (!m) return BAD_ARGUMENT;
        m.push([h.str(kp, kn), h.str(vp, vn)]);
        return OK;
      },
      proxy_replace_header_map_value(t, kp, kn, vp, vn) {
        const m = map(t);
        if (!m) return BAD_ARGUMENT;
        const k = h.str(kp, kn);
        h.maps.set(t, m.filter(([key]) => key !== k).concat([[k, h.str(vp, vn)]]));
        return OK;
      },
      proxy_remove_header_map_value(t, kp, kn) {
        const m = map(t);
        if (!m) return BAD_ARGUMENT;
        const k = h.str(kp, kn);
        h.maps.set(t, m.filter(([key]) => key !== k));
        return OK;
      },
      proxy_define_metric(type, p, n, idPtr) {
        const id = h.nextId; h.nextId += 4;
        h.metrics.set(id, { type, name: h.str(p, n), value: 0n });
        h.dv.setUint32(idPtr, id, true);
        return OK;
      },
      proxy_increment_metric(id, offset) { // i64 arrives as a BigInt
        const m = h.metrics.get(id);
        if (!m) return NOT_FOUND;
        m.value += offset;
        return OK;
      },
    };
  }

  wasi() {
    const h = this;
    return {
      fd_write(fd, iovs, n, nwritten) {
        let total = 0, text = '';
        for (let i = 0; i < n; i++) {
          const p = h.dv.getUint32(iovs + 8 * i, true), len = h.dv.getUint32(iovs + 8 * i + 4, true);
          text += h.str(p, len); total += len;
        }
        h.logs.push([fd === 1 ? 2 : 4, text]);
        h.dv.setUint32(nwritten, total, true);
        return 0;
      },
      environ_sizes_get(countPtr, sizePtr) {
        h.dv.setUint32(countPtr, 0, true); h.dv.setUint32(sizePtr, 0, true); return 0;
      },
      environ_get() { return 0; },
      proc_exit(code) { throw new Error(`proc_exit(${code})`); },
    };
  }

  // The lifecycle of proxy-wasm-abi.md 4.1 for one root context.
  start(rootId, config) {
    this.properties.set('plugin_root_id', rootId);
    this.x.proxy_on_context_create(1, 0);
    assert.equal(this.x.proxy_on_vm_start(1, 0), 1);
    const bytes = enc.encode(config);
    this.buffers.set(7, bytes);
    const ok = this.x.proxy_on_configure(1, bytes.length);
    this.buffers.delete(7);
    return ok;
  }
  header(t, key) { return (this.maps.get(t) ?? []).find(([k]) => k === key)?.[1]; }
}

const results = [];
function test(name, fn) {
  try { fn(); results.push(`ok   ${name}`); }
  catch (e) { results.push(`FAIL ${name}: ${e.stack}`); process.exitCode = 1; }
}

test('add_header adds the configured response header', () => {
  const h = new Host('add_header.wasm');
  for (const name of ['proxy_abi_version_0_2_1', 'malloc', 'proxy_on_context_create'])
    assert.equal(typeof h.x[name], 'function', name);
  assert.equal(h.start('add_header_root_id', '{"name": "x-hello", "value": "wasmgate"}'), 1);
  assert.ok(h.logs.some(([l, m]) => l === 2 && m.includes('adding "x-hello: wasmgate"')), h.logs);
  h.x.proxy_on_context_create(2, 1);
  h.maps.set(0, [[':path', '/'], [':method', 'GET']]);
  h.maps.set(2, [[':status', '200']]);
  assert.equal(h.x.proxy_on_request_headers(2, 2, 1), 0);
  assert.equal(h.x.proxy_on_response_headers(2, 1, 1), 0);
  assert.equal(h.header(2, 'x-hello'), 'wasmgate');
  assert.equal(h.header(0, 'x-hello'), undefined);
  h.x.proxy_on_log(2); assert.equal(h.x.proxy_on_done(2), 1); h.x.proxy_on_delete(2);
  assert.equal(h.x.proxy_on_done(1), 1); h.x.proxy_on_delete(1);
  assert.deepEqual(h.unimplemented, []);
});

test('add_header rejects a bad configuration', () => {
  const h = new Host('add_header.wasm');
  assert.equal(h.start('add_header_root_id', '{"value": "no name"}'), 0);
});

test('path_rewrite rewrites :path (both formats)', () => {
  const h = new Host('path_rewrite.wasm');
  const config = JSON.stringify({ rewrites: [
    { regex_match: '...', custom_path: '/anything' },
    { pattern: '^/api/v1/(.*)', replacement: '/v2/$1' },
  ] });
  assert.equal(h.start('path_rewrite_root_id', config), 1);
  let id = 2;
  for (const [from, to] of [['/ab', '/anything'], ['/api/v1/users?x=1', '/v2/users?x=1'],
                            ['/static/app.js', '/static/app.js']]) {
    h.x.proxy_on_context_create(id, 1);
    h.maps.set(0, [[':path', from], [':method', 'GET']]);
    assert.equal(h.x.proxy_on_request_headers(id, 2, 1), 0);
    assert.equal(h.header(0, ':path'), to, from);
    h.x.proxy_on_delete(id++);
  }
});

test('body_redact buffers, redacts and drops content-length', () => {
  const h = new Host('body_redact.wasm');
  assert.equal(h.start('body_redact_root_id', '{"literals": ["hunter2"]}'), 1);
  h.x.proxy_on_context_create(2, 1);
  h.maps.set(2, [[':status', '200'], ['content-type', 'text/plain'], ['content-length', '42']]);
  assert.equal(h.x.proxy_on_response_headers(2, 3, 0), 0);
  assert.equal(h.header(2, 'content-length'), undefined);
  h.buffers.set(1, enc.encode('password: hun'));
  assert.equal(h.x.proxy_on_response_body(2, 13, 0), 1); // StopIterationAndBuffer
  h.buffers.set(1, enc.encode('password: hunter2, again hunter2.'));
  assert.equal(h.x.proxy_on_response_body(2, h.buffers.get(1).length, 1), 0);
  assert.equal(dec.decode(h.buffers.get(1)), 'password: [REDACTED], again [REDACTED].');
  const counter = [...h.metrics.values()].find((m) => m.name === 'body_redact.redactions');
  assert.equal(counter.value, 2n);
});

test('body_redact default card pattern', () => {
  const h = new Host('body_redact.wasm');
  assert.equal(h.start('', ''), 1);
  h.x.proxy_on_context_create(2, 1);
  h.maps.set(2, [[':status', '200'], ['content-type', 'application/json']]);
  h.x.proxy_on_response_headers(2, 2, 0);
  h.buffers.set(1, enc.encode('{"card":"4111-1111-1111-1111","id":12345}'));
  assert.equal(h.x.proxy_on_response_body(2, h.buffers.get(1).length, 1), 0);
  assert.equal(dec.decode(h.buffers.get(1)), '{"card":"[REDACTED]","id":12345}');
});

// The plugin configuration and root_id of examples/plugins/<name>/envoy.yaml (the block scalar
// after "value: |"), so the shipped Envoy configs are known to be accepted by their plugins.
function envoyYamlConfig(name) {
  const yaml = readFileSync(new URL(`../../../examples/plugins/${name}/envoy.yaml`, import.meta.url),
                            'utf8').split('\n');
  const rootId = yaml.find((l) => /^\s*root_id:/.test(l)).split(':')[1].trim();
  const start = yaml.findIndex((l) => /value: \|\s*$/.test(l));
  const indent = yaml[start + 1].search(/\S/);
  const block = [];
  for (const line of yaml.slice(start + 1)) {
    if (line.trim() !== '' && line.search(/\S/) < indent) break;
    block.push(line.slice(indent));
  }
  return [rootId, block.join('\n')];
}

for (const name of ['add_header', 'path_rewrite', 'body_redact']) {
  test(`${name}: examples/plugins/${name}/envoy.yaml configuration is accepted`, () => {
    const h = new Host(`${name}.wasm`);
    const [rootId, config] = envoyYamlConfig(name);
    JSON.parse(config);
    assert.equal(h.start(rootId, config), 1);
    assert.ok(!h.logs.some(([, m]) => m.includes('no context factory')), h.logs);
  });
}

console.log(results.join('\n'));
