"""Route table behavior (Envoy RouteConfiguration semantics): virtual host selection by domain,
route matching (prefix / path / safe_regex / headers / case_sensitive), rewrites, direct
responses, redirects, header manipulation and "no route" 404s.

Each virtual host that only tests selection answers with a direct_response naming itself.
"""

import unittest

from harness import WasmgateTestCase, fill, free_port, http_request

# NOTE: harness.fill() uses string.Template, so a literal "$" in YAML is written "$$".
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
            name: local_route
            request_headers_to_add:
            - header: { key: x-rc-added, value: route-config }
            response_headers_to_add:
            - header: { key: x-rc-resp, value: route-config }
            virtual_hosts:
            - name: exact
              domains: ["www.example.com"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "vhost=exact" } }
            - name: suffix
              domains: ["*.example.com"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "vhost=suffix" } }
            - name: longer_suffix
              domains: ["*.api.example.com"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "vhost=longer-suffix" } }
            - name: prefix
              domains: ["api.*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "vhost=prefix" } }
            - name: several
              domains: ["one.test", "two.test"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "vhost=several" } }
            - name: main
              domains: ["main.test"]
              request_headers_to_add:
              - header: { key: x-vh-added, value: vhost }
              response_headers_to_add:
              - header: { key: x-vh-resp, value: vhost }
              routes:
              - match: { path: "/exact" }
                direct_response: { status: 200, body: { inline_string: "route=path" } }
              - match: { prefix: "/exact" }
                direct_response: { status: 200, body: { inline_string: "route=prefix-exact" } }
              - match:
                  safe_regex:
                    google_re2: {}
                    regex: "/items/[0-9]+"
                direct_response: { status: 200, body: { inline_string: "route=regex" } }
              - match:
                  prefix: "/hdr"
                  headers:
                  - name: x-canary
                    string_match: { exact: "yes" }
                direct_response: { status: 200, body: { inline_string: "route=canary" } }
              - match:
                  prefix: "/hdr"
                  headers:
                  - name: x-present
                    present_match: true
                direct_response: { status: 200, body: { inline_string: "route=present" } }
              - match:
                  prefix: "/hdr"
                  headers:
                  - name: x-version
                    string_match: { prefix: "v2" }
                  - name: x-region
                    string_match: { exact: "eu" }
                direct_response: { status: 200, body: { inline_string: "route=all-headers" } }
              - match: { prefix: "/hdr" }
                direct_response: { status: 200, body: { inline_string: "route=hdr-default" } }
              - match: { prefix: "/CaseInsensitive", case_sensitive: false }
                direct_response: { status: 200, body: { inline_string: "route=case-insensitive" } }
              - match: { prefix: "/api/" }
                route: { cluster: fault, prefix_rewrite: "/echo/" }
              - match: { prefix: "/rx/" }
                route:
                  cluster: fault
                  regex_rewrite:
                    pattern: { regex: '^/rx/([0-9]+)/(.*)$$' }
                    substitution: '/echo/\2/\1'
              - match: { prefix: "/hostrw" }
                route: { cluster: fault, prefix_rewrite: "/echo", host_rewrite_literal: rewritten.example.org }
              - match: { prefix: "/teapot" }
                direct_response: { status: 418, body: { inline_string: "I'm a teapot\n" } }
              - match: { path: "/nobody" }
                direct_response: { status: 204 }
              - match: { path: "/old" }
                redirect: { path_redirect: "/new", response_code: FOUND }
              - match: { path: "/moved" }
                redirect: { host_redirect: other.example.org }
              - match: { path: "/secure" }
                redirect: { https_redirect: true }
              - match: { prefix: "/headers" }
                route: { cluster: fault, prefix_rewrite: "/echo" }
                request_headers_to_add:
                - header: { key: x-route-added, value: route }
                - header: { key: x-overwrite, value: new }
                  append_action: OVERWRITE_IF_EXISTS_OR_ADD
                - header: { key: x-client-ip, value: "%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%" }
                request_headers_to_remove: [x-remove-me]
                response_headers_to_add:
                - header: { key: x-route-resp, value: route }
                response_headers_to_remove: [x-upstream-conn]
              - match: { prefix: "/echo" }
                route: { cluster: fault }
            - name: fallback
              domains: ["*"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "vhost=wildcard" } }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
  clusters:
  - name: fault
    type: STATIC
    connect_timeout: 1s
    load_assignment:
      cluster_name: fault
      endpoints:
      - lb_endpoints:
        - endpoint:
            address:
              socket_address: { address: 127.0.0.1, port_value: $fault_port }
"""

NO_WILDCARD_CONFIG = r"""
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
            - name: only
              domains: ["only.test"]
              routes:
              - match: { prefix: "/" }
                direct_response: { status: 200, body: { inline_string: "only" } }
          http_filters:
          - name: envoy.filters.http.router
            typed_config:
              "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router
