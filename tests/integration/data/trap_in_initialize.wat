;; A Proxy-Wasm 0.2.0 module whose _initialize (the WASI reactor start-up) traps: loading it
;; is a startup error naming the plugin, never a crashed proxy.
(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_0"))
  (func $init (export "_initialize") unreachable)
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1)))
