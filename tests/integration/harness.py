"""Shared helpers for wasmgate's integration tests.

Everything here talks to 127.0.0.1 only, every wait is bounded, and every process or thread
that is started is stopped again (unittest cleanups plus an atexit safety net).

Pieces:
  free_port()            a free TCP port on 127.0.0.1 (bind :0, close)
  Nginx                  nginx as an upstream, with its own config and prefix in a temp dir
  FaultUpstream          a raw-socket HTTP/1.1 upstream whose behavior is chosen by path
  Proxy                  the wasmgate binary under test, with admin helpers
  Conn / http_request    a raw-socket HTTP/1.1 client that exposes exact bytes
  raw_exchange           send exact bytes, read everything until the peer closes
  envoy_yaml / builders  emit Envoy v3 bootstrap YAML from Python values
  WasmgateTestCase       unittest base class wiring the above with cleanups

Only the Python standard library is used.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Iterable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
REPO_ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
DEFAULT_BIN = os.path.join(REPO_ROOT, "build", "wasmgate")
NGINX_BIN = "/usr/sbin/nginx"

LOCALHOST = "127.0.0.1"
DEFAULT_TIMEOUT = 10.0

UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def wasmgate_bin() -> str:
    return os.environ.get("WASMGATE_BIN") or DEFAULT_BIN


# ---------------------------------------------------------------------------------------------
# Process bookkeeping: everything we start is killed at exit even if a cleanup was skipped.
# ---------------------------------------------------------------------------------------------

_live_procs: "set[subprocess.Popen]" = set()
_live_lock = threading.Lock()


def _register_proc(p: subprocess.Popen) -> None:
    with _live_lock:
        _live_procs.add(p)


def _unregister_proc(p: subprocess.Popen) -> None:
    with _live_lock:
        _live_procs.discard(p)


def _kill_group(p: subprocess.Popen, sig: int = signal.SIGKILL) -> None:
    """Signals the process group of a process we started with start_new_session=True.

    Its process group id is its own pid, so this reaches exactly that process and the
    children it forked (nginx workers), nothing else."""
    try:
        os.killpg(p.pid, sig)
    except (ProcessLookupError, PermissionError):
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass


@atexit.register
def _kill_leftovers() -> None:
    with _live_lock:
        procs = list(_live_procs)
    for p in procs:
        if p.poll() is None:
            _kill_group(p, signal.SIGKILL)
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass


def stop_process(p: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10.0) -> Optional[int]:
    """Sends `sig` to the process, waits up to `timeout`, then SIGKILLs its group. Returns the
    exit code the process had after the first signal (None if it had to be killed)."""
    rc: Optional[int] = None
    if p.poll() is None:
        try:
            p.send_signal(sig)
        except ProcessLookupError:
            pass
        try:
            rc = p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            rc = None
    else:
        rc = p.returncode
    # Reap anything left in its group (nginx workers, stray children).
    _kill_group(p, signal.SIGKILL)
    try:
        p.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    _unregister_proc(p)
    return rc


# ---------------------------------------------------------------------------------------------
# Small utilities
# ---------------------------------------------------------------------------------------------

_handed_out_ports: set = set()
_port_lock = threading.Lock()


def free_port() -> int:
    """A currently free TCP port on 127.0.0.1 (bind to port 0, read it back, close).

    The kernel may hand the same just-closed port to two consecutive bind(0) calls, so ports are
    never returned twice by one process (a test asking for a listener and an admin port must get
    two different ones)."""
    for _ in range(100):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            s.bind((LOCALHOST, 0))
            port = s.getsockname()[1]
        finally:
            s.close()
        with _port_lock:
            if port not in _handed_out_ports:
                _handed_out_ports.add(port)
                return port
    raise RuntimeError("could not find a fresh free port")


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (connects get ECONNREFUSED)."""
    return free_port()


