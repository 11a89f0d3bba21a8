#!/usr/bin/python3
"""wasmgate benchmark rig: wrk against several HTTP/1.1 "targets" on 127.0.0.1, in one run.

Targets (see TARGETS below; add a new proxy variant by appending a Target):
  nginx-direct   wrk -> upstream nginx                     (the rig's ceiling)
  nginx-proxy    wrk -> nginx reverse proxy -> upstream    (the baseline)
  wasmgate       wrk -> wasmgate --concurrency 1 -> upstream

Every target is started once and stays up; the measurement alternates between targets round by
round (a b c, a b c, ...) so that slow drifts of the machine hit all targets alike. Each
measurement is preceded by a short unrecorded warm-up. Medians over rounds are reported, with
the ratios wasmgate / nginx-proxy for req/s and p99 latency.

CPU pinning (when taskset exists and there are >= 2 CPUs): the load generator (wrk) and the
upstream nginx share BENCH_CPU_LOAD (default CPU 0); the proxy under test gets BENCH_CPU_PROXY
(default CPU 1) to itself. The upstream is cheap (fixed `return 200`), so the proxy's CPU is
the bottleneck for the proxied targets. nginx-direct runs wrk and the upstream on the same
core: the same work that core does for the other targets, which makes it a fair ceiling.

Environment:
  WASMGATE_BIN        wasmgate binary (default <repo>/build/wasmgate); must exist
  BENCH_DURATION      seconds per measured run (default 10)
  BENCH_ROUNDS        rounds (default 3)
  BENCH_CONNECTIONS   wrk connections (default 50)
  BENCH_THREADS       wrk threads (default 1)
  BENCH_WARMUP        seconds of unrecorded warm-up before each run (default 2; 0 disables)
  BENCH_TARGETS       comma-separated subset of target names (default: all)
  BENCH_CPU_LOAD      CPU list for wrk + upstream (default 0)
  BENCH_CPU_PROXY     CPU list for the proxy under test (default 1)
  BENCH_NO_PIN=1      disable taskset pinning
  BENCH_PATH          request path (default /)
  BENCH_RESULTS       output JSON path (default bench/results/latest.json)
  BENCH_WASMGATE_LOG_LEVEL  wasmgate --log-level (default warning)

Exit status: 0 ok; 1 setup error (missing binary/tool, a target failed to start or to answer);
3 a measured run reported socket errors or non-2xx/3xx responses (results are still written).
"""

from __future__ import annotations

import atexit
import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from typing import Optional

BENCH_DIR = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.dirname(BENCH_DIR)
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
WRK = shutil.which("wrk") or "/usr/bin/wrk"
TASKSET = shutil.which("taskset")


def env_int(name: str, default: int) -> int:
    v = os.environ.get(name)
    return int(v) if v not in (None, "") else default


def env_float(name: str, default: float) -> float:
    v = os.environ.get(name)
    return float(v) if v not in (None, "") else default


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


_used_ports: set = set()


def free_port() -> int:
    """A free port on 127.0.0.1, never the same one twice in this run (bind(0) may repeat)."""
    for _ in range(100):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        if port not in _used_ports:
            _used_ports.add(port)
            return port
    raise RuntimeError("no free port")


def render(template_name: str, **values) -> str:
    with open(os.path.join(BENCH_DIR, template_name)) as f:
        text = f.read()
    for k, v in values.items():
        text = text.replace(f"@@{k}@@", str(v))
    left = re.findall(r"@@[A-Z_]+@@", "\n".join(l for l in text.splitlines() if not l.lstrip().startswith("#")))
    if left:
        raise RuntimeError(f"{template_name}: unfilled placeholders {left}")
    return text


# ---------------------------------------------------------------------------------------------
# Processes
# ---------------------------------------------------------------------------------------------

_procs: list = []


def spawn(cmd: list, cpus: Optional[str], log_path: str, cwd: Optional[str] = None) -> subprocess.Popen:
    if cpus is not None:
        cmd = [TASKSET, "-c", cpus] + cmd
    out = open(log_path, "wb")
    p = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                         start_new_session=True, cwd=cwd)
    out.close()
    _procs.append(p)
    return p


