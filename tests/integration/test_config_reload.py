"""Reloading the configuration while serving (SIGHUP or POST /reload on the admin endpoint).

  * A changed plugin configuration (or a new .wasm) applies to new connections without a
    restart; server.config_reload.success counts it.
  * A keep-alive connection opened before the reload gets one more response on the
    configuration it started with, marked `connection: close`, then the client reconnects onto
    the new one: no request is caught by the close.
  * A reload that changes something only a restart can apply (a cluster, a listener address),
    a file that does not load, or a plugin that fails to load is refused with an error naming
    the field or plugin; the previous configuration keeps serving (server.config_reload.failure).
  * A reload clears a crash loop: the replaced plugin's instances are released once their last
    stream is gone (the admin page /wasm lists only the new one), wasm.<plugin>.crash_loop goes
    back to 0, and the new configuration runs the plugin again.
  * Requests in flight across repeated reloads all complete (two workers, keep-alive clients).
"""

import http.client
import json
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

from harness import Conn, Proxy, WasmgateTestCase, fill, free_port, http_request, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.environ.get("WASMGATE_PLUGINS", os.path.join(HERE, "..", "..", "build", "plugins"))
ADD_HEADER = os.path.abspath(os.path.join(PLUGINS, "add_header.wasm"))

CONFIG = """
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: $admin_port}}
static_resources:
  listeners:
  - name: main
    address: {socket_address: {address: 127.0.0.1, port_value: $port}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: $name
                root_id: add_header_root_id
                vm_config: {runtime: envoy.wasm.runtime.v8, code: {local: {filename: $wasm}}}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"name": "x-config", "value": "$value"}'
                failure_policy: $policy
                reload_config: {backoff: {base_interval: 0.01s}}
                crash_loop: {max_crashes: 2, window: 60s}
          - name: envoy.filters.http.router
  clusters:
  - name: up
    connect_timeout: $connect_timeout
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""


class ConfigReloadTest(WasmgateTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wg-reload-")
        cls.trap = os.path.join(cls.tmp, "trap_on_headers.wasm")
        wat2wasm = shutil.which("wat2wasm") or "/usr/bin/wat2wasm"
        subprocess.run([wat2wasm, "--debug-names", os.path.join(HERE, "data", "trap_on_headers.wat"),
                        "-o", cls.trap], check=True, timeout=30)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        if not os.path.exists(ADD_HEADER):
            self.fail(f"{ADD_HEADER} is missing: run scripts/build-plugins.sh")
        self.up = self.start_upstream()
        self.port = free_port()
        self.admin_port = free_port()

    def config(self, value="one", wasm=ADD_HEADER, name="headers", policy="FAIL_CLOSED",
               connect_timeout="1s"):
        return fill(CONFIG, admin_port=self.admin_port, port=self.port, up_port=self.up.port,
                    name=name, wasm=wasm, value=value, policy=policy,
                    connect_timeout=connect_timeout)

    def start(self, concurrency=1, **kw):
        # Idle connections left from before a reload close within a second.
        return self.start_proxy(self.config(**kw), concurrency=concurrency,
                                extra_args=["--drain-time-s", "1"])

    def rewrite(self, p, **kw):
        with open(p.config_path, "w") as f:
            f.write(self.config(**kw))

    def reload(self, p, **kw):
        self.rewrite(p, **kw)
        return p.admin_post("/reload")

    def plugins(self, p):
        return json.loads(p.admin_get("/wasm").body)

    def test_sighup_applies_a_new_plugin_configuration(self):
        p = self.start()
        self.assertEqual(http_request(self.port, "GET", "/ok").header("x-config"), "one")
        self.rewrite(p, value="two")
        p.signal(signal.SIGHUP)
        p.wait_stat("server.config_reload.success", lambda v: v == 1)
        r = http_request(self.port, "GET", "/ok")
        self.assertEqual((r.status, r.header("x-config")), (200, "two"), r)
        self.assertIn("configuration reloaded", p.logs())
        # The replaced plugin is released once nothing uses it: /wasm lists the new one only.
        self.assertTrue(wait_until(lambda: len(self.plugins(p)) == 1, timeout=5), self.plugins(p))
        self.assertTrue(p.running())

    def test_keep_alive_connection_finishes_on_its_configuration(self):
        p = self.start()
        with Conn(self.port) as c:
            r = c.request("GET", "/ok")
            self.assertEqual(r.header("x-config"), "one")
            self.assertIsNone(r.header("connection"))
            self.assertEqual(self.reload(p, value="two").status, 200)
            # One more response on the old chain, then the connection closes.
            r = c.request("GET", "/ok")
            self.assertEqual((r.status, r.header("x-config")), (200, "one"), r)
            self.assertEqual(r.header("connection"), "close")
            self.assertTrue(c.wait_closed(timeout=5))
        self.assertEqual(http_request(self.port, "GET", "/ok").header("x-config"), "two")

    def test_idle_connection_is_closed_after_the_grace_period(self):
        p = self.start()
        with Conn(self.port) as c:
            self.assertEqual(c.request("GET", "/ok").header("x-config"), "one")
            self.assertEqual(self.reload(p, value="two").status, 200)
            started = time.monotonic()
            self.assertTrue(c.wait_closed(timeout=5))
            self.assertGreater(time.monotonic() - started, 0.5)  # --drain-time-s 1
        p.wait_stat("http.ingress_http.downstream_cx_drain_close", lambda v: v == 1)

    def test_refused_reloads_keep_the_running_configuration(self):
        p = self.start()
        cases = [
            (dict(connect_timeout="2s"), "static_resources.clusters[0].connect_timeout: changed"),
            (dict(wasm="/nonexistent/plugin.wasm"), "/nonexistent/plugin.wasm"),
            (dict(name="bad", value="x\"y"), "plugin 'bad': proxy_on_configure returned false"),
        ]
        for n, (kw, expected) in enumerate(cases, start=1):
            r = self.reload(p, **kw)
            self.assertEqual(r.status, 400, (kw, r))
            self.assertIn(expected, r.text, kw)
            self.assertEqual(p.stat("server.config_reload.failure"), n)
            r = http_request(self.port, "GET", "/ok")
            self.assertEqual((r.status, r.header("x-config")), (200, "one"), (kw, r))
        with open(p.config_path, "w") as f:
            f.write("static_resources: [unclosed\n")
        r = p.admin_post("/reload")
        self.assertEqual(r.status, 400)
        self.assertIn(p.config_path, r.text)
        self.assertIn("invalid YAML", r.text)
        self.assertIn("configuration reload refused", p.logs())
        self.assertEqual(p.stat("server.config_reload.success"), 0)
        # Reload is a state change: GET is refused, as for Envoy's mutating endpoints.
        self.assertEqual(p.admin_get("/reload").status, 405)

    def test_inline_configuration_cannot_be_reloaded(self):
        text = self.config()
        p = self.start_proxy(text, use_config_file=False, extra_args=["--config-yaml", text])
        r = p.admin_post("/reload")
        self.assertEqual(r.status, 400)
        self.assertIn("--config-yaml", r.text)

    def test_reload_clears_a_crash_loop(self):
        p = self.start(wasm=self.trap, name="trapper", policy="FAIL_RELOAD")
        for _ in range(4):
            self.assertEqual(http_request(self.port, "GET", "/ok").status, 503)
            time.sleep(0.1)
        self.assertEqual(p.stat("wasm.trapper.crash_loop"), 1)
        self.assertEqual(p.stat("wasm.trapper.crashes"), 2)
        self.assertEqual(self.plugins(p)[0]["state"], "crash_loop")

        # The same file again: a new configuration of the plugin with a clean history.
        self.assertEqual(p.admin_post("/reload").status, 200)
        wait_until(lambda: len(self.plugins(p)) == 1, timeout=5)
        plugins = self.plugins(p)
        self.assertEqual([x["state"] for x in plugins], ["ok"], plugins)
        self.assertEqual(p.stat("wasm.trapper.crash_loop"), 0)
        # It runs again (and traps again: a fresh VM, not the failed one).
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 503)
        self.assertEqual(p.stat("wasm.trapper.crashes"), 3)

        # A fixed plugin under the same name serves.
        self.assertEqual(self.reload(p, name="trapper", policy="FAIL_RELOAD").status, 200)
        r = http_request(self.port, "GET", "/ok")
        self.assertEqual((r.status, r.header("x-config")), (200, "one"), r)
        self.assertTrue(wait_until(lambda: len(self.plugins(p)) == 1, timeout=5))
        self.assertEqual(p.stat("wasm.trapper.crash_loop"), 0)

    def test_requests_in_flight_across_reloads_all_complete(self):
        p = self.start(concurrency=2)
        stop = threading.Event()
        results = {"ok": 0, "values": set(), "errors": []}
        lock = threading.Lock()

        def client():
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            while not stop.is_set():
                try:
                    conn.request("GET", "/ok")
                    resp = conn.getresponse()
                    resp.read()
                    with lock:
                        if resp.status == 200:
                            results["ok"] += 1
                            results["values"].add(resp.getheader("x-config"))
                        else:
                            results["errors"].append(resp.status)
                    if resp.will_close:
                        conn.close()  # the next request reconnects
                except Exception as e:  # noqa: any failure is what this test looks for
                    with lock:
                        results["errors"].append(repr(e))
                    conn.close()
            conn.close()

        threads = [threading.Thread(target=client) for _ in range(4)]
        for t in threads:
            t.start()
        try:
            for i in range(6):
                time.sleep(0.3)
                self.assertEqual(self.reload(p, value=f"v{i}").status, 200)
            time.sleep(0.3)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=15)
        self.assertEqual(results["errors"], [])
        self.assertGreater(results["ok"], 100)
        self.assertIn("v5", results["values"])
        self.assertEqual(p.stat("server.config_reload.success"), 6)
        self.assertTrue(wait_until(lambda: len(self.plugins(p)) == 1, timeout=10), self.plugins(p))


if __name__ == "__main__":
    unittest.main()
