"""Shared queues through the real binary with the queue_pair example plugin: a producer VM
(vm_id queue_producer) enqueues every request into the queue a consumer VM (vm_id
queue_consumer) registered; proxy_on_queue_ready runs on the consumer's worker, which dequeues
and counts every item. Two workers and concurrent clients; on V8 and on the null runtime.
"""

import os
import unittest
from concurrent.futures import ThreadPoolExecutor

from harness import WasmgateTestCase, fill, free_port, http_request, wait_until

PLUGINS = os.environ.get("WASMGATE_PLUGINS",
                         os.path.join(os.path.dirname(__file__), "..", "..", "build", "plugins"))

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
          stat_prefix: q
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: producer
                root_id: producer
                vm_config: {vm_id: queue_producer, runtime: $runtime, code: {local: $code}}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"consumer_vm_id": "queue_consumer", "queue": "requests"}'
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: consumer
                root_id: consumer
                vm_config: {vm_id: queue_consumer, runtime: $runtime, code: {local: $code}}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"queue": "requests"}'
          - name: envoy.filters.http.router
  clusters:
  - name: up
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""


class QueueTest(WasmgateTestCase):
    def check(self, native):
        if native:
            runtime, code = "envoy.wasm.runtime.null", "{inline_string: queue_pair}"
        else:
            wasm = os.path.abspath(os.path.join(PLUGINS, "queue_pair.wasm"))
            if not os.path.exists(wasm):
                self.fail(f"{wasm} is missing: run scripts/build-plugins.sh")
            runtime, code = "envoy.wasm.runtime.v8", "{filename: %s}" % wasm
        up = self.start_upstream()
        port = free_port()
        p = self.start_proxy(fill(CONFIG, admin_port=free_port(), port=port, up_port=up.port,
                                  runtime=runtime, code=code), concurrency=2)
        with ThreadPoolExecutor(max_workers=6) as pool:
            codes = list(pool.map(lambda i: http_request(port, "GET", "/echo/item-%d" % i).status,
                                  range(20)))
        self.assertEqual(codes, [200] * 20)

        def consumed():
            for line in p.admin_request("GET", "/stats").body.decode().splitlines():
                if line.startswith("wasmcustom.queue_consumed_total: "):
                    return int(line.split(": ")[1])
            return 0
        wait_until(lambda: consumed() == 20, timeout=5)
        logs = p.logs(max_bytes=200000)
        for i in range(20):
            self.assertIn("consumed GET /echo/item-%d" % i, logs)

    def test_queue_across_vms_v8(self):
        self.check(native=False)

    def test_queue_across_vms_null_runtime(self):
        self.check(native=True)


if __name__ == "__main__":
    unittest.main()