"""


class RoutingTest(WasmgateTestCase):
    def setUp(self):
        self.up = self.start_upstream("fault")
        self.port = free_port()
        cfg = fill(CONFIG, admin_port=free_port(), port=self.port, fault_port=self.up.port)
        self.proxy = self.start_proxy(cfg, listen_ports=[self.port])

    def get(self, host, path="/", headers=(), method="GET"):
        return http_request(self.port, method, path, [("Host", host)] + list(headers))

    def body_for(self, host, path="/", headers=()):
        r = self.get(host, path, headers)
        self.assertEqual(r.status, 200, r)
        return r.text

    # ---- virtual host selection ------------------------------------------------------------

    def test_exact_domain(self):
        """Envoy: an exact domain match wins over every wildcard; matching ignores case."""
        self.assertEqual(self.body_for("www.example.com"), "vhost=exact")
        self.assertEqual(self.body_for("WWW.Example.COM"), "vhost=exact")

    def test_suffix_wildcard(self):
        """Envoy: `*.example.com` matches any host ending in `.example.com` (not the bare
        domain); the longest suffix wildcard wins."""
        self.assertEqual(self.body_for("foo.example.com"), "vhost=suffix")
        self.assertEqual(self.body_for("x.api.example.com"), "vhost=longer-suffix")
        self.assertEqual(self.body_for("example.com"), "vhost=wildcard")

    def test_suffix_wildcard_beats_prefix_wildcard(self):
        """Envoy: suffix wildcards are checked before prefix wildcards (`api.example.com`
        matches both `*.example.com` and `api.*`)."""
        self.assertEqual(self.body_for("api.example.com"), "vhost=suffix")

    def test_prefix_wildcard(self):
        """Envoy: `api.*` matches any host starting with `api.`."""
        self.assertEqual(self.body_for("api.other.net"), "vhost=prefix")

    def test_several_domains_and_catch_all(self):
        """Envoy: a virtual host lists several domains; `*` catches the rest."""
        self.assertEqual(self.body_for("one.test"), "vhost=several")
        self.assertEqual(self.body_for("two.test"), "vhost=several")
        self.assertEqual(self.body_for("nothing.matches.here"), "vhost=wildcard")

    # ---- route matching ---------------------------------------------------------------------

    def test_path_match(self):
        """Envoy: `path` matches the whole path exactly, ignoring the query string."""
        self.assertEqual(self.body_for("main.test", "/exact"), "route=path")
        self.assertEqual(self.body_for("main.test", "/exact?x=1"), "route=path")
        self.assertEqual(self.body_for("main.test", "/exact/"), "route=prefix-exact")
        self.assertEqual(self.body_for("main.test", "/exactly"), "route=prefix-exact")

    def test_first_matching_route_wins(self):
        """Envoy: routes are checked in order; the first match is used."""
        self.assertEqual(self.body_for("main.test", "/exact"), "route=path")

    def test_prefix_is_case_sensitive_by_default(self):
        """Envoy: prefix matching is case-sensitive unless case_sensitive: false."""
        r = self.get("main.test", "/EXACT")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(self.body_for("main.test", "/caseinsensitive/x"), "route=case-insensitive")
        self.assertEqual(self.body_for("main.test", "/CASEINSENSITIVE"), "route=case-insensitive")

    def test_safe_regex_full_match(self):
        """Envoy: safe_regex must match the entire path (without query); it is not a search."""
        self.assertEqual(self.body_for("main.test", "/items/42"), "route=regex")
        self.assertEqual(self.body_for("main.test", "/items/42?expand=1"), "route=regex")
        self.assertEqual(self.get("main.test", "/items/42/extra").status, 404)
        self.assertEqual(self.get("main.test", "/items/abc").status, 404)
        self.assertEqual(self.get("main.test", "/x/items/42").status, 404)

    def test_header_matching(self):
        """Envoy: route `headers` matchers (string_match exact/prefix, present_match); all
        matchers of a route must match."""
        self.assertEqual(self.body_for("main.test", "/hdr", [("X-Canary", "yes")]), "route=canary")
        self.assertEqual(self.body_for("main.test", "/hdr", [("X-Canary", "no")]), "route=hdr-default")
        self.assertEqual(self.body_for("main.test", "/hdr", [("X-Present", "1")]), "route=present")
        self.assertEqual(self.body_for("main.test", "/hdr", [("X-Version", "v2.1"), ("X-Region", "eu")]),
                         "route=all-headers")
        self.assertEqual(self.body_for("main.test", "/hdr", [("X-Version", "v2.1"), ("X-Region", "us")]),
                         "route=hdr-default")
        self.assertEqual(self.body_for("main.test", "/hdr"), "route=hdr-default")

    # ---- rewrites ---------------------------------------------------------------------------

    def test_prefix_rewrite(self):
        """Envoy: prefix_rewrite replaces the matched prefix, keeps the rest and the query, and
        records the original path in x-envoy-original-path."""
        r = self.get("main.test", "/api/v1/users?id=7")
        self.assertEqual(r.status, 200, r)
        d = r.json()
        self.assertEqual(d["path"], "/echo/v1/users?id=7")
        self.assertEqual(d["headers"].get("x-envoy-original-path"), "/api/v1/users?id=7")

    def test_regex_rewrite(self):
        """Envoy: regex_rewrite substitutes on the path (capture groups \\1 \\2); the query
        string is preserved."""
        r = self.get("main.test", "/rx/42/foo/bar?q=1")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.json()["path"], "/echo/foo/bar/42?q=1")

    def test_host_rewrite_literal(self):
        """Envoy: host_rewrite_literal replaces Host (:authority) upstream."""
        r = self.get("main.test", "/hostrw")
        self.assertEqual(r.status, 200, r)
        d = r.json()
        self.assertEqual(d["headers"].get("host"), "rewritten.example.org")
        self.assertEqual(d["path"], "/echo")

    # ---- direct responses and redirects -----------------------------------------------------

    def test_direct_response(self):
        """Envoy: direct_response answers with its status and inline body."""
        r = self.get("main.test", "/teapot")
        self.assertEqual(r.status, 418, r)
        self.assertEqual(r.body, b"I'm a teapot\n")
        self.assertEqual(r.header("content-length"), str(len(r.body)))
        r = self.get("main.test", "/nobody")
        self.assertEqual(r.status, 204, r)
        self.assertEqual(r.body, b"")

    def test_redirect_path_found(self):
        """Envoy: redirect with path_redirect and response_code FOUND -> 302 and Location built
        from the request's scheme and host."""
        r = self.get("main.test", "/old")
        self.assertEqual(r.status, 302, r)
        self.assertEqual(r.header("location"), "http://main.test/new")

    def test_redirect_host_default_301(self):
        """Envoy: host_redirect keeps the path; the default code is 301 MOVED_PERMANENTLY."""
        r = self.get("main.test", "/moved")
        self.assertEqual(r.status, 301, r)
        self.assertEqual(r.header("location"), "http://other.example.org/moved")

    def test_https_redirect(self):
        """Envoy: https_redirect switches the scheme to https."""
        r = self.get("main.test", "/secure")
        self.assertEqual(r.status, 301, r)
        self.assertEqual(r.header("location"), "https://main.test/secure")

    # ---- no route ---------------------------------------------------------------------------

    def test_no_route_in_virtual_host_is_404(self):
        """Envoy: a virtual host matched but none of its routes -> 404 with an empty body, and
        the upstream is not contacted."""
        r = self.get("main.test", "/no/such/route")
        self.assertEqual(r.status, 404, r)
        self.assertEqual(r.body, b"")
        self.assertEqual(self.up.non_health_requests(), [])

    # ---- header manipulation ----------------------------------------------------------------

    def test_request_headers_to_add_and_remove(self):
        """Envoy: request_headers_to_add at route, virtual host and route configuration level;
        default append (APPEND_IF_EXISTS_OR_ADD) keeps the client's value, OVERWRITE_IF_EXISTS_OR_ADD
        replaces it; request_headers_to_remove drops a header; %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%
        is substituted."""
        r = self.get("main.test", "/headers/x", [("X-Remove-Me", "1"), ("X-Overwrite", "old"),
                                                 ("X-Route-Added", "client")])
        self.assertEqual(r.status, 200, r)
        d = r.json()
        h = d["headers"]
        self.assertEqual(d["path"], "/echo/x")
        values = [v for k, v in d["header_list"] if k.lower() == "x-route-added"]
        flat = sorted(p.strip() for v in values for p in v.split(","))
        self.assertEqual(flat, ["client", "route"])
        self.assertEqual(h.get("x-overwrite"), "new")
        self.assertNotIn("x-remove-me", h)
        self.assertEqual(h.get("x-vh-added"), "vhost")
        self.assertEqual(h.get("x-rc-added"), "route-config")
        self.assertEqual(h.get("x-client-ip"), "127.0.0.1")

    def test_response_headers_to_add_and_remove(self):
        """Envoy: response_headers_to_add at all three levels; response_headers_to_remove drops
        an upstream response header."""
        r = self.get("main.test", "/headers")
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.header("x-route-resp"), "route")
        self.assertEqual(r.header("x-vh-resp"), "vhost")
        self.assertEqual(r.header("x-rc-resp"), "route-config")
        self.assertIsNone(r.header("x-upstream-conn"), r.headers)
        self.assertEqual(r.header("x-upstream-name"), "fault")


class NoVirtualHostTest(WasmgateTestCase):
    def test_no_matching_virtual_host_is_404(self):
        """Envoy: no virtual host matches the Host header -> 404 (NR)."""
        port = free_port()
        self.start_proxy(fill(NO_WILDCARD_CONFIG, admin_port=free_port(), port=port), listen_ports=[port])
        r = http_request(port, "GET", "/", [("Host", "elsewhere.test")])
        self.assertEqual(r.status, 404, r)
        r = http_request(port, "GET", "/", [("Host", "only.test")])
        self.assertEqual(r.status, 200, r)
        self.assertEqual(r.body, b"only")


if __name__ == "__main__":
    unittest.main()
