"""Malformed and hostile HTTP/1.1 requests, sent as exact bytes.

Envoy's HTTP/1 codec answers a request it cannot parse with a local reply (400, 431 for an
oversized header block, 501 for an unsupported transfer coding, 413 for a body over the limit)
and closes the connection; nothing ambiguous is forwarded upstream (request smuggling). After
each error the proxy keeps serving new connections.
"""

import unittest

from harness import (Conn, ConnectionClosed, WasmgateTestCase, build_request, envoy_yaml, fill,
                     free_port, http_request, parse_responses)

CONFIG = r"""
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $admin_port }
static_resources:
  listeners:
  - name: main
    address:
      socket_address: { address: 127.0.0.1, port_value: $port }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: backend }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $fault_port } } }
"""


class ErrorTestBase(WasmgateTestCase):
    hcm_extra = ""

    def setUp(self):
        self.up = self.start_upstream("fault")
        self.port = free_port()
        self.proxy = self.start_proxy(self.config(), listen_ports=[self.port])

    def config(self):
        return fill(CONFIG, admin_port=free_port(), port=self.port, fault_port=self.up.port)

    def send_bad(self, data: bytes, expected: int, check_closed: bool = True, upstream_untouched=True):
        """Sends raw bytes, expects a local reply with `expected` status, the connection closed,
        the upstream untouched, and the proxy still serving a fresh connection."""
        before = len(self.up.requests)
        with Conn(self.port, timeout=5) as c:
            try:
                c.send(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the proxy may answer and close before reading everything
            try:
                r = c.read_response(timeout=5)
            except ConnectionClosed as e:
                self.fail(f"connection closed without a response to {data[:80]!r}...: {e}")
            self.assertEqual(r.status, expected, f"request {data[:120]!r}: {r!r}")
            if check_closed:
                self.assertTrue(c.wait_closed(3), "proxy kept the connection open after a protocol error")
        if upstream_untouched:
            self.assertEqual([(q.method, q.path) for q in self.up.requests[before:]], [],
                             "a malformed request reached the upstream")
        self.assert_still_serving()
        return r

    def assert_still_serving(self):
        r = http_request(self.port, "GET", "/ok")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"ok\n")


class MalformedRequestTest(ErrorTestBase):
    def test_garbage_request_line(self):
        """Envoy: an unparseable request line -> 400."""
        self.send_bad(b"GARBAGE\r\n\r\n", 400)

    def test_request_line_without_version(self):
        """Envoy: HTTP/0.9-style request line (no version) -> 400."""
        self.send_bad(b"GET /ok\r\nHost: a\r\n\r\n", 400)

    def test_invalid_method_token(self):
        """Envoy: a method with characters outside tchar -> 400."""
        self.send_bad(b"G(E)T /ok HTTP/1.1\r\nHost: a\r\n\r\n", 400)

    def test_unsupported_version(self):
        """Envoy: an HTTP version other than 1.0/1.1 on the HTTP/1 codec -> 400."""
        self.send_bad(b"GET /ok HTTP/3.7\r\nHost: a\r\n\r\n", 400)

    def test_obs_fold(self):
        """Envoy: obsolete line folding (a header line starting with whitespace) -> 400."""
        self.send_bad(b"GET /ok HTTP/1.1\r\nHost: a\r\nX-Long: part1\r\n  part2\r\n\r\n", 400)

    def test_bare_lf(self):
        """Envoy: bare LF line endings -> 400."""
        self.send_bad(b"GET /ok HTTP/1.1\nHost: a\n\n", 400)

    def test_bare_cr(self):
        """Envoy: a CR not followed by LF inside the header block -> 400."""
        self.send_bad(b"GET /ok HTTP/1.1\r\nHost: a\r\nX-A: b\rX-B: c\r\n\r\n", 400)

    def test_space_before_colon(self):
        """Envoy: whitespace between header name and colon -> 400 (RFC 9112 5.1)."""
        self.send_bad(b"GET /ok HTTP/1.1\r\nHost : a\r\n\r\n", 400)

    def test_invalid_header_name(self):
        """Envoy: a header name with a non-token character -> 400."""
        self.send_bad(b"GET /ok HTTP/1.1\r\nHost: a\r\nBad[Name]: x\r\n\r\n", 400)

    def test_nul_in_header_value(self):
        """Envoy: NUL in a header value -> 400."""
        self.send_bad(b"GET /ok HTTP/1.1\r\nHost: a\r\nX-A: b\x00c\r\n\r\n", 400)

    def test_missing_host(self):
        """Envoy: an HTTP/1.1 request without Host -> 400."""
        self.send_bad(b"GET /ok HTTP/1.1\r\nUser-Agent: t\r\n\r\n", 400)

    def test_headers_too_large(self):
        """Envoy: a header block over 60 KiB (max_request_headers_kb default) -> 431."""
        hdrs = b"".join(b"X-Filler-%02d: %s\r\n" % (i, b"v" * 1000) for i in range(70))
        self.send_bad(b"GET /ok HTTP/1.1\r\nHost: a\r\n" + hdrs + b"\r\n", 431)

    def test_single_huge_header(self):
        """Envoy: one 64 KiB header value -> 431."""
        self.send_bad(b"GET /ok HTTP/1.1\r\nHost: a\r\nX-Big: " + b"x" * (64 * 1024) + b"\r\n\r\n", 431)