def wait_until(pred: Callable[[], object], timeout: float = 5.0, interval: float = 0.02):
    """Polls pred() until it returns something truthy or `timeout` passes. Returns the last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(interval)


def port_accepting(port: int, host: str = LOCALHOST, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_port(port: int, timeout: float = 5.0, host: str = LOCALHOST) -> bool:
    return bool(wait_until(lambda: port_accepting(port, host), timeout=timeout, interval=0.05))


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tail(path: str, max_bytes: int = 20000) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - max_bytes))
            return f.read().decode("utf-8", "replace")
    except OSError as e:
        return f"<cannot read {path}: {e}>"


# ---------------------------------------------------------------------------------------------
# HTTP/1.1 client on raw sockets
# ---------------------------------------------------------------------------------------------

class ConnectionClosed(Exception):
    """The peer closed the connection before a complete message was read."""


@dataclass
class Response:
    status: int = 0
    reason: str = ""
    version: str = ""
    headers: list = field(default_factory=list)   # [(lower-case name, value)], in order
    body: bytes = b""
    trailers: list = field(default_factory=list)
    interim: list = field(default_factory=list)   # 1xx responses seen before this one
    chunked: bool = False
    complete: bool = True                         # False: connection closed mid-body
    raw_head: bytes = b""

    def header(self, name: str, default: Optional[str] = None) -> Optional[str]:
        name = name.lower()
        for k, v in self.headers:
            if k == name:
                return v
        return default

    def header_all(self, name: str) -> list:
        name = name.lower()
        return [v for k, v in self.headers if k == name]

    def has_header(self, name: str) -> bool:
        return self.header(name) is not None

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self) -> str:
        b = self.body if len(self.body) <= 300 else self.body[:300] + b"..."
        return (f"Response({self.status} {self.reason!r}, headers={self.headers!r}, "
                f"body={b!r}, complete={self.complete})")


def build_request(method: str, path: str, headers=None, body: Optional[bytes] = None,
                  host: Optional[str] = "localhost", chunked=False, version: str = "HTTP/1.1") -> bytes:
    """Serializes a request. `headers` is a list of (name, value) pairs or a dict, sent as is
    (names keep their case). A Host header is added unless one is given or host is None.
    With a body and no framing header, Content-Length is added; chunked=True sends the body with
    chunked transfer coding instead (a list of bytes gives one chunk per element)."""
    if isinstance(headers, dict):
        headers = list(headers.items())
    headers = list(headers or [])
    names = {k.lower() for k, _ in headers}
    out = [f"{method} {path} {version}\r\n".encode("latin-1")]
    if host is not None and "host" not in names:
        headers.insert(0, ("Host", host))
    payload = b""
    if chunked:
        if "transfer-encoding" not in names:
            headers.append(("Transfer-Encoding", "chunked"))
        parts = body if isinstance(body, (list, tuple)) else ([body] if body else [])
        for part in parts:
            if isinstance(part, str):
                part = part.encode()
            if part:
                payload += b"%x\r\n" % len(part) + part + b"\r\n"
        payload += b"0\r\n\r\n"
    elif body is not None:
        if isinstance(body, str):
            body = body.encode()
        if "content-length" not in names and "transfer-encoding" not in names:
            headers.append(("Content-Length", str(len(body))))
        payload = body
    for k, v in headers:
        out.append(f"{k}: {v}\r\n".encode("latin-1"))
    out.append(b"\r\n")
    return b"".join(out) + payload


class Conn:
    """One client connection to 127.0.0.1:<port>. Reads are buffered so several responses
    (pipelining, interim 1xx) can be read in sequence. All operations are bounded by timeouts."""

    def __init__(self, port: int, host: str = LOCALHOST, timeout: float = DEFAULT_TIMEOUT):
        self.port = port
        self.timeout = timeout
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.eof = False

    # -- plumbing --
    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def reset(self) -> None:
        """Closes with RST (SO_LINGER 0)."""
        try:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        except OSError:
            pass
        self.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def send_request(self, method: str, path: str, headers=None, body=None, **kw) -> None:
        kw.setdefault("host", f"{LOCALHOST}:{self.port}")
        self.send(build_request(method, path, headers, body, **kw))

    def _fill(self, deadline: float) -> bool:
        """Reads more bytes into the buffer. False at EOF (or connection reset)."""
        if self.eof:
            return False
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError(f"timed out reading from 127.0.0.1:{self.port}; have {self.buf[:200]!r}")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout:
            raise TimeoutError(f"timed out reading from 127.0.0.1:{self.port}; have {self.buf[:200]!r}")
        except ConnectionResetError:
            data = b""
        if not data:
            self.eof = True
            return False
        self.buf += data
        return True

    def _read_until(self, delim: bytes, deadline: float, limit: int = 1 << 20) -> bytes:
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out, self.buf = self.buf[: i + len(delim)], self.buf[i + len(delim):]
                return out
            if len(self.buf) > limit:
                raise ValueError("line/header block too long")
            if not self._fill(deadline):
                raise ConnectionClosed(f"closed while waiting for {delim!r}; have {self.buf[:200]!r}")

    def _read_exact(self, n: int, deadline: float) -> bytes:
        while len(self.buf) < n:
            if not self._fill(deadline):
                raise ConnectionClosed(f"closed after {len(self.buf)} of {n} bytes")
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    # -- HTTP --
    def read_response(self, method: str = "GET", timeout: Optional[float] = None,
                      stop_at_interim: bool = False) -> Response:
        """Reads one response. 1xx interim responses are collected into .interim (or returned
        themselves with stop_at_interim=True). If the connection closes mid-body, the partial
        response is returned with complete=False; a close before the status line raises
        ConnectionClosed."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        interim = []
        while True:
            head = self._read_until(b"\r\n\r\n", deadline)
            resp = parse_response_head(head)
            if 100 <= resp.status < 200 and resp.status != 101:
                if stop_at_interim:
                    return resp
                interim.append(resp)
                continue
            break
        resp.interim = interim
        te = (resp.header("transfer-encoding") or "").lower()
        cl = resp.header("content-length")
        if method.upper() == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200:
            return resp
        try:
            if "chunked" in te:
                resp.chunked = True
                resp.body, resp.trailers = self._read_chunked(deadline)
            elif cl is not None:
                resp.body = self._read_exact(int(cl), deadline)
            else:
                while self._fill(deadline):
                    pass
                resp.body, self.buf = self.buf, b""
        except ConnectionClosed:
            resp.body, self.buf = resp.body + self.buf, b""
            resp.complete = False
        return resp

    def _read_chunked(self, deadline: float):
        body = bytearray()
        try:
            while True:
                line = self._read_until(b"\r\n", deadline)
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    break
                body += self._read_exact(size, deadline)
                self._read_exact(2, deadline)
            trailers = []
            while True:
                line = self._read_until(b"\r\n", deadline)
                if line == b"\r\n":
                    break
                k, _, v = line.decode("latin-1").partition(":")
                trailers.append((k.strip().lower(), v.strip()))
            return bytes(body), trailers
        except ConnectionClosed:
            self.buf = bytes(body) + self.buf
            raise

    def request(self, method: str, path: str, headers=None, body=None, timeout=None, **kw) -> Response:
        self.send_request(method, path, headers, body, **kw)
        return self.read_response(method, timeout=timeout)

    def read_until_close(self, timeout: float = 5.0) -> bytes:
        """Everything the peer sends until it closes; TimeoutError if it doesn't close in time."""
        deadline = time.monotonic() + timeout
        while self._fill(deadline):
            pass
        out, self.buf = self.buf, b""
        return out

    def wait_closed(self, timeout: float = 5.0) -> bool:
        """True if the peer closes within `timeout` (any bytes received meanwhile are kept)."""
        try:
            self.read_until_close(timeout)
            return True
        except TimeoutError:
            return False

    def is_open(self, wait: float = 0.1) -> bool:
        """False if the peer has closed (checked without consuming data beyond the buffer)."""
        if self.eof:
            return False
        r, _, _ = select.select([self.sock], [], [], wait)
        if not r:
            return True
        try:
            data = self.sock.recv(65536, socket.MSG_PEEK)
        except (ConnectionResetError, OSError):
            return False
        return bool(data)


def parse_response_head(head: bytes) -> Response:
    text = head.decode("latin-1")
    lines = text.split("\r\n")
    status_line = lines[0]
    parts = status_line.split(" ", 2)
    if len(parts) < 2 or not parts[0].startswith("HTTP/"):
        raise ValueError(f"bad status line {status_line!r}")
    r = Response(version=parts[0], status=int(parts[1]), reason=parts[2] if len(parts) > 2 else "")
    for line in lines[1:]:
        if not line:
            continue
        k, sep, v = line.partition(":")
        if not sep:
            raise ValueError(f"bad header line {line!r}")
        r.headers.append((k.strip().lower(), v.strip()))
    r.raw_head = head
    return r


