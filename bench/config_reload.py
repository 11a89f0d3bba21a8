#!/usr/bin/python3
"""What a config reload costs while serving.

One wasmgate (--concurrency 1, the rig's CPU pinning) with the add_header plugin on V8
(bench/wasmgate-add-header.yaml) in front of the benchmark's nginx upstream. Rounds alternate:
  steady     wrk for BENCH_DURATION seconds, no reload
  reloading  the same wrk run while the plugin's configuration is rewritten and POST /reload
             is sent every BENCH_RELOAD_INTERVAL seconds (each reload builds the chain again,
             starts the plugin's new root context on the worker and closes every keep-alive
             connection after its next response, so wrk reconnects all of them)
and report req/s of both (ratio), wrk's socket errors and non-2xx answers during reloads (must be
0), and how long POST /reload takes. Then, without load, three bursts of BENCH_RELOAD_COUNT
back-to-back reloads: resident memory before and after each (a burst keeps up to that many
replaced plugins alive for up to a second, so the first sizes the heap; later ones must not grow
it), and the replaced plugins must be released (/wasm lists one plugin at the end).

Environment: WASMGATE_BIN, BENCH_DURATION (default 10), BENCH_ROUNDS (3), BENCH_CONNECTIONS (50),
BENCH_RELOAD_INTERVAL (0.5), BENCH_RELOAD_COUNT (200), BENCH_RESULTS (default
bench/results/config-reload-latest.json), BENCH_CPU_LOAD / BENCH_CPU_PROXY / BENCH_NO_PIN as
bench/bench.py.
Exit status: 0 ok; 1 setup error; 3 errors under reload, a failed reload, or a leak of plugins.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402  (the rig's process, template and wrk helpers)


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return -1


def main() -> int:
    wasmgate_bin = os.environ.get("WASMGATE_BIN") or os.path.join(bench.REPO_ROOT, "build", "wasmgate")
    plugin = os.path.join(bench.REPO_ROOT, "build", "plugins", "add_header.wasm")
    duration = bench.env_float("BENCH_DURATION", 10)
    rounds = bench.env_int("BENCH_ROUNDS", 3)
    connections = bench.env_int("BENCH_CONNECTIONS", 50)
    interval = bench.env_float("BENCH_RELOAD_INTERVAL", 0.5)
    count = bench.env_int("BENCH_RELOAD_COUNT", 200)
    results_path = os.environ.get("BENCH_RESULTS") or os.path.join(bench.BENCH_DIR, "results",
                                                                   "config-reload-latest.json")
    if not (os.access(wasmgate_bin, os.X_OK) and os.path.exists(plugin) and os.access(bench.WRK, os.X_OK)):
        bench.log("error: needs the wasmgate binary (WASMGATE_BIN), build/plugins/add_header.wasm and wrk")
        return 1
    cpu_load, cpu_proxy = bench.cpu_pinning()

    tmp = tempfile.mkdtemp(prefix="wg-cfgreload-")
    upstream = bench.free_port()
    up = bench.start_upstream(tmp, upstream, cpu_load)

    port, admin = bench.free_port(), bench.free_port()
    cfg = os.path.join(tmp, "wasmgate.yaml")

    def write_config(value: str) -> None:
        text = bench.render("wasmgate-add-header.yaml", ADMIN_PORT=admin, PORT=port, UPSTREAM_PORT=upstream,
                            RUNTIME="envoy.wasm.runtime.v8", CODE="{filename: %s}" % plugin,
                            LIMITS=bench.LIMITS_ON)
        with open(cfg, "w") as f:
            f.write(text.replace('"value": "wasmgate"', '"value": "%s"' % value))

    write_config("wasmgate")
    log_path = os.path.join(tmp, "wasmgate.log")
    proxy = bench.spawn([wasmgate_bin, "-c", cfg, "--concurrency", "1", "--log-level", "warning"],
                        cpu_proxy, log_path)
    bench.wait_accepting(port, proxy, 10, "wasmgate", log_path)
    ctx = bench.Context(tmp=tmp, upstream_port=upstream, cpu_load=cpu_load, cpu_proxy=cpu_proxy, path="/",
                        wasmgate_bin=wasmgate_bin, wasmgate_log_level="warning")

    reload_ms, failed_reloads, serial = [], [], [0]

    def reload_once() -> None:
        serial[0] += 1
        write_config(f"v{serial[0]}")
        t0 = time.perf_counter()
        status, body = bench.http_request(admin, "POST", "/reload", timeout=10)
        reload_ms.append((time.perf_counter() - t0) * 1e3)
        if status != 200:
            failed_reloads.append(body.decode(errors="replace").strip())

    bench.run_wrk(port, ctx, 2, connections, 1)  # warm-up
    steady, reloading, errors = [], [], []
    for r in range(rounds):
        out = bench.parse_wrk(bench.run_wrk(port, ctx, duration, connections, 1))
        steady.append(out["rps"])
        stop = threading.Event()

        def reloader():
            while not stop.wait(interval):
                reload_once()

        t = threading.Thread(target=reloader)
        t.start()
        try:
            out = bench.parse_wrk(bench.run_wrk(port, ctx, duration, connections, 1))
        finally:
            stop.set()
            t.join()
        reloading.append(out["rps"])
        bad = sum(out["socket_errors"].values()) + out["non_2xx_3xx"]
        if bad:
            errors.append({"round": r, "socket_errors": out["socket_errors"], "non_2xx_3xx": out["non_2xx_3xx"]})
        bench.log(f"round {r + 1}/{rounds}: steady {steady[-1]:.0f} req/s, reloading {reloading[-1]:.0f} req/s, "
                  f"{bad} errors")
    reloads_under_load = serial[0]

    time.sleep(1.5)  # keep-alive connections from the last run close; retired plugins go
    rss = [rss_kib(proxy.pid)]
    plugins = None
    for _ in range(3):  # bursts: the first sizes the heap, the later ones must not grow it
        for _ in range(count):
            reload_once()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            status, body = bench.http_get(admin, "/wasm")
            plugins = json.loads(body)
            if len(plugins) == 1:
                break
            time.sleep(0.2)
        time.sleep(1.5)
        rss.append(rss_kib(proxy.pid))
    status, body = bench.http_get(admin, "/stats")
    stats = dict(line.split(": ", 1) for line in body.decode().splitlines() if ": " in line)
    bench.stop(proxy)
    bench.stop(up)
    shutil.rmtree(tmp, True)

    med = statistics.median
    result = {
        "steady_rps": steady,
        "reloading_rps": reloading,
        "reloading_over_steady": med(reloading) / med(steady),
        "reload_interval_s": interval,
        "reloads_under_load": reloads_under_load,
        "errors_under_reload": errors,
        "reload_ms": {"median": med(reload_ms), "p90": sorted(reload_ms)[int(0.9 * len(reload_ms))],
                      "max": max(reload_ms)},
        "failed_reloads": failed_reloads[:5],
        "rss_kib": {"before": rss[0], "after_each_burst": rss[1:], "burst": count,
                    "per_reload_after_first_burst": (rss[-1] - rss[1]) / (2 * count)},
        "plugins_listed_at_end": len(plugins or []),
        "server.config_reload.success": int(stats.get("server.config_reload.success", "-1")),
        "machine": {"cpu": bench.cpu_model(), "cpus": os.cpu_count(), "kernel": platform.release()},
        "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    os.makedirs(os.path.dirname(results_path), exist_ok=True)
    with open(results_path, "w") as f:
        json.dump(result, f, indent=2)
    print(json.dumps(result, indent=2))
    ok = not errors and not failed_reloads and result["plugins_listed_at_end"] == 1
    return 0 if ok else 3


if __name__ == "__main__":
    sys.exit(main())
