;; No proxy_abi_version_* export (only an unrecognised vNEXT marker).
(module
  (memory (export "memory") 1)
  (func (export "proxy_abi_version_0_x_x"))
  (func (export "malloc") (param i32) (result i32) (i32.const 1024))
)
