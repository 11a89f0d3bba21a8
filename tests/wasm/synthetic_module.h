#pragma once

// A synthetic plugin-sized module for the benchmarks: one host import env.h (i32)->i32,
// exports f0..f199 (i32)->i32, add (i32,i32)->i32, callh (i32)->i32 (calls env.h) and memory
// (17 pages, a 64 KiB data segment at 1024).

#include <cstdint>
#include <string>

namespace wasmgate::wasm::bench {

inline std::string leb(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(char(v ? b | 0x80 : b));
  } while (v);
  return out;
}

inline std::string syntheticModule() {
  using namespace std::string_literals;
  auto section = [](uint8_t id, const std::string& payload) {
    return std::string(1, char(id)) + leb(payload.size()) + payload;
  };
  auto str = [](const std::string& s) { return leb(s.size()) + s; };
  const int kFuncs = 200;
  std::string types = leb(2) + "\x60\x01\x7f\x01\x7f"s + "\x60\x02\x7f\x7f\x01\x7f"s;
  std::string imports = leb(1) + str("env") + str("h") + "\x00"s + leb(0);
  std::string funcs = leb(kFuncs + 2);
  for (int i = 0; i < kFuncs; ++i)
    funcs += leb(0);
  funcs += leb(1) + leb(0);
  std::string memory = leb(1) + "\x00"s + leb(17);
  std::string exports = leb(kFuncs + 3);
  for (int i = 0; i < kFuncs; ++i)
    exports += str("f" + std::to_string(i)) + "\x00"s + leb(1 + i);
  exports += str("add") + "\x00"s + leb(1 + kFuncs);
  exports += str("callh") + "\x00"s + leb(2 + kFuncs);
  exports += str("memory") + "\x02"s + leb(0);
  std::string code = leb(kFuncs + 2);
  for (int i = 0; i < kFuncs; ++i) {
    // local.get 0; i32.const i; i32.add; i32.const 3; i32.mul; end
    std::string body = "\x00\x20\x00\x41"s + leb(i % 64) + "\x6a\x41\x03\x6c\x0b"s;
    code += leb(body.size()) + body;
  }
  const std::string add = "\x00\x20\x00\x20\x01\x6a\x0b"s;
  code += leb(add.size()) + add;
  const std::string callh = "\x00\x20\x00\x10\x00\x0b"s;
  code += leb(callh.size()) + callh;
  std::string blob(65536, '\0');
  for (size_t i = 0; i < blob.size(); ++i)
    blob[i] = char(i * 7);
  std::string data = leb(1) + "\x00\x41"s + leb(1024) + "\x0b"s + leb(blob.size()) + blob;
  return "\0asm\1\0\0\0"s + section(1, types) + section(2, imports) + section(3, funcs) +
         section(5, memory) + section(7, exports) + section(10, code) + section(11, data);
}

} // namespace wasmgate::wasm::bench
