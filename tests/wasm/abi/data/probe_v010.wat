;; ABI 0.1.0: the 0.1.0-only imports, and the 2-argument header callbacks (no end_of_stream).
(module
  (import "env" "proxy_log" (func $proxy_log (param i32 i32 i32) (result i32)))
  (import "env" "proxy_get_configuration" (func $proxy_get_configuration (param i32 i32) (result i32)))
  (import "env" "proxy_continue_request" (func $proxy_continue_request (result i32)))
  (import "env" "proxy_continue_response" (func $proxy_continue_response (result i32)))
  (import "env" "proxy_clear_route_cache" (func $proxy_clear_route_cache (result i32)))
  (import "env" "proxy_get_header_map_value"
    (func $proxy_get_header_map_value (param i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2 2)
  (global $heap (mut i32) (i32.const 0x10000))

  (func (export "proxy_abi_version_0_1_0"))
  (func (export "malloc") (param $size i32) (result i32)
    (local $p i32)
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))

  ;; Returns 100 + num_headers so the test sees the arguments arrived in 0.1.0's shape.
  ;; The header callbacks record what they got at 0x8000 (request) and 0x8004 (response).
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (result i32)
    (i32.store (i32.const 0x8000) (i32.add (i32.const 100) (local.get $n))) (i32.const 0))
  (func (export "proxy_on_response_headers") (param $ctx i32) (param $n i32) (result i32)
    (i32.store (i32.const 0x8004) (i32.add (i32.const 200) (local.get $n))) (i32.const 0))
  ;; proxy_get_configuration inside on_configure: the plugin configuration, logged.
  (func (export "proxy_on_configure") (param $ctx i32) (param $size i32) (result i32)
    (drop (call $proxy_get_configuration (i32.const 0x900) (i32.const 0x904)))
    (drop (call $proxy_log (i32.const 2) (i32.load (i32.const 0x900)) (i32.load (i32.const 0x904))))
    (i32.const 1))

  (func (export "t_proxy_get_configuration") (param i32 i32) (result i32)
    local.get 0 local.get 1 call $proxy_get_configuration)
  (func (export "t_proxy_continue_request") (result i32) call $proxy_continue_request)
  (func (export "t_proxy_continue_response") (result i32) call $proxy_continue_response)
  (func (export "t_proxy_clear_route_cache") (result i32) call $proxy_clear_route_cache)
  (func (export "t_proxy_get_header_map_value") (param i32 i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 local.get 4 call $proxy_get_header_map_value)
)
