#!/usr/bin/python3
"""Time from a plugin crash to a working fresh VM under FAIL_RELOAD.

One wasmgate (--concurrency 1) with tests/integration/data/chaos.wat as an HTTP filter
(failure_policy FAIL_RELOAD) in front of the benchmark's nginx upstream. Each round, on one
keep-alive connection:
  1. a normal request (the plugin adds "x-chaos: passed")            -> warm latency
  2. a request with "x-crash: 1" (the plugin traps, the VM is failed) -> the 503 answer
  3. normal requests until one comes back 200 with "x-chaos: passed" -> recovery time,
     measured from the end of step 2 to the end of step 3.
The recovery time minus the warm latency is what a crash costs the next request: building the
fresh VM (instantiate from the compiled module, _initialize, proxy_on_vm_start,
proxy_on_configure, root context) on the worker. /stats must count one restart per round.

Environment: WASMGATE_BIN (default <repo>/build/wasmgate), BENCH_RELOAD_ROUNDS (default 300),
BENCH_RESULTS (default bench/results/reload-latest.json).
Exit status: 0 ok; 1 setup error; 3 a round did not behave (wrong status, no recovery).
"""

from __future__ import annotations

import http.client
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the rig's process and template helpers)

CHAOS_WAT = os.path.join(bench.REPO_ROOT, "tests", "integration", "data", "chaos.wat")


def config(port: int, admin: int, upstream: int, module: str) -> str:
    return f"""
admin:
  address: {{socket_address: {{address: 127.0.0.1, port_value: {admin}}}}}
static_resources:
  listeners:
  - name: chaos
    address: {{socket_address: {{address: 127.0.0.1, port_value: {port}}}}}
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: chaos
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes: [{{match: {{prefix: "/"}}, route: {{cluster: upstream}}}}]
          http_filters:
          - name: envoy.filters.http.wasm
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.wasm.v3.Wasm
              config:
                name: chaos
                failure_policy: FAIL_RELOAD
                crash_loop: {{max_crashes: 1000000, window: 1s}}
                vm_config:
                  runtime: envoy.wasm.runtime.v8
                  code: {{local: {{filename: {module}}}}}
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: upstream
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: upstream
      endpoints:
      - lb_endpoints:
        - endpoint: {{address: {{socket_address: {{address: 127.0.0.1, port_value: {upstream}}}}}}}
"""


class Client:
    """One keep-alive connection, reopened if the proxy closes it."""

    def __init__(self, port: int):
        self.port = port
        self.conn = None

    def get(self, headers: dict) -> tuple:
        for attempt in range(2):
            if self.conn is None:
                self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            try:
                self.conn.request("GET", "/", headers=headers)
                r = self.conn.getresponse()
                r.read()
                if r.getheader("connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, r.getheader("x-chaos")
            except (OSError, http.client.HTTPException):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        raise AssertionError("unreachable")


def pct(xs: list, q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(q * len(xs)))]


def main() -> int:
    wasmgate_bin = os.environ.get("WASMGATE_BIN") or os.path.join(bench.REPO_ROOT, "build", "wasmgate")
    rounds = bench.env_int("BENCH_RELOAD_ROUNDS", 300)
    results_path = os.environ.get("BENCH_RESULTS") or os.path.join(bench.BENCH_DIR, "results",
                                                                   "reload-latest.json")
    wat2wasm = shutil.which("wat2wasm")
    if not (os.access(wasmgate_bin, os.X_OK) and wat2wasm and os.access(bench.NGINX, os.X_OK)):
        bench.log("error: needs the wasmgate binary (WASMGATE_BIN), wat2wasm and nginx")
        return 1

    tmp = tempfile.mkdtemp(prefix="wg-reload-")
    module = os.path.join(tmp, "chaos.wasm")
    subprocess.run([wat2wasm, "--debug-names", CHAOS_WAT, "-o", module], check=True)

    upstream = bench.free_port()
    up = bench.start_upstream(tmp, upstream, None)

    port, admin = bench.free_port(), bench.free_port()
    cfg = os.path.join(tmp, "wasmgate.yaml")
    with open(cfg, "w") as f:
        f.write(config(port, admin, upstream, module))
    log_path = os.path.join(tmp, "wasmgate.log")
    proxy = bench.spawn([wasmgate_bin, "-c", cfg, "--concurrency", "1", "--log-level", "error"], None,
                        log_path)
    bench.wait_accepting(port, proxy, 10, "wasmgate", log_path)

    client = Client(port)
    warm, crash, recovery, attempts = [], [], [], []
    bad = 0
    for _ in range(20):  # warm-up: the first VM, the upstream pool, Python's own paths
        client.get({})
    for i in range(rounds):
        t0 = time.perf_counter()
        status, tag = client.get({})
        t1 = time.perf_counter()
        if status != 200 or tag != "passed":
            bad += 1
        warm.append(t1 - t0)
        status, _ = client.get({"x-crash": "1"})
        t2 = time.perf_counter()
        if status != 503:
            bad += 1
        crash.append(t2 - t1)
        n = 0
        while True:
            n += 1
            status, tag = client.get({})
            if status == 200 and tag == "passed":
                break
            if time.perf_counter() - t2 > 5:
                bench.log(f"round {i}: no working VM 5 s after the crash (last status {status})")
                return 3
        recovery.append(time.perf_counter() - t2)
        attempts.append(n)

    status, body = bench.http_get(admin, "/stats")
    stats = dict(line.split(": ", 1) for line in body.decode().splitlines() if ": " in line)
    restarts = int(stats.get("wasm.chaos.restarts", "-1"))
    crashes = int(stats.get("wasm.chaos.crashes", "-1"))
    bench.stop(proxy)
    bench.stop(up)
    shutil.rmtree(tmp, True)

    ms = lambda xs: {"median": statistics.median(xs) * 1e3, "p90": pct(xs, 0.9) * 1e3,
                     "max": max(xs) * 1e3}
    result = {
        "rounds": rounds,
        "warm_request_ms": ms(warm),
        "crashing_request_ms": ms(crash),
        "crash_to_working_vm_ms": ms(recovery),
        "fresh_vm_cost_ms": (statistics.median(recovery) - statistics.median(warm)) * 1e3,
        "requests_until_working": {"max": max(attempts), "mean": statistics.mean(attempts)},
        "stats": {"wasm.chaos.crashes": crashes, "wasm.chaos.restarts": restarts},
        "bad_rounds": bad,
        "machine": {"cpu": bench.cpu_model(), "cpus": os.cpu_count(), "kernel": platform.release()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    os.makedirs(os.path.dirname(results_path), exist_ok=True)
    with open(results_path, "w") as f:
        json.dump(result, f, indent=2)
    print(f"{rounds} crashes under FAIL_RELOAD (chaos.wat on V8, 1 worker):")
    for k in ("warm_request_ms", "crashing_request_ms", "crash_to_working_vm_ms"):
        v = result[k]
        print(f"  {k:24s} median {v['median']:.3f}  p90 {v['p90']:.3f}  max {v['max']:.3f}")
    print(f"  fresh VM cost (recovery - warm, medians): {result['fresh_vm_cost_ms']:.3f} ms")
    print(f"  requests until a working VM: max {max(attempts)}; "
          f"/stats crashes {crashes} restarts {restarts}")
    ok = bad == 0 and restarts >= rounds and max(attempts) == 1
    if not ok:
        bench.log("error: some rounds did not answer as expected (see above)")
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
