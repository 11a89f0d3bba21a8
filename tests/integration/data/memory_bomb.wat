;; Proxy-Wasm 0.2.0 module that, in proxy_on_request_headers, grows its memory one page at a
;; time until memory.grow fails, then traps (what a plugin's allocator does when it runs out).
;; With memory_limit_bytes set, that happens at the limit.
(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1))
  (func $allocate_everything (export "proxy_on_request_headers") (param i32 i32 i32) (result i32)
    (loop $more
      (br_if $more (i32.ne (memory.grow (i32.const 1)) (i32.const -1))))
    unreachable)
  (func (export "proxy_on_done") (param i32) (result i32) (i32.const 1))
  (func (export "proxy_on_delete") (param i32)))
