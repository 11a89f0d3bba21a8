;; ABI 0.2.0 (what the Go SDKs declare): stream control, allocator proxy_on_memory_allocate.
(module
  (import "env" "proxy_continue_stream" (func $proxy_continue_stream (param i32) (result i32)))
  (import "env" "proxy_close_stream" (func $proxy_close_stream (param i32) (result i32)))
  (import "env" "proxy_get_property" (func $proxy_get_property (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 2 2)
  (global $heap (mut i32) (i32.const 0x10000))
  (global $allocs (mut i32) (i32.const 0))

  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_memory_allocate") (param $size i32) (result i32)
    (local $p i32)
    (global.set $allocs (i32.add (global.get $allocs) (i32.const 1)))
    (local.set $p (global.get $heap))
    (global.set $heap (i32.add (global.get $heap) (local.get $size)))
    (local.get $p))
  (func (export "allocations") (result i32) (global.get $allocs))
  ;; Records what it got at 0x8000 (10 n + end_of_stream).
  (func (export "proxy_on_request_headers") (param $ctx i32) (param $n i32) (param $eos i32) (result i32)
    (i32.store (i32.const 0x8000) (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $eos)))
    (i32.const 0))

  (func (export "t_proxy_continue_stream") (param i32) (result i32) local.get 0 call $proxy_continue_stream)
  (func (export "t_proxy_close_stream") (param i32) (result i32) local.get 0 call $proxy_close_stream)
  (func (export "t_proxy_get_property") (param i32 i32 i32 i32) (result i32)
    local.get 0 local.get 1 local.get 2 local.get 3 call $proxy_get_property)
)
