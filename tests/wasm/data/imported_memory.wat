;; An imported memory (the host creates it) and an imported table.
(module
  (import "env" "memory" (memory 2))
  (import "env" "table" (table 1 funcref))
  (func (export "grow") (param i32) (result i32) local.get 0 memory.grow)
  (func (export "pages") (result i32) memory.size)
  (func (export "store") (param i32 i32) local.get 0 local.get 1 i32.store)
)
