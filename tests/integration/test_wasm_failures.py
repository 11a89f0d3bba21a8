"""A plugin that fails at run time: the proxy stays up and answers by the failure policy.

  * FAIL_CLOSED (default): the request through the plugin gets 503 (details wasm_fail_stream),
    later ones too (the VM is not used again); a listener without the plugin keeps serving;
    wasm.<plugin>.crashes counts the failure once.
  * FAIL_OPEN: the plugin is skipped and the request reaches the upstream.
  * FAIL_RELOAD: a fresh VM after reload_config.backoff (which traps again here), the proxy
    logs the reload, wasm.<plugin>.restarts counts it; after crash_loop.max_crashes failures
    the reloads stop (wasm.<plugin>.crash_loop = 1, state "crash_loop" on the admin page
    /wasm) and requests fail closed.
  * An endless loop in proxy_on_request_headers is stopped by max_callback_duration (503 for
    that request, wasm.<plugin>.callback_timeouts); one in proxy_on_configure is a startup
    error, not a hung proxy.
  * A plugin that allocates until memory.grow fails hits memory_limit_bytes
    (wasm.<plugin>.memory_limit_hits).
The modules are hand-written WAT (data/*.wat) assembled with wat2wasm.
"""

import json
import os
import shutil
import subprocess
import tempfile
import time
import unittest

from harness import Proxy, WasmgateTestCase, fill, free_port, http_request

HERE = os.path.dirname(os.path.abspath(__file__))

