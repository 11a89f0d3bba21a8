"""bootstrap_extensions with envoy.bootstrap.wasm (WasmService): background plugins with no
listener or stream.

  * singleton: true runs one instance (on the main thread): data/tick.wat ticks three times in
    total with two workers; singleton: false runs one per worker: six ticks;
  * a singleton service owns a shared queue (the queue_pair consumer) that an HTTP filter's
    producer VM feeds: every request is consumed once;
  * a singleton service calls out to a cluster from its tick, on the main thread
    (data/service_callout.wat), and gets the answer;
  * a config reload leaves services running (the consumer keeps draining the new producer);
  * an unknown bootstrap extension is a startup error naming what the build has.
"""

import os
import shutil
import subprocess
import tempfile
import textwrap
import time
import unittest

from harness import Proxy, WasmgateTestCase, fill, free_port, http_request, wait_until

HERE = os.path.dirname(os.path.abspath(__file__))
PLUGINS = os.environ.get("WASMGATE_PLUGINS", os.path.join(HERE, "..", "..", "build", "plugins"))

SERVICE = """
- name: envoy.bootstrap.wasm
  typed_config:
    "@type": type.googleapis.com/envoy.extensions.wasm.v3.WasmService
    singleton: $singleton
    config:
      name: $name
      root_id: $root_id
      vm_config: {vm_id: $vm_id, runtime: envoy.wasm.runtime.v8, code: {local: {filename: $wasm}}}
      configuration: {"@type": type.googleapis.com/google.protobuf.StringValue, value: '$configuration'}
"""

CONFIG = """
bootstrap_extensions:
$services
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
          stat_prefix: b
          route_config:
            virtual_hosts: [{name: vh, domains: ["*"], routes: [{match: {prefix: "/"}, route: {cluster: up}}]}]
          http_filters:
$http_filters
          - name: envoy.filters.http.router
  clusters:
  - name: up
    connect_timeout: 1s
    load_assignment:
      cluster_name: up
      endpoints: [{lb_endpoints: [{endpoint: {address: {socket_address: {address: 127.0.0.1, port_value: $up_port}}}}]}]
"""

PRODUCER = """\
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: producer
                root_id: producer
                vm_config: {vm_id: queue_producer, runtime: envoy.wasm.runtime.v8, code: {local: {filename: $wasm}}}
                configuration:
                  "@type": type.googleapis.com/google.protobuf.StringValue
                  value: '{"consumer_vm_id": "queue_consumer", "queue": "requests"}'"""


