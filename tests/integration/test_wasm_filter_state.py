"""proxy_set_property writes the stream's filter state, as in Envoy: two Wasm filters in one
chain (data/filter_state.wat), the second reads what the first set (the upstream sees it as a
header), and the access log prints it with %FILTER_STATE(wasm.<name>)%. The foreign functions
declare_property (a readonly property is set only once) and set_envoy_filter_state (a filter
state key of its own) work through the real binary too (data/foreign.wat).
"""

import os
import shutil
import subprocess
import tempfile
import unittest

from harness import WasmgateTestCase, fill, free_port, http_request, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))

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
          stat_prefix: fs
          access_log:
          - name: envoy.access_loggers.file
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog
              path: $log_path
              log_format:
                text_format_source:
                  inline_string: "typed=%FILTER_STATE(wasm.wasm_seen)% plain=%FILTER_STATE(wasm.wasm_seen:PLAIN)% short=%FILTER_STATE(wasm.wasm_seen:PLAIN):3% none=%FILTER_STATE(wasm.other)%\\n"
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: first
                vm_config: {vm_id: first, runtime: envoy.wasm.runtime.v8, code: {local: {filename: $wasm}}}
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: second
                vm_config: {vm_id: second, runtime: envoy.wasm.runtime.v8, code: {local: {filename: $wasm}}}
          - name: envoy.filters.http.router
  clusters:
  - name: up
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""


class FilterStateTest(WasmgateTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wg-fs-")
        cls.wasm = os.path.join(cls.tmp, "filter_state.wasm")
        cls.foreign_wasm = os.path.join(cls.tmp, "foreign.wasm")
        wat2wasm = shutil.which("wat2wasm") or "/usr/bin/wat2wasm"
        for name, out in (("filter_state", cls.wasm), ("foreign", cls.foreign_wasm)):
            subprocess.run([wat2wasm, "--debug-names", os.path.join(HERE, "data", name + ".wat"),
                            "-o", out], check=True, timeout=30)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def test_set_property_is_filter_state(self):
        up = self.start_upstream()
        port = free_port()
        log_path = os.path.join(self.tmp, "access.log")
        self.start_proxy(fill(CONFIG, admin_port=free_port(), port=port, up_port=up.port,
                              wasm=self.wasm, log_path=log_path))
        r = http_request(port, "GET", "/echo")
        self.assertEqual(r.status, 200, r)
        # Only the second filter found the value the first one set.
        self.assertEqual(r.json()["headers"].get("x-seen"), "yes-from-plugin")
        # A new stream starts with empty filter state.
        r = http_request(port, "GET", "/echo")
        self.assertEqual(r.json()["headers"].get("x-seen"), "yes-from-plugin")
        def read():
            if not os.path.exists(log_path):
                return ""
            with open(log_path) as f:
                return f.read()
        wait_until(lambda: read().count("\n") >= 2)
        lines = read().splitlines()
        self.assertEqual(lines[0], 'typed="yes-from-plugin" plain=yes-from-plugin short=yes none=-')

    def test_foreign_functions(self):
        up = self.start_upstream()
        port = free_port()
        log_path = os.path.join(self.tmp, "foreign.log")
        config = fill(CONFIG, admin_port=free_port(), port=port, up_port=up.port,
                      wasm=self.foreign_wasm, log_path=log_path)
        config = config.replace("%FILTER_STATE(wasm.wasm_seen:PLAIN)%",
                                "%FILTER_STATE(my.key:PLAIN)%")
        # One filter is enough here.
        start = config.index("          - name: envoy.filters.http.wasm", config.index("name: first"))
        end = config.index("          - name: envoy.filters.http.router")
        config = config[:start] + config[end:]
        self.start_proxy(config)
        r = http_request(port, "GET", "/echo")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["headers"].get("x-readonly"), "enforced")

        def read():
            if not os.path.exists(log_path):
                return ""
            with open(log_path) as f:
                return f.read()
        wait_until(lambda: read().count("\n") >= 1)
        self.assertIn("plain=v1", read())


if __name__ == "__main__":
    unittest.main()