CONFIG = """
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: $admin_port}}
static_resources:
  listeners:
  - name: with_plugin
    address: {socket_address: {address: 127.0.0.1, port_value: $port}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: plugin
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: trapper
                vm_config: {runtime: envoy.wasm.runtime.v8, code: {local: {filename: $wasm}}}
                failure_policy: $policy
                reload_config: {backoff: {base_interval: 0.01s}}
                crash_loop: {max_crashes: $max_crashes, window: 60s}
                max_callback_duration: $max_callback
                memory_limit_bytes: $memory_limit
          - name: envoy.filters.http.router
  - name: without_plugin
    address: {socket_address: {address: 127.0.0.1, port_value: $port2}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: plain
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
          - name: envoy.filters.http.router
  clusters:
  - name: up
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""


class WasmFailureTest(WasmgateTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wg-trap-")
        wat2wasm = shutil.which("wat2wasm") or "/usr/bin/wat2wasm"
        cls.modules = {}
        for name in ("trap_on_headers", "loop_on_headers", "loop_on_configure", "memory_bomb"):
            cls.modules[name] = os.path.join(cls.tmp, name + ".wasm")
            subprocess.run([wat2wasm, "--debug-names", os.path.join(HERE, "data", name + ".wat"),
                            "-o", cls.modules[name]], check=True, timeout=30)
        cls.wasm = cls.modules["trap_on_headers"]

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def config(self, policy, module="trap_on_headers", max_crashes=100, max_callback="0.05s",
               memory_limit=268435456):
        self.up = self.start_upstream()
        self.port, self.port2 = free_port(), free_port()
        return fill(CONFIG, admin_port=free_port(), port=self.port, port2=self.port2,
                    up_port=self.up.port, wasm=self.modules[module], policy=policy,
                    max_crashes=max_crashes, max_callback=max_callback, memory_limit=memory_limit)

    def start(self, policy, **kw):
        return self.start_proxy(self.config(policy, **kw))

    def stat(self, p, name):
        for line in p.admin_request("GET", "/stats").body.decode().splitlines():
            if line.startswith(name + ": "):
                return int(line.split(": ")[1])
        return None

    def test_fail_closed(self):
        p = self.start("FAIL_CLOSED")
        for _ in range(3):
            r = http_request(self.port, "GET", "/ok")
            self.assertEqual(r.status, 503, r)
        self.assertEqual(self.up.non_health_requests(), [])
        # Other listeners and the proxy itself are unaffected.
        self.assertEqual(http_request(self.port2, "GET", "/ok").status, 200)
        self.assertTrue(p.running())
        logs = p.logs()
        self.assertIn("wasm plugin 'trapper' failed in proxy_on_request_headers (trap)", logs)
        self.assertIn("explode", logs)  # the trapping function, from the name section
        self.assertEqual(logs.count("wasm plugin 'trapper' failed in"), 1)  # reported once
        self.assertEqual(self.stat(p, "wasm.trapper.crashes"), 1)
        self.assertEqual(self.stat(p, "wasm.trapper.restarts"), 0)

    def test_fail_open(self):
        self.start("FAIL_OPEN")
        for _ in range(3):
            r = http_request(self.port, "GET", "/ok")
            self.assertEqual(r.status, 200, r)

    def test_fail_reload(self):
        p = self.start("FAIL_RELOAD")
        for _ in range(3):
            self.assertEqual(http_request(self.port, "GET", "/ok").status, 503)
            time.sleep(0.1)  # past the (doubling) reload backoff
        self.assertIn("reloading a fresh VM", p.logs())
        self.assertEqual(self.stat(p, "wasm.trapper.crashes"), 3)
        self.assertEqual(self.stat(p, "wasm.trapper.restarts"), 2)
        self.assertEqual(http_request(self.port2, "GET", "/ok").status, 200)

    def test_crash_loop_stops_reloading(self):
        p = self.start("FAIL_RELOAD", max_crashes=3)
        for _ in range(6):
            self.assertEqual(http_request(self.port, "GET", "/ok").status, 503)
            time.sleep(0.15)
        self.assertEqual(self.stat(p, "wasm.trapper.crashes"), 3)
        self.assertEqual(self.stat(p, "wasm.trapper.restarts"), 2)
        self.assertEqual(self.stat(p, "wasm.trapper.crash_loop"), 1)
        self.assertIn("not reloading it any more", p.logs())
        # The admin page says so too.
        plugins = json.loads(p.admin_request("GET", "/wasm").body)
        self.assertEqual(len(plugins), 1, plugins)
        self.assertEqual(plugins[0]["name"], "trapper")
        self.assertEqual(plugins[0]["state"], "crash_loop")
        self.assertEqual(plugins[0]["failure_policy"], "FAIL_RELOAD")
        self.assertEqual((plugins[0]["crashes"], plugins[0]["restarts"]), (3, 2))
        self.assertEqual(self.up.non_health_requests(), [])
        self.assertEqual(http_request(self.port2, "GET", "/ok").status, 200)

    def test_endless_loop_is_terminated(self):
        p = self.start("FAIL_CLOSED", module="loop_on_headers", max_callback="0.1s")
        started = time.monotonic()
        r = http_request(self.port, "GET", "/ok")
        self.assertEqual(r.status, 503, r)
        self.assertLess(time.monotonic() - started, 2.0)
        # The worker is free again: other listeners and later requests are served.
        self.assertEqual(http_request(self.port2, "GET", "/ok").status, 200)
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 503)
        self.assertEqual(self.stat(p, "wasm.trapper.callback_timeouts"), 1)
        self.assertEqual(self.stat(p, "wasm.trapper.crashes"), 1)
        self.assertIn("(callback took too long)", p.logs())

    def test_endless_loop_in_configure_is_a_startup_error(self):
        text = self.config("FAIL_CLOSED", module="loop_on_configure", max_callback="0.05s")
        proxy = Proxy(text, extra_args=["--mode", "validate"])
        with open(proxy.config_path, "w") as f:
            f.write(text)
        started = time.monotonic()
        res = subprocess.run(proxy.command(), capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 1, res)
        self.assertIn("plugin 'trapper': proxy_on_configure failed", res.stderr)
        self.assertIn("terminated", res.stderr)
        self.assertLess(time.monotonic() - started, 10)

    def test_memory_limit(self):
        p = self.start("FAIL_CLOSED", module="memory_bomb", memory_limit=1048576)
        self.assertEqual(http_request(self.port, "GET", "/ok").status, 503)
        self.assertEqual(self.stat(p, "wasm.trapper.memory_limit_hits"), 1)
        self.assertIn("(memory limit reached)", p.logs())
        self.assertEqual(http_request(self.port2, "GET", "/ok").status, 200)


if __name__ == "__main__":
    unittest.main()
