"""Shared data through the real binary: the rate_limit example plugin (examples/plugins/rate_limit)
keeps one request budget in proxy_get/set_shared_data with CAS. With two workers and many client
connections (spread over both workers), exactly max_requests requests pass per window and the
rest get 429 with retry-after, on V8 and on the null runtime; a plugin with another vm_id has its
own budget; the next window starts over.
"""

import os
import textwrap
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import WasmgateTestCase, fill, free_port, http_request

PLUGINS = os.environ.get("WASMGATE_PLUGINS",
                         os.path.join(os.path.dirname(__file__), "..", "..", "build", "plugins"))

LISTENER = """
  - name: $name
    address: {socket_address: {address: 127.0.0.1, port_value: $port}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: $name
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: rate_limit
                vm_config:
                  vm_id: $vm_id
                  runtime: $runtime
                  code: {local: $code}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"max_requests": $max, "window_seconds": $window}'
          - name: envoy.filters.http.router
"""

CONFIG = """
admin:
  address: {socket_address: {address: 127.0.0.1, port_value: $admin_port}}
static_resources:
  listeners:
$listeners
  clusters:
  - name: up
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""


class SharedDataTest(WasmgateTestCase):
    def start(self, native, listeners):
        if native:
            runtime, code = "envoy.wasm.runtime.null", "{inline_string: rate_limit}"
        else:
            wasm = os.path.abspath(os.path.join(PLUGINS, "rate_limit.wasm"))
            if not os.path.exists(wasm):
                self.fail(f"{wasm} is missing: run scripts/build-plugins.sh")
            runtime, code = "envoy.wasm.runtime.v8", "{filename: %s}" % wasm
        up = self.start_upstream()
        # fill() dedents: put the listeners back under "listeners:".
        text = textwrap.indent("".join(fill(LISTENER, runtime=runtime, code=code, **l)
                                       for l in listeners), "  ")
        self.start_proxy(fill(CONFIG, admin_port=free_port(), up_port=up.port, listeners=text),
                         concurrency=2)

    def burst(self, port, n):
        # Fresh connections from several threads: both workers take a share.
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(lambda _: http_request(port, "GET", "/echo"), range(n)))

    def check_budget(self, native):
        port, other = free_port(), free_port()
        self.start(native, [dict(name="limited", port=port, vm_id="rl", max=10, window=3600),
                            dict(name="other", port=other, vm_id="rl_other", max=3, window=3600)])
        responses = self.burst(port, 30)
        codes = sorted(r.status for r in responses)
        self.assertEqual(codes.count(200), 10, codes)
        self.assertEqual(codes.count(429), 20, codes)
        denied = [r for r in responses if r.status == 429][0]
        self.assertEqual(denied.body, b"rate limit exceeded\n")
        self.assertTrue(0 < int(denied.header("retry-after")) <= 3600, denied)
        # Another vm_id: its own store, its own budget.
        codes = [r.status for r in self.burst(other, 5)]
        self.assertEqual(sorted(codes), [200, 200, 200, 429, 429])

    def test_budget_shared_by_workers_v8(self):
        self.check_budget(native=False)

    def test_budget_shared_by_workers_null_runtime(self):
        self.check_budget(native=True)

    def test_next_window_starts_over(self):
        """One key per budget holds the window with the count: a new window resets it."""
        import time
        port = free_port()
        self.start(True, [dict(name="limited", port=port, vm_id="rl", max=2, window=1)])
        # Start at the beginning of a second so that the three requests share a window.
        time.sleep(1 - time.time() % 1 + 0.05)
        codes = [http_request(port, "GET", "/echo").status for _ in range(3)]
        self.assertEqual(codes, [200, 200, 429])
        time.sleep(1 - time.time() % 1 + 0.05)
        codes = [http_request(port, "GET", "/echo").status for _ in range(3)]
        self.assertEqual(codes, [200, 200, 429])


if __name__ == "__main__":
    unittest.main()
