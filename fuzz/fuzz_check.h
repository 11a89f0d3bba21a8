#pragma once

// The fuzz targets' invariant check: CHECK(cond) or CHECK(cond, detail) prints what failed and
// aborts, which libFuzzer records as a crash together with the input.

#include <cstdio>
#include <cstdlib>
#include <string>

[[noreturn]] inline void fuzzViolation(const char* what, const std::string& detail) {
  std::fprintf(stderr, "invariant violated: %s %s\n", what, detail.c_str());
  std::abort();
}

#define CHECK(cond, ...)                                                                           \
  do {                                                                                             \
    if (!(cond))                                                                                   \
      fuzzViolation(#cond, std::string(__VA_ARGS__));                                              \
  } while (0)