def stop(p: subprocess.Popen, timeout: float = 5.0) -> None:
    """SIGTERM, bounded wait, then SIGKILL to the process group we created for it."""
    if p.poll() is None:
        try:
            os.killpg(p.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            pass
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass


@atexit.register
def _cleanup() -> None:
    for p in _procs:
        stop(p, timeout=2)


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


def wait_accepting(port: int, proc: subprocess.Popen, timeout: float, what: str, log_path: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{tail(log_path)}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{what} not accepting on 127.0.0.1:{port} within {timeout}s:\n{tail(log_path)}")


def http_request(port: int, method: str, path: str, timeout: float = 2.0):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        c.request(method, path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def http_get(port: int, path: str, timeout: float = 2.0):
    return http_request(port, "GET", path, timeout)


def cpu_pinning() -> tuple:
    """(cpus for wrk + upstream, cpus for the proxy), or (None, None) when not pinning: needs
    taskset and >= 2 CPUs, and BENCH_NO_PIN unset (BENCH_CPU_LOAD / BENCH_CPU_PROXY choose)."""
    if TASKSET is None or (os.cpu_count() or 1) < 2 or os.environ.get("BENCH_NO_PIN") == "1":
        return None, None
    return os.environ.get("BENCH_CPU_LOAD", "0"), os.environ.get("BENCH_CPU_PROXY", "1")


def start_upstream(tmp: str, port: int, cpus: Optional[str]) -> subprocess.Popen:
    """The benchmark's upstream (upstream.conf: nginx, fixed 200) on `port`, files under tmp/upstream."""
    up_dir = os.path.join(tmp, "upstream")
    os.makedirs(os.path.join(up_dir, "logs"), exist_ok=True)
    up_conf = os.path.join(up_dir, "nginx.conf")
    with open(up_conf, "w") as f:
        f.write(render("upstream.conf", USER=user_line(), TMP=up_dir, PORT=port))
    up = spawn(nginx_cmd(up_dir, up_conf), cpus, os.path.join(up_dir, "out.log"))
    wait_accepting(port, up, 5, "upstream nginx", os.path.join(up_dir, "error.log"))
    return up


def tail(path: str, n: int = 4000) -> str:
    try:
        with open(path, "rb") as f:
            data = f.read()
        return data[-n:].decode("utf-8", "replace")
    except OSError:
        return ""


def nginx_cmd(tmp: str, conf: str) -> list:
    return [NGINX, "-p", tmp + "/", "-c", conf, "-g", "daemon off;"]


def user_line() -> str:
    return "user root;" if os.geteuid() == 0 else ""


# ---------------------------------------------------------------------------------------------
# Targets
# ---------------------------------------------------------------------------------------------

@dataclass
class Context:
    tmp: str
    upstream_port: int
    cpu_load: Optional[str]
    cpu_proxy: Optional[str]
    path: str
    wasmgate_bin: str
    wasmgate_log_level: str


@dataclass
class Target:
    """A thing wrk can hit. start() returns the port to load; stop() tears it down."""
    name: str
    description: str
    procs: list = field(default_factory=list)
    port: int = 0
    info: dict = field(default_factory=dict)

    def start(self, ctx: Context) -> int:
        raise NotImplementedError

    def stop(self) -> None:
        for p in self.procs:
            stop(p)
        self.procs = []


class NginxDirect(Target):
    def start(self, ctx: Context) -> int:
        self.port = ctx.upstream_port  # the shared upstream itself
        self.info = {"cpus": ctx.cpu_load}
        return self.port


class NginxProxy(Target):
    # Extra directives in the proxied location (e.g. add_header), for like-for-like plugin runs.
    location_extra = ""

    def start(self, ctx: Context) -> int:
        d = os.path.join(ctx.tmp, self.name)
        os.makedirs(os.path.join(d, "logs"), exist_ok=True)
        self.port = free_port()
        conf = os.path.join(d, "nginx.conf")
        with open(conf, "w") as f:
            f.write(render("nginx-proxy.conf", USER=user_line(), TMP=d, PORT=self.port,
                           UPSTREAM_PORT=ctx.upstream_port, LOCATION_EXTRA=self.location_extra))
        log_path = os.path.join(d, "out.log")
        p = spawn(nginx_cmd(d, conf), ctx.cpu_proxy, log_path)
        self.procs.append(p)
        wait_accepting(self.port, p, 5, self.name, os.path.join(d, "error.log"))
        self.info = {"cpus": ctx.cpu_proxy, "version": tool_version([NGINX, "-v"])}
        return self.port


class Wasmgate(Target):
    concurrency = 1
    template = "wasmgate.yaml"
    # Extra @@NAME@@ values for the template.
    params: dict = {}

    def start(self, ctx: Context) -> int:
        d = os.path.join(ctx.tmp, self.name)
        os.makedirs(d, exist_ok=True)
        self.port = free_port()
        admin = free_port()
        cfg = os.path.join(d, "wasmgate.yaml")
        with open(cfg, "w") as f:
            values = {"LIMITS": LIMITS_ON, **self.params}
            f.write(render(self.template, PORT=self.port, ADMIN_PORT=admin, UPSTREAM_PORT=ctx.upstream_port,
                           PLUGINS=os.path.join(REPO_ROOT, "build", "plugins"), **values))
        log_path = os.path.join(d, "out.log")
        p = spawn([ctx.wasmgate_bin, "-c", cfg, "--concurrency", str(self.concurrency),
                   "--log-level", ctx.wasmgate_log_level], ctx.cpu_proxy, log_path, cwd=d)
        self.procs.append(p)
        deadline = time.monotonic() + 10
        while True:
            if p.poll() is not None:
                raise RuntimeError(f"wasmgate exited with {p.returncode}:\n{tail(log_path)}")
            try:
                if http_get(admin, "/ready", timeout=1)[0] == 200:
                    break
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"wasmgate /ready not 200 within 10s:\n{tail(log_path)}")
            time.sleep(0.05)
        wait_accepting(self.port, p, 5, self.name, log_path)
        self.info = {"cpus": ctx.cpu_proxy, "concurrency": self.concurrency, "binary": ctx.wasmgate_bin,
                     "admin_port": admin}
        return self.port


# The targets, in the order they are measured within a round. A new proxy variant (another
# wasmgate config, --concurrency 2, another proxy) is one more entry here.
class NginxProxyAddHeader(NginxProxy):
    location_extra = "add_header X-Hello wasmgate always;"


class WasmgateAddHeaderV8(Wasmgate):
    template = "wasmgate-add-header.yaml"
    params = {"RUNTIME": "envoy.wasm.runtime.v8",
              "CODE": "{ filename: %s }" % os.path.join(REPO_ROOT, "build", "plugins", "add_header.wasm")}


# The sandbox limits (issue 5) spelled out at their defaults, and switched off. Indented for
# their place in wasmgate-add-header.yaml.
LIMITS_ON = "max_callback_duration: 0.05s\n                memory_limit_bytes: 268435456"
LIMITS_OFF = "max_callback_duration: 0s\n                memory_limit_bytes: 0"


class WasmgateAddHeaderV8NoLimits(WasmgateAddHeaderV8):
    params = {**WasmgateAddHeaderV8.params, "LIMITS": LIMITS_OFF}


class WasmgateAuthV8(Wasmgate):
    # One proxy_http_call per request (examples/plugins/http_auth).
    template = "wasmgate-auth.yaml"
    params = {"RUNTIME": "envoy.wasm.runtime.v8",
              "CODE": "{ filename: %s }" % os.path.join(REPO_ROOT, "build", "plugins", "http_auth.wasm")}


class WasmgateRateLimitV8(Wasmgate):
    # One shared-data read + CAS write per request (examples/plugins/rate_limit).
    template = "wasmgate-ratelimit.yaml"
    params = {"RUNTIME": "envoy.wasm.runtime.v8",
              "CODE": "{ filename: %s }" % os.path.join(REPO_ROOT, "build", "plugins", "rate_limit.wasm")}


class WasmgateAddHeaderNull(Wasmgate):
    # The same plugin source compiled into the binary (null runtime).
    template = "wasmgate-add-header.yaml"
    params = {"RUNTIME": "envoy.wasm.runtime.null", "CODE": "{ inline_string: add_header }"}


TARGETS: list = [
    NginxDirect("nginx-direct", "wrk -> nginx upstream (ceiling of the rig)"),
    NginxProxy("nginx-proxy", "wrk -> nginx proxy_pass, keepalive 32 -> upstream"),
    Wasmgate("wasmgate", "wrk -> wasmgate --concurrency 1 -> upstream"),
    NginxProxyAddHeader("nginx-add-header", "nginx-proxy + add_header X-Hello"),
    WasmgateAddHeaderV8("wasmgate-wasm-v8", "wasmgate + add_header Proxy-Wasm plugin on V8"),
    WasmgateAddHeaderV8NoLimits("wasmgate-wasm-v8-nolimits",
                                "wasmgate + add_header on V8, memory limit and CPU watchdog off"),
    WasmgateAddHeaderNull("wasmgate-wasm-null", "wasmgate + add_header plugin on the null runtime"),
    WasmgateAuthV8("wasmgate-auth-v8", "wasmgate + http_auth plugin (one callout per request) on V8"),
    WasmgateRateLimitV8("wasmgate-ratelimit-v8", "wasmgate + rate_limit plugin (shared-data CAS) on V8"),
]
# Extra ratios printed and recorded: (name, subject target, baseline target).
EXTRA_RATIOS = [
    ("wasm_v8_over_no_plugin", "wasmgate-wasm-v8", "wasmgate"),
    ("wasm_v8_over_nginx_add_header", "wasmgate-wasm-v8", "nginx-add-header"),
    ("wasm_v8_limits_over_no_limits", "wasmgate-wasm-v8", "wasmgate-wasm-v8-nolimits"),
    ("wasm_null_over_no_plugin", "wasmgate-wasm-null", "wasmgate"),
    ("wasm_v8_over_wasm_null", "wasmgate-wasm-v8", "wasmgate-wasm-null"),
    ("auth_callout_over_no_plugin", "wasmgate-auth-v8", "wasmgate"),
    ("ratelimit_over_no_plugin", "wasmgate-ratelimit-v8", "wasmgate"),
]
BASELINE = "nginx-proxy"
SUBJECT = "wasmgate"


# ---------------------------------------------------------------------------------------------
# wrk
# ---------------------------------------------------------------------------------------------

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def to_ms(text: str) -> float:
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text.strip())
    if not m:
        raise ValueError(f"bad wrk latency {text!r}")
    return float(m.group(1)) * _UNITS[m.group(2)]


def parse_wrk(out: str) -> dict:
    res: dict = {}
    m = re.search(r"^Requests/sec:\s+([0-9.]+)", out, re.M)
    res["rps"] = float(m.group(1)) if m else None
    for pct in ("50", "75", "90", "99"):
        m = re.search(r"^\s+%s(?:\.0+)?%%\s+([0-9.]+(?:us|ms|s|m|h))\s*$" % pct, out, re.M)
        res[f"p{pct}_ms"] = to_ms(m.group(1)) if m else None
    m = re.search(r"^\s+(\d+) requests in ([0-9.]+)(us|ms|s|m)", out, re.M)
    res["requests"] = int(m.group(1)) if m else None
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    res["socket_errors"] = ({"connect": int(m.group(1)), "read": int(m.group(2)), "write": int(m.group(3)),
                             "timeout": int(m.group(4))} if m else {})
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non_2xx_3xx"] = int(m.group(1)) if m else 0
    return res


def run_wrk(port: int, ctx: Context, duration: float, connections: int, threads: int) -> str:
    url = f"http://127.0.0.1:{port}{ctx.path}"
    cmd = [WRK, f"-t{threads}", f"-c{connections}", f"-d{int(round(duration))}s", "--latency",
           "--timeout", "5s", url]
    if ctx.cpu_load is not None:
        cmd = [TASKSET, "-c", ctx.cpu_load] + cmd
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if p.returncode != 0:
        raise RuntimeError(f"wrk failed ({p.returncode}): {p.stderr}\n{p.stdout}")
    return p.stdout


def tool_version(cmd: list) -> str:
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
        return (p.stdout + p.stderr).strip().splitlines()[0]
    except (OSError, subprocess.TimeoutExpired, IndexError):
        return "unknown"


def median(xs):
    xs = [x for x in xs if x is not None]
    return statistics.median(xs) if xs else None


def fmt(v, spec):
    return "-" if v is None else format(v, spec)


# ---------------------------------------------------------------------------------------------
# main
# ---------------------------------------------------------------------------------------------

def main() -> int:
    signal.signal(signal.SIGINT, _on_signal)
    signal.signal(signal.SIGTERM, _on_signal)

    wasmgate_bin = os.environ.get("WASMGATE_BIN") or os.path.join(REPO_ROOT, "build", "wasmgate")
    duration = env_float("BENCH_DURATION", 10)
    rounds = env_int("BENCH_ROUNDS", 3)
    connections = env_int("BENCH_CONNECTIONS", 50)
    threads = env_int("BENCH_THREADS", 1)
    warmup = env_float("BENCH_WARMUP", 2)
    path = os.environ.get("BENCH_PATH", "/")
    results_path = os.environ.get("BENCH_RESULTS") or os.path.join(BENCH_DIR, "results", "latest.json")
    selected = [t.strip() for t in os.environ.get("BENCH_TARGETS", "").split(",") if t.strip()]
    targets = [t for t in TARGETS if not selected or t.name in selected]
    unknown = set(selected) - {t.name for t in TARGETS}
    if unknown:
        log(f"error: unknown BENCH_TARGETS {sorted(unknown)}; known: {[t.name for t in TARGETS]}")
        return 1

    if any(isinstance(t, Wasmgate) for t in targets) and not (
            os.path.isfile(wasmgate_bin) and os.access(wasmgate_bin, os.X_OK)):
        log(f"error: wasmgate binary not found or not executable: {wasmgate_bin} (set WASMGATE_BIN or build it)")
        return 1
    for tool in (NGINX, WRK):
        if not os.access(tool, os.X_OK):
            log(f"error: {tool} not found")
            return 1

    cpu_load, cpu_proxy = cpu_pinning()
    if cpu_load is None:
        log("note: not pinning CPUs (need taskset and >= 2 CPUs, and BENCH_NO_PIN unset)")

    tmp = tempfile.mkdtemp(prefix="wg-bench-")
    atexit.register(shutil.rmtree, tmp, True)
    ctx = Context(tmp=tmp, upstream_port=free_port(), cpu_load=cpu_load, cpu_proxy=cpu_proxy, path=path,
                  wasmgate_bin=os.path.abspath(wasmgate_bin),
                  wasmgate_log_level=os.environ.get("BENCH_WASMGATE_LOG_LEVEL", "warning"))

    try:
        start_upstream(tmp, ctx.upstream_port, cpu_load)  # shared by every target
        expected_status, expected_body = http_get(ctx.upstream_port, path)

        for t in targets:
            log(f"starting {t.name}: {t.description}")
            port = t.start(ctx)
            status, body = http_get(port, path)
            if (status, body) != (expected_status, expected_body):
                raise RuntimeError(f"{t.name} answered {status} {body[:200]!r}, expected "
                                   f"{expected_status} {expected_body[:200]!r}")
    except RuntimeError as e:
        log(f"error: {e}")
        return 1

    runs: dict = {t.name: [] for t in targets}
    bad_runs = 0
    total = rounds * len(targets)
    log(f"benchmark: {rounds} rounds x {len(targets)} targets, wrk -t{threads} -c{connections} "
        f"-d{duration:g}s --latency (warm-up {warmup:g}s), pinning: load={cpu_load} proxy={cpu_proxy}")
    i = 0
    for rnd in range(rounds):
        for t in targets:
            i += 1
            if warmup > 0:
                run_wrk(t.port, ctx, warmup, connections, threads)
            out = run_wrk(t.port, ctx, duration, connections, threads)
            r = parse_wrk(out)
            r["round"] = rnd
            r["raw"] = out
            errors = sum(r["socket_errors"].values()) + r["non_2xx_3xx"]
            r["errors"] = errors
            if errors or r["rps"] is None:
                bad_runs += 1
            runs[t.name].append(r)
            log(f"[{i}/{total}] round {rnd + 1} {t.name:14s} {fmt(r['rps'], '10.0f')} req/s  "
                f"p50 {fmt(r['p50_ms'], '.3f')} ms  p99 {fmt(r['p99_ms'], '.3f')} ms"
                + (f"  ERRORS {errors}" if errors else ""))
            for p in t.procs:
                if p.poll() is not None:
                    log(f"error: {t.name} died during the run (exit {p.returncode})")
                    return 1

    summary = {}
    for t in targets:
        rs = runs[t.name]
        summary[t.name] = {
            "description": t.description,
            "rps_median": median([r["rps"] for r in rs]),
            "p50_ms_median": median([r["p50_ms"] for r in rs]),
            "p99_ms_median": median([r["p99_ms"] for r in rs]),
            "rps_all": [r["rps"] for r in rs],
            "p99_ms_all": [r["p99_ms"] for r in rs],
            "errors": sum(r["errors"] for r in rs),
            "info": t.info,
        }
    ratios = {}
    if BASELINE in summary and SUBJECT in summary:
        b, s = summary[BASELINE], summary[SUBJECT]
        if b["rps_median"] and s["rps_median"] is not None:
            ratios["rps_wasmgate_over_nginx"] = s["rps_median"] / b["rps_median"]
        if b["p99_ms_median"] and s["p99_ms_median"] is not None:
            ratios["p99_wasmgate_over_nginx"] = s["p99_ms_median"] / b["p99_ms_median"]
    if "nginx-direct" in summary and SUBJECT in summary and summary["nginx-direct"]["rps_median"]:
        ratios["rps_wasmgate_over_direct"] = summary[SUBJECT]["rps_median"] / summary["nginx-direct"]["rps_median"]

    # Table.
    print()
    print(f"{'target':16s} {'req/s (median)':>15s} {'p50 ms':>9s} {'p99 ms':>9s} {'errors':>7s}")
    for name, s in summary.items():
        print(f"{name:16s} {fmt(s['rps_median'], '15.0f')} {fmt(s['p50_ms_median'], '9.3f')} "
              f"{fmt(s['p99_ms_median'], '9.3f')} {s['errors']:7d}")
    for name, subj, base in EXTRA_RATIOS:
        if subj in summary and base in summary and summary[base]["rps_median"]:
            ratios["rps_" + name] = summary[subj]["rps_median"] / summary[base]["rps_median"]
            if summary[base]["p99_ms_median"]:
                ratios["p99_" + name] = summary[subj]["p99_ms_median"] / summary[base]["p99_ms_median"]
    if ratios:
        print()
        if "rps_wasmgate_over_nginx" in ratios:
            print(f"wasmgate / nginx-proxy  req/s: {ratios['rps_wasmgate_over_nginx']:.3f}")
        if "p99_wasmgate_over_nginx" in ratios:
            print(f"wasmgate / nginx-proxy  p99:   {ratios['p99_wasmgate_over_nginx']:.3f}  (lower is better)")
        if "rps_wasmgate_over_direct" in ratios:
            print(f"wasmgate / nginx-direct req/s: {ratios['rps_wasmgate_over_direct']:.3f}")
        for name, subj, base in EXTRA_RATIOS:
            if "rps_" + name in ratios:
                print(f"{subj} / {base} req/s: {ratios['rps_' + name]:.3f}   "
                      f"p99: {ratios.get('p99_' + name, float('nan')):.3f}")

    doc = {
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "host": {"machine": platform.machine(), "cpus": os.cpu_count(), "kernel": platform.release(),
                 "cpu_model": cpu_model()},
        "params": {"duration_s": duration, "rounds": rounds, "connections": connections, "threads": threads,
                   "warmup_s": warmup, "path": path, "pinning": {"load": cpu_load, "proxy": cpu_proxy}},
        "tools": {"wrk": tool_version([WRK, "--version"]), "nginx": tool_version([NGINX, "-v"])},
        "targets": summary,
        "ratios": ratios,
        "runs": {name: [{k: v for k, v in r.items()} for r in rs] for name, rs in runs.items()},
        "valid": bad_runs == 0,
    }
    os.makedirs(os.path.dirname(results_path), exist_ok=True)
    with open(results_path, "w") as f:
        json.dump(doc, f, indent=2)
    print(f"\nresults written to {results_path}")
    if bad_runs:
        log(f"warning: {bad_runs} run(s) had errors or unparseable output; see 'runs' in the JSON")
        return 3
    return 0


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    try:
        sys.exit(main())
    finally:
        _cleanup()