class BootstrapServiceTest(WasmgateTestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="wg-boot-")
        cls.tick = os.path.join(cls.tmp, "tick.wasm")
        cls.service_callout = os.path.join(cls.tmp, "service_callout.wasm")
        wat2wasm = shutil.which("wat2wasm") or "/usr/bin/wat2wasm"
        for name, out in (("tick", cls.tick), ("service_callout", cls.service_callout)):
            subprocess.run([wat2wasm, os.path.join(HERE, "data", name + ".wat"), "-o", out],
                           check=True, timeout=30)
        cls.queue_pair = os.path.abspath(os.path.join(PLUGINS, "queue_pair.wasm"))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def config(self, services, http_filters=""):
        self.up = self.start_upstream()
        self.port = free_port()
        text = fill(CONFIG, admin_port=free_port(), port=self.port, up_port=self.up.port,
                    services="$services", http_filters="$http_filters")
        # No blank line where there are no extra filters (yaml-cpp rejects one there).
        return text.replace("$services", services).replace(
            "$http_filters\n", http_filters + "\n" if http_filters else "")

    def service(self, singleton, name, wasm, root_id='""', vm_id="svc", configuration=""):
        return fill(SERVICE, singleton="true" if singleton else "false", name=name,
                    root_id=root_id, vm_id=vm_id, wasm=wasm, configuration=configuration)

    def ticks(self, p):
        return [l for l in p.logs(max_bytes=100000).splitlines()
                if "wasm log ticker svc: tick " in l]

    def test_singleton_service_runs_once(self):
        p = self.start_proxy(self.config(self.service(True, "ticker", self.tick)), concurrency=2)
        wait_until(lambda: len(self.ticks(p)) >= 3)
        time.sleep(0.3)
        self.assertEqual(len(self.ticks(p)), 3, self.ticks(p))

    def test_per_worker_service(self):
        p = self.start_proxy(self.config(self.service(False, "ticker", self.tick)), concurrency=2)
        wait_until(lambda: len(self.ticks(p)) >= 6)
        time.sleep(0.3)
        self.assertEqual(len(self.ticks(p)), 6, self.ticks(p))

    def test_singleton_service_consumes_a_queue(self):
        if not os.path.exists(self.queue_pair):
            self.fail(f"{self.queue_pair} is missing: run scripts/build-plugins.sh")
        services = self.service(True, "consumer", self.queue_pair, root_id="consumer",
                                vm_id="queue_consumer", configuration='{"queue": "requests"}')
        producer = textwrap.indent(fill(PRODUCER, wasm=self.queue_pair), " " * 10)  # fill dedents
        p = self.start_proxy(self.config(services, producer), concurrency=2)
        for i in range(10):
            self.assertEqual(http_request(self.port, "GET", "/echo/%d" % i).status, 200)

        def consumed():
            for line in p.admin_request("GET", "/stats").body.decode().splitlines():
                if line.startswith("wasmcustom.queue_consumed_total: "):
                    return int(line.split(": ")[1])
            return 0
        wait_until(lambda: consumed() == 10)

    def test_service_keeps_running_across_a_reload(self):
        """A config reload rebuilds the HTTP chain (a new producer plugin) but leaves bootstrap
        services alone: the same consumer keeps draining the queue, nothing is consumed twice
        or lost, and the replaced producer is released."""
        import json
        if not os.path.exists(self.queue_pair):
            self.fail(f"{self.queue_pair} is missing: run scripts/build-plugins.sh")
        services = self.service(True, "consumer", self.queue_pair, root_id="consumer",
                                vm_id="queue_consumer", configuration='{"queue": "requests"}')
        producer = textwrap.indent(fill(PRODUCER, wasm=self.queue_pair), " " * 10)  # fill dedents
        p = self.start_proxy(self.config(services, producer), concurrency=2)

        def consumed():
            return p.stats().get("wasmcustom.queue_consumed_total", 0)
        for i in range(5):
            self.assertEqual(http_request(self.port, "GET", "/echo/%d" % i).status, 200)
        self.assertTrue(wait_until(lambda: consumed() == 5))
        self.assertEqual(p.admin_post("/reload").status, 200)
        for i in range(5, 10):
            self.assertEqual(http_request(self.port, "GET", "/echo/%d" % i).status, 200)
        self.assertTrue(wait_until(lambda: consumed() == 10), consumed())
        time.sleep(0.3)
        self.assertEqual(consumed(), 10)
        self.assertTrue(wait_until(lambda: len(json.loads(p.admin_get("/wasm").body)) == 2, timeout=5))

    def test_singleton_service_calls_out(self):
        p = self.start_proxy(self.config(self.service(True, "caller", self.service_callout)),
                             concurrency=2)
        wait_until(lambda: "wasm log caller svc: callout status 200" in p.logs())
        self.assertEqual([r.route for r in self.up.non_health_requests()], ["/echo/svc"])

    def test_unknown_bootstrap_extension(self):
        text = self.config(textwrap.dedent("""
            - name: envoy.bootstrap.nope
              typed_config: {"@type": type.googleapis.com/google.protobuf.Struct}
            """))
        p = Proxy(text, extra_args=["--mode", "validate"])
        with open(p.config_path, "w") as f:
            f.write(text)
        res = subprocess.run(p.command(), capture_output=True, text=True, timeout=60)
        self.assertEqual(res.returncode, 1, res)
        self.assertIn("unsupported bootstrap extension 'envoy.bootstrap.nope'", res.stderr)
        self.assertIn("envoy.bootstrap.wasm", res.stderr)


if __name__ == "__main__":
    unittest.main()