def http_request(port: int, method: str = "GET", path: str = "/", headers=None, body=None,
                 timeout: float = DEFAULT_TIMEOUT, **kw) -> Response:
    """One request on a fresh connection; returns the Response (connection closed after)."""
    with Conn(port, timeout=timeout) as c:
        return c.request(method, path, headers, body, **kw)


def http_get(port: int, path: str = "/", headers=None, **kw) -> Response:
    return http_request(port, "GET", path, headers, **kw)


def raw_exchange(port: int, data: bytes, timeout: float = 5.0, half_close: bool = False) -> bytes:
    """Sends exact bytes and returns everything received until the peer closes (or `timeout`
    passes, then whatever arrived so far). half_close=True shuts down our write side after
    sending. A reset by the peer ends reading without raising."""
    with Conn(port, timeout=timeout) as c:
        try:
            c.send(data)
            if half_close:
                c.sock.shutdown(socket.SHUT_WR)
        except (BrokenPipeError, ConnectionResetError):
            pass
        try:
            return c.read_until_close(timeout)
        except TimeoutError:
            return c.buf


def parse_responses(raw: bytes, methods: Optional[list] = None) -> list:
    """Splits raw bytes (several responses back to back) into Response objects. Parsing stops
    at the first incomplete message."""
    out = []
    reader = _BytesConn(raw)
    i = 0
    while reader.buf:
        m = methods[i] if methods and i < len(methods) else "GET"
        try:
            r = reader.read_response(m)
        except (ConnectionClosed, ValueError):
            break
        out.append(r)
        i += 1
        if not r.complete:
            break
    return out


class _BytesConn(Conn):
    def __init__(self, data: bytes):  # noqa: no socket
        self.buf = data
        self.eof = True
        self.timeout = 1.0
        self.port = 0

    def _fill(self, deadline):
        return False


def status_of(raw: bytes) -> Optional[int]:
    m = re.match(rb"HTTP/1\.[01] (\d{3})", raw)
    return int(m.group(1)) if m else None


# ---------------------------------------------------------------------------------------------
# nginx upstream
# ---------------------------------------------------------------------------------------------

NGINX_CONF = r"""
{user_line}
worker_processes 1;
error_log {tmp}/error.log info;
pid {tmp}/nginx.pid;
events {{
    worker_connections 1024;
}}
http {{
    access_log off;
    client_body_temp_path {tmp}/client_body_temp;
    proxy_temp_path {tmp}/proxy_temp;
    fastcgi_temp_path {tmp}/fastcgi_temp;
    uwsgi_temp_path {tmp}/uwsgi_temp;
    scgi_temp_path {tmp}/scgi_temp;
    default_type application/octet-stream;
    keepalive_requests 100000;
    keepalive_timeout 75s;
    server {{
        listen 127.0.0.1:{port};
        server_name _;
        root {tmp}/www;
        # Reflects what the proxy sent: request target, Host, X-Forwarded-For, X-Request-Id,
        # X-Forwarded-Proto, separated by '|'.
        location /echo-headers {{
            default_type text/plain;
            add_header X-Upstream nginx;
            return 200 "$request_uri|$http_host|$http_x_forwarded_for|$http_x_request_id|$http_x_forwarded_proto\n";
        }}
        # An authorization service for callout tests: 200 for "Bearer good", else 403.
        location /auth/check {{
            default_type text/plain;
            if ($http_authorization = "Bearer good") {{
                return 200 "allowed\n";
            }}
            return 403 "denied\n";
        }}
        # Static files (large.bin: {large_size} bytes of pseudo-random data).
        location /static/ {{
            add_header X-Upstream nginx;
        }}
        location / {{
            default_type text/plain;
            add_header X-Upstream nginx;
            return 200 "hello from nginx\n";
        }}
    }}
}}
"""


class Nginx:
    """nginx (Debian nginx-light) as an upstream, entirely inside `tmpdir`.

    Serves:  /                -> 200 "hello from nginx\\n" (X-Upstream: nginx)
             /auth/check      -> 200 "allowed\\n" with "Authorization: Bearer good", else 403
             /echo-headers... -> 200 "$request_uri|$http_host|$http_x_forwarded_for|$http_x_request_id|$http_x_forwarded_proto\\n"
             /static/large.bin -> LARGE_SIZE bytes (sha256 in .large_sha256)
    """

    LARGE_SIZE = 5 * 1024 * 1024

    def __init__(self, tmpdir: Optional[str] = None, port: Optional[int] = None):
        self._own_tmp = tmpdir is None
        self.tmpdir = tmpdir or tempfile.mkdtemp(prefix="wg-nginx-")
        self.port = port or free_port()
        self.proc: Optional[subprocess.Popen] = None
        self.large_sha256 = ""

    def start(self, timeout: float = 5.0) -> "Nginx":
        t = self.tmpdir
        os.makedirs(os.path.join(t, "www", "static"), exist_ok=True)
        os.makedirs(os.path.join(t, "logs"), exist_ok=True)  # nginx -p expects <prefix>/logs
        data = _pattern_bytes(self.LARGE_SIZE)
        with open(os.path.join(t, "www", "static", "large.bin"), "wb") as f:
            f.write(data)
        self.large_sha256 = sha256(data)
        with open(os.path.join(t, "www", "static", "small.txt"), "wb") as f:
            f.write(b"small static file\n")
        conf = NGINX_CONF.format(tmp=t, port=self.port, large_size=self.LARGE_SIZE,
                                 user_line="user root;" if os.geteuid() == 0 else "")
        conf_path = os.path.join(t, "nginx.conf")
        with open(conf_path, "w") as f:
            f.write(conf)
        self.log_path = os.path.join(t, "nginx.out")
        log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [NGINX_BIN, "-p", t + "/", "-c", conf_path, "-g", "daemon off;"],
            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        log.close()
        _register_proc(self.proc)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}:\n{tail(self.log_path)}\n"
                                   f"{tail(os.path.join(t, 'error.log'))}")
            if port_accepting(self.port, timeout=0.2):
                return self
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"nginx did not accept on {self.port} within {timeout}s:\n"
                           f"{tail(os.path.join(t, 'error.log'))}")

    def stop(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGTERM, timeout=5)
            self.proc = None
        if self._own_tmp:
            shutil.rmtree(self.tmpdir, ignore_errors=True)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()


