;; A Proxy-Wasm 0.2.0 module whose proxy_on_vm_start traps (an out-of-bounds load): a startup
;; error naming the plugin and the callback.
(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func $start (export "proxy_on_vm_start") (param i32 i32) (result i32)
    (i32.load (i32.const 0x7ffffff0)))
  (func (export "proxy_on_configure") (param i32 i32) (result i32) (i32.const 1)))
