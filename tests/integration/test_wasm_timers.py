"""proxy_set_tick_period_milliseconds through the real binary.

  * data/tick.wat: every worker starts the plugin's root context when it starts (as Envoy does),
    so ticks arrive with no traffic at all; each worker's VM ticks three times and then stops its
    timer with period 0.
  * data/postpone.wat: the "postpone requests" pattern: a stream parked in
    proxy_on_request_headers is resumed from proxy_on_tick through proxy_set_effective_context +
    proxy_continue_stream (the upstream answers), or answered there with a local reply.
"""

import os
import shutil
import subprocess
import tempfile
import time
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
          stat_prefix: t
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: $name
                vm_config: {runtime: envoy.wasm.runtime.v8, code: {local: {filename: $wasm}}}
                configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: "$configuration"}
          - name: envoy.filters.http.router
  clusters:
  - name: up
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""


class TimerTest(WasmgateTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wg-tick-")
        wat2wasm = shutil.which("wat2wasm") or "/usr/bin/wat2wasm"
        for name in ("tick", "postpone"):
            subprocess.run([wat2wasm, os.path.join(HERE, "data", name + ".wat"), "-o",
                            os.path.join(cls.tmp, name + ".wasm")], check=True, timeout=30)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def start(self, name, configuration="", concurrency=1):
        self.up = self.start_upstream()
        self.port = free_port()
        return self.start_proxy(fill(CONFIG, admin_port=free_port(), port=self.port,
                                     up_port=self.up.port, name=name, configuration=configuration,
                                     wasm=os.path.join(self.tmp, name + ".wasm")),
                                concurrency=concurrency)

    def test_ticks_on_every_worker_without_traffic_then_stop(self):
        p = self.start("tick", concurrency=2)

        def ticks():
            return [l for l in p.logs().splitlines() if "wasm log tick: tick " in l]
        wait_until(lambda: len(ticks()) >= 6, timeout=5)
        time.sleep(0.3)  # ten more periods: nobody ticks again after "tick 3"
        lines = ticks()
        self.assertEqual(len(lines), 6, lines)
        for n in (1, 2, 3):
            self.assertEqual(sum(l.endswith("tick %d" % n) for l in lines), 2, lines)

    def test_tick_resumes_a_parked_stream(self):
        self.start("postpone")
        for _ in range(3):
            started = time.monotonic()
            r = http_request(self.port, "GET", "/echo")
            self.assertEqual(r.status, 200, r)
            self.assertEqual(r.json()["path"], "/echo")
            self.assertLess(time.monotonic() - started, 2.0)

    def test_tick_answers_a_parked_stream(self):
        self.start("postpone", configuration="reply")
        r = http_request(self.port, "GET", "/echo")
        self.assertEqual(r.status, 429, r)
        self.assertEqual(r.body, b"later\n")
        self.assertEqual(self.up.non_health_requests(), [])


if __name__ == "__main__":
    unittest.main()