def _pattern_bytes(n: int) -> bytes:
    """Deterministic pseudo-random bytes (sha256 counter stream); repeats would hide misordering."""
    out = bytearray()
    i = 0
    while len(out) < n:
        out += hashlib.sha256(i.to_bytes(8, "big")).digest() * 64  # 2 KiB per step
        i += 1
    return bytes(out[:n])


# ---------------------------------------------------------------------------------------------
# Fault-injecting upstream
# ---------------------------------------------------------------------------------------------

@dataclass
class RecordedRequest:
    method: str
    path: str                      # request target as received (with query)
    version: str
    headers: dict                  # lower-case name -> value (repeats joined with ", ")
    header_list: list              # [(name as received, value)]
    body: bytes
    framing: str                   # "content-length" | "chunked" | "none"
    trailers: list
    conn_id: int
    time: float

    @property
    def route(self) -> str:
        return self.path.split("?", 1)[0]


@dataclass
class ConnInfo:
    conn_id: int
    peer: str
    opened: float
    closed: Optional[float] = None
    requests: int = 0
    closed_by_peer: bool = False


class FaultUpstream:
    """A threaded HTTP/1.1 upstream on 127.0.0.1 built on raw sockets, so every byte is under
    control. One thread per connection; keep-alive; Content-Length and chunked request bodies.

    Behavior by path (query parameters in brackets):
      /ok                    200 "ok\\n" with Content-Length, keep-alive
      /echo, /echo/...       200 JSON {method, path, version, headers{lower: value},
                             header_list[[name, value]], body, body_length, framing, trailers,
                             conn_id}; body decoded as latin-1
      /chunked [n=4, delay_ms=50, trailers=1]
                             chunked response "chunk-0\\n".."chunk-{n-1}\\n", a delay between
                             chunks, optional trailer "x-trailer: done"
      /slow [ms=N]           waits N ms (watching the socket: if the peer closes meanwhile, the
                             request is recorded in .cancelled and nothing is sent), then 200
      /reset                 reads the request, then closes with RST (SO_LINGER 0), no answer
      /close-mid-body        headers with Content-Length: 1000, 10 bytes of body, then close
      /huge [bytes=N]        N bytes of a repeating pattern with Content-Length, streamed
      /status [code=N]       answers status N (body "status N\\n" unless 1xx/204/304)
      /count                 body: number of TCP connections accepted so far
      /malformed             sends an invalid status line, then closes
      /healthz               answers self.health_status (default 200), for active health checks
      anything else          404
    Any path takes [close=1]: answer with "Connection: close" and close afterwards.
    Every response carries "x-upstream-name: <name>" and "x-upstream-conn: <conn id>".

    Expect: 100-continue: if a request that reaches this upstream still carries it (a proxy
    that forwards the header rather than answering it itself, which Envoy does by default), the
    upstream sends "HTTP/1.1 100 Continue" before reading the body, like a typical origin.

    Records: .accepted (connections), .connections [ConnInfo], .requests [RecordedRequest],
    .cancelled [RecordedRequest] (slow requests whose client went away).
    """

    def __init__(self, name: str = "fault", port: int = 0):
        self.name = name
        self.lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.lsock.bind((LOCALHOST, port))
        self.lsock.listen(512)
        self.port = self.lsock.getsockname()[1]
        self.health_status = 200
        self.accepted = 0
        self.connections: list[ConnInfo] = []
        self.requests: list[RecordedRequest] = []
        self.cancelled: list[RecordedRequest] = []
        self.cond = threading.Condition()
        self._stop = threading.Event()
        self._socks: set = set()
        self._threads: list = []
        self._accept_thread: Optional[threading.Thread] = None

    @property
    def address(self) -> str:
        return f"{LOCALHOST}:{self.port}"

    def start(self) -> "FaultUpstream":
        self._accept_thread = threading.Thread(target=self._accept_loop, name=f"{self.name}-accept",
                                               daemon=True)
        self._accept_thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        try:
            self.lsock.close()
        except OSError:
            pass
        with self.cond:
            socks = list(self._socks)
        for s in socks:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            try:
                s.close()
            except OSError:
                pass
        if self._accept_thread:
            self._accept_thread.join(timeout=2)
        for t in list(self._threads):
            t.join(timeout=2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- assertions helpers --
    def requests_to(self, route: str) -> list:
        with self.cond:
            return [r for r in self.requests if r.route == route or r.route.startswith(route + "/")]

    def non_health_requests(self) -> list:
        with self.cond:
            return [r for r in self.requests if r.route != "/healthz"]

    def wait_for(self, pred: Callable[["FaultUpstream"], object], timeout: float = 5.0):
        """Waits until pred(self) is truthy (evaluated under the lock); returns its last value."""
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                v = pred(self)
                remaining = deadline - time.monotonic()
                if v or remaining <= 0:
                    return v
                self.cond.wait(min(remaining, 0.1))

    def reset_records(self) -> None:
        with self.cond:
            self.requests.clear()
            self.cancelled.clear()

    # -- server --
    def _accept_loop(self) -> None:
        self.lsock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                s, addr = self.lsock.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with self.cond:
                self.accepted += 1
                info = ConnInfo(conn_id=self.accepted, peer=f"{addr[0]}:{addr[1]}", opened=time.monotonic())
                self.connections.append(info)
                self._socks.add(s)
                self.cond.notify_all()
            t = threading.Thread(target=self._serve, args=(s, info), name=f"{self.name}-conn{info.conn_id}",
                                 daemon=True)
            self._threads = [x for x in self._threads if x.is_alive()]
            self._threads.append(t)
            t.start()

    def _serve(self, s: socket.socket, info: ConnInfo) -> None:
        rd = _SockReader(s, self._stop)
        try:
            while not self._stop.is_set():
                try:
                    req = self._read_request(rd, s, info)
                except _PeerClosed:
                    info.closed_by_peer = True
                    return
                except (_BadRequest, ValueError) as e:
                    self._send(s, b"HTTP/1.1 400 Bad Request\r\nContent-Length: %d\r\nConnection: close\r\n\r\n%s"
                               % (len(str(e)), str(e).encode()))
                    return
                if req is None:
                    return
                with self.cond:
                    info.requests += 1
                    self.requests.append(req)
                    self.cond.notify_all()
                keep = self._respond(s, rd, req, info)
                if not keep:
                    return
        except OSError:
            info.closed_by_peer = True
        finally:
            with self.cond:
                info.closed = time.monotonic()
                self._socks.discard(s)
                self.cond.notify_all()
            try:
                s.close()
            except OSError:
                pass

    def _read_request(self, rd: "_SockReader", s: socket.socket, info: ConnInfo) -> Optional[RecordedRequest]:
        head = rd.read_until(b"\r\n\r\n", limit=1 << 20)
        # Tolerate stray CRLF between requests (RFC 9112 2.2).
        head = head.lstrip(b"\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ")
        if len(parts) != 3:
            raise _BadRequest(f"bad request line {lines[0]!r}")
        method, target, version = parts
        header_list = []
        headers: dict = {}
        for line in lines[1:]:
            if not line:
                continue
            k, sep, v = line.partition(":")
            if not sep:
                raise _BadRequest(f"bad header {line!r}")
            k, v = k.strip(), v.strip()
            header_list.append((k, v))
            lk = k.lower()
            headers[lk] = headers[lk] + ", " + v if lk in headers else v
        if headers.get("expect", "").lower() == "100-continue":
            self._send(s, b"HTTP/1.1 100 Continue\r\n\r\n")
        te = headers.get("transfer-encoding", "").lower()
        body = b""
        trailers = []
        if "chunked" in te:
            framing = "chunked"
            chunks = []
            while True:
                line = rd.read_until(b"\r\n")
                size = int(line.split(b";")[0].strip() or b"x", 16)
                if size == 0:
                    break
                chunks.append(rd.read_exact(size))
                if rd.read_exact(2) != b"\r\n":
                    raise _BadRequest("bad chunk terminator")
            while True:
                line = rd.read_until(b"\r\n")
                if line == b"\r\n":
                    break
                k, _, v = line.decode("latin-1").partition(":")
                trailers.append((k.strip(), v.strip()))
            body = b"".join(chunks)
        elif "content-length" in headers:
            framing = "content-length"
            body = rd.read_exact(int(headers["content-length"].split(",")[0]))
        else:
            framing = "none"
        return RecordedRequest(method=method, path=target, version=version, headers=headers,
                               header_list=header_list, body=body, framing=framing, trailers=trailers,
                               conn_id=info.conn_id, time=time.monotonic())

    @staticmethod
    def _send(s: socket.socket, data: bytes) -> None:
        # The reader polls with a 0.2 s timeout; a send must instead wait out the proxy's
        # back-pressure (a slow client can stall it for seconds), or a huge body gets cut.
        old = s.gettimeout()
        s.settimeout(30)
        try:
            s.sendall(data)
        finally:
            s.settimeout(old)

    def _head(self, status: int, headers: list, info: ConnInfo, close: bool, reason: Optional[str] = None) -> bytes:
        reason = reason or _REASONS.get(status, "Unknown")
        lines = [f"HTTP/1.1 {status} {reason}"]
        lines.append(f"x-upstream-name: {self.name}")
        lines.append(f"x-upstream-conn: {info.conn_id}")
        for k, v in headers:
            lines.append(f"{k}: {v}")
        if close:
            lines.append("Connection: close")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def _simple(self, s, info, status: int, body: bytes, close: bool, ctype: str = "text/plain",
                extra: Iterable = ()) -> None:
        hdrs = list(extra)
        if status >= 200 and status not in (204, 304):
            hdrs = [("Content-Type", ctype), ("Content-Length", str(len(body)))] + hdrs
            self._send(s, self._head(status, hdrs, info, close) + body)
        else:
            self._send(s, self._head(status, hdrs, info, close))

    def _respond(self, s: socket.socket, rd: "_SockReader", req: RecordedRequest, info: ConnInfo) -> bool:
        url = urllib.parse.urlsplit(req.path)
        q = {k: v[-1] for k, v in urllib.parse.parse_qs(url.query).items()}
        route = url.path
        close = q.get("close") == "1" or "close" in req.headers.get("connection", "").lower() \
            or (req.version == "HTTP/1.0" and "keep-alive" not in req.headers.get("connection", "").lower())
        head_only = req.method == "HEAD"

        def simple(status, body=b"", **kw):
            if head_only:
                hdrs = [("Content-Type", kw.get("ctype", "text/plain")), ("Content-Length", str(len(body)))]
                self._send(s, self._head(status, hdrs, info, close))
            else:
                self._simple(s, info, status, body, close, **kw)

        if route == "/ok":
            simple(200, b"ok\n")
        elif route == "/echo" or route.startswith("/echo/"):
            doc = {
                "method": req.method, "path": req.path, "version": req.version,
                "headers": req.headers, "header_list": [list(p) for p in req.header_list],
                "body": req.body.decode("latin-1"), "body_length": len(req.body),
                "framing": req.framing, "trailers": [list(p) for p in req.trailers],
                "conn_id": info.conn_id, "upstream": self.name,
            }
            simple(200, json.dumps(doc).encode(), ctype="application/json")
        elif route == "/chunked":
            n = int(q.get("n", "4"))
            delay = int(q.get("delay_ms", "50")) / 1000.0
            self._send(s, self._head(200, [("Content-Type", "text/plain"), ("Transfer-Encoding", "chunked")],
                                     info, close))
            if not head_only:
                for i in range(n):
                    piece = f"chunk-{i}\n".encode()
                    self._send(s, b"%x\r\n%s\r\n" % (len(piece), piece))
                    if i + 1 < n:
                        time.sleep(delay)
                if q.get("trailers") == "1":
                    self._send(s, b"0\r\nx-trailer: done\r\n\r\n")
                else:
                    self._send(s, b"0\r\n\r\n")
        elif route == "/slow":
            ms = int(q.get("ms", "1000"))
            if not self._wait_watching(s, rd, ms / 1000.0):
                with self.cond:
                    self.cancelled.append(req)
                    self.cond.notify_all()
                return False
            simple(200, f"slow {ms}ms\n".encode())
        elif route == "/reset":
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            return False
        elif route == "/close-mid-body":
            self._send(s, self._head(200, [("Content-Type", "text/plain"), ("Content-Length", "1000")], info, False))
            self._send(s, b"0123456789")
            time.sleep(0.05)
            return False
        elif route == "/huge":
            n = int(q.get("bytes", str(1 << 20)))
            self._send(s, self._head(200, [("Content-Type", "application/octet-stream"),
                                           ("Content-Length", str(n))], info, close))
            if not head_only:
                block = HUGE_PATTERN * (65536 // len(HUGE_PATTERN))
                sent = 0
                while sent < n:
                    piece = block[: min(len(block), n - sent)]
                    self._send(s, piece)
                    sent += len(piece)
        elif route == "/status":
            code = int(q.get("code", "200"))
            simple(code, f"status {code}\n".encode())
        elif route == "/count":
            with self.cond:
                n = self.accepted
            simple(200, str(n).encode())
        elif route == "/malformed":
            self._send(s, b"HTTP/1.1 2x0 Wat\r\nContent-Length: nope\r\n\r\n")
            time.sleep(0.05)
            return False
        elif route == "/healthz":
            simple(self.health_status, f"health {self.health_status}\n".encode())
        else:
            simple(404, b"not found\n")
        return not close

    def _wait_watching(self, s: socket.socket, rd: "_SockReader", seconds: float) -> bool:
        """Sleeps `seconds`, returning False early if the peer closes the connection."""
        deadline = time.monotonic() + seconds
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if self._stop.is_set():
                return False
            r, _, _ = select.select([s], [], [], min(remaining, 0.05))
            if r:
                try:
                    data = s.recv(65536)
                except (ConnectionResetError, OSError):
                    return False
                if not data:
                    return False
                rd.buf += data  # a pipelined next request: keep it


HUGE_PATTERN = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+/"  # 64 bytes


def huge_body(n: int) -> bytes:
    reps = n // len(HUGE_PATTERN) + 1
    return (HUGE_PATTERN * reps)[:n]


class _PeerClosed(Exception):
    pass


class _BadRequest(Exception):
    pass


class _SockReader:
    def __init__(self, s: socket.socket, stop: threading.Event):
        self.s = s
        self.stop = stop
        self.buf = b""
        s.settimeout(0.2)

    def _fill(self) -> None:
        while not self.stop.is_set():
            try:
                data = self.s.recv(65536)
            except socket.timeout:
                continue
            except (ConnectionResetError, OSError):
                raise _PeerClosed()
            if not data:
                raise _PeerClosed()
            self.buf += data
            return
        raise _PeerClosed()

    def read_until(self, delim: bytes, limit: int = 1 << 16) -> bytes:
        while True:
            i = self.buf.find(delim)
            if i >= 0:
                out, self.buf = self.buf[: i + len(delim)], self.buf[i + len(delim):]
                return out
            if len(self.buf) > limit:
                raise _BadRequest("header block too long")
            self._fill()

    def read_exact(self, n: int) -> bytes:
        while len(self.buf) < n:
            self._fill()
        out, self.buf = self.buf[:n], self.buf[n:]
        return out


_REASONS = {
    100: "Continue", 200: "OK", 201: "Created", 204: "No Content", 301: "Moved Permanently",
    302: "Found", 304: "Not Modified", 400: "Bad Request", 404: "Not Found", 418: "I'm a teapot",
    429: "Too Many Requests", 500: "Internal Server Error", 502: "Bad Gateway",
    503: "Service Unavailable", 504: "Gateway Timeout",
}


# ---------------------------------------------------------------------------------------------
# The proxy under test
# ---------------------------------------------------------------------------------------------

class ProxyStartError(AssertionError):
    pass


def _admin_port_from_config(text: str) -> Optional[int]:
    s = text.strip()
    if s.startswith("{"):
        try:
            doc = json.loads(s)
            return int(doc["admin"]["address"]["socket_address"]["port_value"])
        except (ValueError, KeyError, TypeError):
            return None
    # YAML: the first port_value after a top-level "admin:" key.
    m = re.search(r"(?m)^admin:\s*$", text) or re.search(r"(?m)^admin:", text)
    if not m:
        return None
    m2 = re.search(r"port_value:\s*(\d+)", text[m.end():])
    return int(m2.group(1)) if m2 else None


class Proxy:
    """Runs `$WASMGATE_BIN -c <config> --concurrency N --log-level info [extra_args]`.

    start() waits (bounded) until the admin endpoint answers GET /ready with 200, and until
    every port in `listen_ports` accepts connections. If the process exits first, ProxyStartError
    carries its output. stop() sends SIGTERM and returns the exit code.
    """

    def __init__(self, config: Optional[str], concurrency: int = 1, extra_args: Iterable[str] = (),
                 admin_port: Optional[int] = None, listen_ports: Iterable[int] = (),
                 config_suffix: str = ".yaml", binary: Optional[str] = None, log_level: str = "info",
                 use_config_file: bool = True):
        self.config = config
        self.concurrency = concurrency
        self.extra_args = list(extra_args)
        self.admin_port = admin_port if admin_port is not None else (
            _admin_port_from_config(config) if config else None)
        self.listen_ports = list(listen_ports)
        self.binary = binary or wasmgate_bin()
        self.log_level = log_level
        self.tmpdir = tempfile.mkdtemp(prefix="wg-proxy-")
        self.config_path = os.path.join(self.tmpdir, "config" + config_suffix)
        self.stdout_path = os.path.join(self.tmpdir, "stdout.log")
        self.stderr_path = os.path.join(self.tmpdir, "stderr.log")
        self.use_config_file = use_config_file
        self.proc: Optional[subprocess.Popen] = None
        self.returncode: Optional[int] = None

    def command(self) -> list:
        cmd = [self.binary]
        if self.config is not None and self.use_config_file:
            cmd += ["-c", self.config_path]
        cmd += ["--concurrency", str(self.concurrency), "--log-level", self.log_level]
        return cmd + self.extra_args

    def start(self, timeout: float = 10.0) -> "Proxy":
        if not os.path.isfile(self.binary) or not os.access(self.binary, os.X_OK):
            raise ProxyStartError(f"wasmgate binary not found or not executable: {self.binary} "
                                  f"(set WASMGATE_BIN)")
        if self.config is not None:
            with open(self.config_path, "w") as f:
                f.write(self.config)
        out = open(self.stdout_path, "wb")
        err = open(self.stderr_path, "wb")
        self.started_at = time.monotonic()
        self.proc = subprocess.Popen(self.command(), stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                     start_new_session=True, cwd=self.tmpdir)
        out.close()
        err.close()
        _register_proc(self.proc)
        deadline = time.monotonic() + timeout
        if self.admin_port is not None:
            while True:
                if self.proc.poll() is not None:
                    raise ProxyStartError(f"wasmgate exited with {self.proc.returncode} during startup\n"
                                          + self.logs())
                try:
                    r = self.admin_get("/ready", timeout=1.0)
                    if r.status == 200:
                        break
                except (OSError, TimeoutError, ConnectionClosed, ValueError):
                    pass
                if time.monotonic() > deadline:
                    self.kill()
                    raise ProxyStartError(f"wasmgate admin /ready not 200 within {timeout}s\n" + self.logs())
                time.sleep(0.05)
        for p in self.listen_ports:
            while not port_accepting(p, timeout=0.2):
                if self.proc.poll() is not None:
                    raise ProxyStartError(f"wasmgate exited with {self.proc.returncode}\n" + self.logs())
                if time.monotonic() > deadline:
                    self.kill()
                    raise ProxyStartError(f"listener 127.0.0.1:{p} not accepting within {timeout}s\n"
                                          + self.logs())
                time.sleep(0.05)
        return self

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def signal(self, sig: int) -> None:
        if self.running():
            self.proc.send_signal(sig)

    def wait(self, timeout: float) -> Optional[int]:
        try:
            self.returncode = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None
        return self.returncode

    def stop(self, timeout: float = 10.0) -> Optional[int]:
        """SIGTERM, bounded wait; returns the exit code (None if it had to be SIGKILLed)."""
        if self.proc is None:
            return self.returncode
        if self.proc.poll() is not None:
            self.returncode = self.proc.returncode
            stop_process(self.proc, signal.SIGKILL, timeout=1)
            return self.returncode
        self.returncode = stop_process(self.proc, signal.SIGTERM, timeout=timeout)
        return self.returncode

    def kill(self) -> None:
        if self.proc is not None:
            stop_process(self.proc, signal.SIGKILL, timeout=5)

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.tmpdir, ignore_errors=True)

    def stdout(self) -> str:
        return tail(self.stdout_path, 1 << 22)

    def stderr(self) -> str:
        return tail(self.stderr_path, 1 << 22)

    def logs(self, max_bytes: int = 20000) -> str:
        return (f"--- wasmgate command: {' '.join(self.command())}\n"
                f"--- stdout ({self.stdout_path}):\n{tail(self.stdout_path, max_bytes)}\n"
                f"--- stderr ({self.stderr_path}):\n{tail(self.stderr_path, max_bytes)}\n")

    # -- admin --
    def admin_request(self, method: str, path: str, timeout: float = 5.0, body=None) -> Response:
        if self.admin_port is None:
            raise RuntimeError("no admin port known for this proxy")
        return http_request(self.admin_port, method, path, body=body, timeout=timeout,
                            host=f"{LOCALHOST}:{self.admin_port}")

    def admin_get(self, path: str, timeout: float = 5.0) -> Response:
        return self.admin_request("GET", path, timeout=timeout)

    def admin_post(self, path: str, timeout: float = 5.0) -> Response:
        return self.admin_request("POST", path, timeout=timeout, body=b"")

    def stats(self) -> dict:
        """GET /stats parsed into {name: int} (lines that aren't `name: <int>` are skipped)."""
        r = self.admin_get("/stats")
        if r.status != 200:
            raise AssertionError(f"/stats answered {r.status}: {r.text[:500]}")
        return parse_stats(r.text)

    def stat(self, name: str, default: int = 0) -> int:
        return self.stats().get(name, default)

    def wait_stat(self, name: str, pred: Callable[[int], bool], timeout: float = 3.0) -> int:
        """Polls /stats until pred(value of `name`) holds; returns the last value seen
        (missing counts as 0). Stats may be updated just after a response is delivered."""
        deadline = time.monotonic() + timeout
        while True:
            v = self.stats().get(name, 0)
            if pred(v) or time.monotonic() >= deadline:
                return v
            time.sleep(0.05)


def parse_stats(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        name, sep, value = line.rpartition(": ")
        if not sep:
            continue
        value = value.strip()
        if re.fullmatch(r"-?\d+", value):
            out[name.strip()] = int(value)
    return out


# ---------------------------------------------------------------------------------------------
# Envoy v3 bootstrap YAML builders
# ---------------------------------------------------------------------------------------------

HCM_TYPE = "type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager"
ROUTER_TYPE = "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router"
FILE_ACCESS_LOG_TYPE = "type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog"

_PLAIN = re.compile(r"^[A-Za-z_/][A-Za-z0-9_./\-]*$")
_YAML_WORDS = {"true", "false", "yes", "no", "on", "off", "null", "y", "n", "~"}


def _scalar(v) -> str:
    if v is True:
        return "true"
    if v is False:
        return "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return repr(v)
    s = str(v)
    if _PLAIN.match(s) and s.lower() not in _YAML_WORDS:
        return s
    return json.dumps(s)  # a JSON string is a valid YAML double-quoted scalar


def _key(k: str) -> str:
    return k if _PLAIN.match(k) else json.dumps(k)


def to_yaml(value, indent: int = 0) -> str:
    """Block-style YAML for dicts/lists/scalars (enough for Envoy bootstraps)."""
    pad = " " * indent
    lines = []
    if isinstance(value, dict):
        if not value:
            return pad + "{}\n"
        for k, v in value.items():
            if isinstance(v, (dict, list)) and v:
                lines.append(f"{pad}{_key(k)}:\n{to_yaml(v, indent + 2)}")
            elif isinstance(v, dict):
                lines.append(f"{pad}{_key(k)}: {{}}\n")
            elif isinstance(v, list):
                lines.append(f"{pad}{_key(k)}: []\n")
            else:
                lines.append(f"{pad}{_key(k)}: {_scalar(v)}\n")
        return "".join(lines)
    if isinstance(value, list):
        if not value:
            return pad + "[]\n"
        for item in value:
            if isinstance(item, (dict, list)) and item:
                inner = to_yaml(item, indent + 2)
                # put the first line right after "- "
                lines.append(f"{pad}- {inner[indent + 2:]}")
            else:
                lines.append(f"{pad}- {_scalar(item) if not isinstance(item, (dict, list)) else ('{}' if isinstance(item, dict) else '[]')}\n")
        return "".join(lines)
    return pad + _scalar(value) + "\n"


def socket_address(port: int, address: str = LOCALHOST) -> dict:
    return {"socket_address": {"address": address, "port_value": port}}


def cluster(name: str, endpoints: Iterable, connect_timeout: str = "1s", **extra) -> dict:
    """A STATIC cluster; endpoints are ports on 127.0.0.1 or (address, port) pairs."""
    lb = []
    for ep in endpoints:
        addr, port = (LOCALHOST, ep) if isinstance(ep, int) else ep
        lb.append({"endpoint": {"address": socket_address(port, addr)}})
    c = {"name": name, "type": "STATIC", "connect_timeout": connect_timeout, "lb_policy": "ROUND_ROBIN",
         "load_assignment": {"cluster_name": name, "endpoints": [{"lb_endpoints": lb}]}}
    c.update(extra)
    return c


def route_to(cluster_name: str, prefix: str = "/", **route_extra) -> dict:
    r = {"cluster": cluster_name}
    r.update(route_extra)
    return {"match": {"prefix": prefix}, "route": r}


def virtual_host(name: str, domains: Iterable[str], routes: list, **extra) -> dict:
    vh = {"name": name, "domains": list(domains), "routes": routes}
    vh.update(extra)
    return vh


def http_connection_manager(virtual_hosts: list, stat_prefix: str = "ingress_http", **extra) -> dict:
    hcm = {"@type": HCM_TYPE, "stat_prefix": stat_prefix, "codec_type": "AUTO",
           "route_config": {"name": "local_route", "virtual_hosts": virtual_hosts},
           "http_filters": [{"name": "envoy.filters.http.router", "typed_config": {"@type": ROUTER_TYPE}}]}
    hcm.update(extra)
    return hcm


def listener(port: int, hcm: dict, name: str = "listener_0", **extra) -> dict:
    l = {"name": name, "address": socket_address(port),
         "filter_chains": [{"filters": [{"name": "envoy.filters.network.http_connection_manager",
                                         "typed_config": hcm}]}]}
    l.update(extra)
    return l


def bootstrap(listeners: list, clusters: list, admin_port: int) -> dict:
    return {"admin": {"address": socket_address(admin_port)},
            "static_resources": {"listeners": listeners, "clusters": clusters}}


def envoy_yaml(listen_port: int, admin_port: int, upstream_ports: Iterable[int],
               cluster_name: str = "backend", route_extra: Optional[dict] = None,
               cluster_extra: Optional[dict] = None, hcm_extra: Optional[dict] = None,
               routes: Optional[list] = None) -> str:
    """A one-listener, one-cluster bootstrap: every path on every host goes to `cluster_name`."""
    rts = routes if routes is not None else [route_to(cluster_name, **(route_extra or {}))]
    hcm = http_connection_manager([virtual_host("backend", ["*"], rts)], **(hcm_extra or {}))
    doc = bootstrap([listener(listen_port, hcm)],
                    [cluster(cluster_name, list(upstream_ports), **(cluster_extra or {}))], admin_port)
    return to_yaml(doc)


def fill(template: str, **values) -> str:
    """Substitutes $name placeholders (string.Template) into a literal YAML config, so YAML's own
    braces need no escaping."""
    import string
    import textwrap
    return string.Template(textwrap.dedent(template)).substitute(**values)


# ---------------------------------------------------------------------------------------------
# unittest base class
# ---------------------------------------------------------------------------------------------

class WasmgateTestCase(unittest.TestCase):
    """Base class: start_* helpers register cleanups; on failure the proxy's output is printed
    (set WG_TEST_VERBOSE=1 to print it always)."""

    def _failed(self) -> bool:
        outcome = getattr(self, "_outcome", None)
        return outcome is not None and not getattr(outcome, "success", True)

    @classmethod
    def start_class_proxy(cls, config: Optional[str], **kw) -> Proxy:
        """A proxy shared by all tests of a class (started in setUpClass)."""
        p = Proxy(config, **kw)

        def cleanup():
            p.stop()
            shutil.rmtree(p.tmpdir, ignore_errors=True)

        cls.addClassCleanup(cleanup)
        cls._class_proxies = list(getattr(cls, "_class_proxies", [])) + [p]
        return p.start()

    def tearDown(self) -> None:
        if self._failed() or os.environ.get("WG_TEST_VERBOSE"):
            for p in getattr(type(self), "_class_proxies", []):
                sys.stderr.write(f"\n===== wasmgate output (shared) for {self.id()} =====\n{p.logs()}\n")

    def start_upstream(self, name: str = "fault", port: int = 0) -> FaultUpstream:
        u = FaultUpstream(name, port).start()
        self.addCleanup(u.stop)
        return u

    def start_nginx(self) -> Nginx:
        n = Nginx()
        self.addCleanup(n.stop)
        return n.start()

    def start_proxy(self, config: Optional[str], **kw) -> Proxy:
        p = Proxy(config, **kw)

        def cleanup():
            p.stop()
            if self._failed() or os.environ.get("WG_TEST_VERBOSE"):
                sys.stderr.write(f"\n===== wasmgate output for {self.id()} =====\n{p.logs()}\n")
            shutil.rmtree(p.tmpdir, ignore_errors=True)

        self.addCleanup(cleanup)
        return p.start()

    def assertStatus(self, resp: Response, status: int, msg: str = "") -> None:
        self.assertEqual(resp.status, status, f"{msg} {resp!r}")
