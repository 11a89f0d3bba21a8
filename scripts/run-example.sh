#!/usr/bin/env bash
# Sets up, builds and runs wasmgate with examples/proxy/envoy.yaml (with the add_header Proxy-Wasm
# plugin) in front of an embedded upstream (Debian's nginx on 127.0.0.1:18080, run from a
# temporary directory). Ctrl-C stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
./scripts/build.sh release
./scripts/build-plugins.sh build/plugins >/dev/null

tmp="$(mktemp -d)"
cleanup() {
  [ -n "${proxy_pid:-}" ] && kill "$proxy_pid" 2>/dev/null || true
  [ -f "$tmp/nginx.pid" ] && kill "$(cat "$tmp/nginx.pid")" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT INT TERM

mkdir -p "$tmp/html"
echo "hello from the upstream" > "$tmp/html/index.html"
cat > "$tmp/nginx.conf" <<NGINX
worker_processes 1;
daemon on;
user root;
pid $tmp/nginx.pid;
error_log $tmp/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $tmp/cb; proxy_temp_path $tmp/pt; fastcgi_temp_path $tmp/ft;
  uwsgi_temp_path $tmp/ut; scgi_temp_path $tmp/st;
  server { listen 127.0.0.1:18080; root $tmp/html; }
}
NGINX
/usr/sbin/nginx -p "$tmp" -c "$tmp/nginx.conf"

./build/wasmgate -c examples/proxy/envoy.yaml --concurrency 2 &
proxy_pid=$!
for _ in $(seq 50); do curl -sf http://127.0.0.1:9901/ready >/dev/null 2>&1 && break; sleep 0.1; done
cat <<MSG

wasmgate is running (admin on http://127.0.0.1:9901). Try:
  curl -i http://127.0.0.1:10000/            # proxied to nginx; the plugin adds x-hello
  curl -i http://127.0.0.1:10000/healthz     # direct response
  curl -i http://127.0.0.1:10000/old/page    # 302 to /new/page
  curl -s http://127.0.0.1:9901/stats | grep ingress_http
Ctrl-C to stop.
MSG
wait "$proxy_pid"
