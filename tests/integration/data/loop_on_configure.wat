;; Proxy-Wasm 0.2.0 module whose proxy_on_configure never returns: loading it must fail with a
;; clear error (the watchdog's start-up limit), not hang the proxy's startup.
(module
  (memory (export "memory") 1)
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
  (func (export "proxy_abi_version_0_2_0"))
  (func (export "proxy_on_context_create") (param i32 i32))
  (func (export "proxy_on_vm_start") (param i32 i32) (result i32) (i32.const 1))
  (func $configure_forever (export "proxy_on_configure") (param i32 i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 1)))
