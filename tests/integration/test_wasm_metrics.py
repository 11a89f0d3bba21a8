"""Plugin-defined metrics through the real binary: the request_metrics example plugin defines a
tagged counter, a gauge and a histogram; /stats shows them under wasmcustom., and
/stats/prometheus shows them without the namespace, with labels extracted by stats_tags, the
histogram with buckets; two workers add up into one series. On V8 and on the null runtime.
"""

import os
import textwrap
import unittest

from harness import WasmgateTestCase, fill, free_port, http_request

PLUGINS = os.environ.get("WASMGATE_PLUGINS",
                         os.path.join(os.path.dirname(__file__), "..", "..", "build", "plugins"))

CONFIG = r"""
stats_config:
  stats_tags:
  - tag_name: method
    regex: "^wasmcustom\\.(method\\.(\\w+)\\.)"
  - tag_name: response_code
    regex: "\\.(response_code\\.(\\d+)\\.)"
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
          stat_prefix: m
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: request_metrics
                vm_config: {vm_id: metrics, runtime: $runtime, code: {local: $code}}
          - name: envoy.filters.http.router
  clusters:
  - name: up
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""


class MetricsTest(WasmgateTestCase):
    def check(self, native):
        if native:
            runtime, code = "envoy.wasm.runtime.null", "{inline_string: request_metrics}"
        else:
            wasm = os.path.abspath(os.path.join(PLUGINS, "request_metrics.wasm"))
            if not os.path.exists(wasm):
                self.fail(f"{wasm} is missing: run scripts/build-plugins.sh")
            runtime, code = "envoy.wasm.runtime.v8", "{filename: %s}" % wasm
        up = self.start_upstream()
        port = free_port()
        p = self.start_proxy(fill(CONFIG, admin_port=free_port(), port=port, up_port=up.port,
                                  runtime=runtime, code=code), concurrency=2)
        for _ in range(3):
            self.assertEqual(http_request(port, "GET", "/echo").status, 200)
        for _ in range(2):
            self.assertEqual(http_request(port, "POST", "/echo", body=b"x").status, 200)
        self.assertEqual(http_request(port, "GET", "/status?code=404").status, 404)

        text = p.admin_request("GET", "/stats").body.decode()
        self.assertIn("wasmcustom.method.GET.response_code.200.requests_total: 3", text)
        self.assertIn("wasmcustom.method.POST.response_code.200.requests_total: 2", text)
        self.assertIn("wasmcustom.method.GET.response_code.404.requests_total: 1", text)
        self.assertIn("wasmcustom.requests_active: 0", text)

        prom = p.admin_request("GET", "/stats/prometheus").body.decode()
        self.assertIn("# TYPE requests_total counter", prom)
        self.assertIn('requests_total{method="GET",response_code="200"} 3', prom)
        self.assertIn('requests_total{method="POST",response_code="200"} 2', prom)
        self.assertIn('requests_total{method="GET",response_code="404"} 1', prom)
        self.assertIn("# TYPE requests_active gauge", prom)
        self.assertIn("# TYPE request_duration_ms histogram", prom)
        self.assertIn("request_duration_ms_count{} 6", prom)
        self.assertIn('request_duration_ms_bucket{le="+Inf"} 6', prom)
        self.assertNotIn("envoy_wasmcustom", prom)

    def test_metrics_v8(self):
        self.check(native=False)

    def test_metrics_null_runtime(self):
        self.check(native=True)


if __name__ == "__main__":
    unittest.main()
