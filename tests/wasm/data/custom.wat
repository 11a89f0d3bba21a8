;; Custom sections and an ABI-version-like marker export (custom sections are added by the test).
(module
  (func (export "proxy_abi_version_0_2_1"))
  (func $helper (result i32) i32.const 1)
  (func (export "uses_helper") (result i32) call $helper)
)
