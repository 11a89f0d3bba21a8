"""A plugin that traps at run time: the proxy stays up and answers by the failure policy.

  * FAIL_CLOSED (default): the request through the plugin gets 503 (details wasm_fail_stream),
    later ones too (the VM is not used again); a listener without the plugin keeps serving.
  * FAIL_OPEN: the plugin is skipped and the request reaches the upstream.
  * FAIL_RELOAD: every request gets a fresh VM (which traps again here), and the proxy logs
    the reload.
The module is hand-written WAT (data/trap_on_headers.wat) assembled with wat2wasm.
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import WasmgateTestCase, fill, free_port, http_request

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
        cls.wasm = os.path.join(cls.tmp, "trap_on_headers.wasm")
        wat2wasm = shutil.which("wat2wasm") or "/usr/bin/wat2wasm"
        subprocess.run([wat2wasm, "--debug-names", os.path.join(HERE, "data", "trap_on_headers.wat"),
                        "-o", cls.wasm], check=True, timeout=30)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, policy):
        self.up = self.start_upstream()
        self.port, self.port2 = free_port(), free_port()
        return self.start_proxy(fill(CONFIG, admin_port=free_port(), port=self.port, port2=self.port2,
                                     up_port=self.up.port, wasm=self.wasm, policy=policy))

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
        self.assertIn("wasm plugin 'trapper' failed", logs)
        self.assertIn("explode", logs)  # the trapping function, from the name section

    def test_fail_open(self):
        self.start("FAIL_OPEN")
        for _ in range(3):
            r = http_request(self.port, "GET", "/ok")
            self.assertEqual(r.status, 200, r)

    def test_fail_reload(self):
        p = self.start("FAIL_RELOAD")
        for _ in range(3):
            self.assertEqual(http_request(self.port, "GET", "/ok").status, 503)
        self.assertIn("reloading a fresh VM", p.logs())
        self.assertEqual(http_request(self.port2, "GET", "/ok").status, 200)


if __name__ == "__main__":
    unittest.main()
