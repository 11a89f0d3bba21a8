;; A start function that traps: instantiation must fail with the backtrace.
(module
  (func $boot unreachable)
  (start $boot)
)