class FramingTest(ErrorTestBase):
    def test_content_length_and_transfer_encoding(self):
        """Envoy: Content-Length together with Transfer-Encoding -> 400, nothing forwarded
        (the classic CL.TE smuggling vector)."""
        smuggle = (b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 44\r\nTransfer-Encoding: chunked\r\n\r\n"
                   b"0\r\n\r\nGET /echo/smuggled HTTP/1.1\r\nHost: a\r\n\r\n")
        self.send_bad(smuggle, 400)

    def test_cl_te_pipelined_gets_single_response(self):
        """Envoy: a smuggling attempt yields exactly one (error) response, never a second one for
        the smuggled request, and the upstream sees nothing."""
        smuggle = (b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 4\r\n\r\n"
                   b"5c\r\nGET /echo/smuggled HTTP/1.1\r\nHost: a\r\nContent-Length: 15\r\n\r\nx=1\r\n0\r\n\r\n")
        with Conn(self.port, timeout=5) as c:
            c.send(smuggle)
            try:
                raw = c.read_until_close(5)
            except TimeoutError:
                raw = c.buf
        responses = parse_responses(raw)
        self.assertEqual([r.status for r in responses], [400], raw[:500])
        self.assertEqual(self.up.requests, [])
        self.assert_still_serving()

    def test_two_different_content_lengths(self):
        """Envoy: two Content-Length headers with different values -> 400."""
        self.send_bad(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde", 400)

    def test_content_length_list_with_different_values(self):
        """Envoy: `Content-Length: 3, 5` -> 400."""
        self.send_bad(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 5\r\n\r\nabcde", 400)

    def test_non_numeric_content_length(self):
        """Envoy: a Content-Length that is not a plain decimal number -> 400."""
        for value in (b"abc", b"-1", b"+5", b"0x10", b"1e3"):
            with self.subTest(value=value):
                self.send_bad(b"POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: " + value + b"\r\n\r\nabcde", 400)

    def test_bad_chunk_size(self):
        """Envoy: an invalid chunk size line -> 400 (the request may already have been sent
        upstream; the answer to the client is still the local 400)."""
        self.send_bad(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n",
                      400, upstream_untouched=False)
        self.assertEqual([q.path for q in self.up.requests if q.route == "/echo"], [],
                         "a request with a broken body completed upstream")

    def test_missing_chunk_terminator(self):
        """Envoy: chunk data not followed by CRLF -> 400."""
        self.send_bad(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
                      400, upstream_untouched=False)
        self.assertEqual([q.path for q in self.up.requests if q.route == "/echo"], [])

    def test_unsupported_transfer_encoding(self):
        """Envoy: `Transfer-Encoding: gzip` (a coding other than chunked) -> 501."""
        self.send_bad(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\nabc", 501)

    def test_chunked_not_last_coding(self):
        """Envoy: `Transfer-Encoding: gzip, chunked` (any coding besides chunked) -> 501."""
        self.send_bad(b"POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n", 501)

    def test_valid_requests_after_errors_on_other_connections(self):
        """Envoy: a protocol error on one connection doesn't disturb a concurrent healthy
        keep-alive connection."""
        with Conn(self.port) as good:
            r = good.request("GET", "/ok")
            self.assertEqual(r.status, 200, r)
            self.send_bad(b"GARBAGE\r\n\r\n", 400)
            r = good.request("GET", "/ok")
            self.assertEqual(r.status, 200, r)


# ---------------------------------------------------------------------------------------------
# Body size limit
# ---------------------------------------------------------------------------------------------

BUFFER_FILTER_CONFIG = r"""
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: $admin_port }
static_resources:
  listeners:
  - name: main
    address:
      socket_address: { address: 127.0.0.1, port_value: $port }
    filter_chains:
    - filters:
      - name: envoy.filters.network.http_connection_manager
        typed_config:
          "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
          stat_prefix: ingress_http
          route_config:
            virtual_hosts:
            - name: all
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                route: { cluster: backend }
          http_filters:
          - name: envoy.filters.http.buffer
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer
              max_request_bytes: 1024
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: backend
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: backend
      endpoints:
      - lb_endpoints:
        - endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: $fault_port } } }
"""


class BodyLimitTests:
    """Shared checks for a 1024-byte request body limit. A body over the limit is answered with
    413 "Payload Too Large" (Envoy's local reply when the buffer limit is exceeded) and never
    reaches the upstream complete."""

    def test_content_length_over_limit(self):
        """Envoy: a declared Content-Length over the limit -> 413, not forwarded."""
        body = b"x" * 4096
        r = self.send_bad(build_request("POST", "/echo", body=body), 413, check_closed=False,
                          upstream_untouched=False)
        self.assertEqual([q.path for q in self.up.requests if q.route == "/echo"], [])

    def test_chunked_over_limit(self):
        """Envoy: a chunked body growing past the limit -> 413."""
        data = build_request("POST", "/echo", body=[b"y" * 600, b"y" * 600, b"y" * 600], chunked=True)
        self.send_bad(data, 413, check_closed=False, upstream_untouched=False)
        self.assertEqual([q.path for q in self.up.requests if q.route == "/echo"], [])

    def test_body_within_limit(self):
        """Envoy: a body under the limit is proxied normally."""
        r = http_request(self.port, "POST", "/echo", body=b"z" * 512)
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["body_length"], 512)
        d = http_request(self.port, "POST", "/echo", body=[b"a" * 500, b"b" * 500], chunked=True).json()
        self.assertEqual(d["body"], "a" * 500 + "b" * 500)


class BufferFilterBodyLimitTest(BodyLimitTests, ErrorTestBase):
    """Envoy's way: the envoy.filters.http.buffer filter with max_request_bytes."""

    def config(self):
        return fill(BUFFER_FILTER_CONFIG, admin_port=free_port(), port=self.port, fault_port=self.up.port)


if __name__ == "__main__":
    unittest.main()
