// libFuzzer target for the engine-free Wasm bytecode parser (src/wasm/bytecode.cc). Each input
// is parsed as a module; a module that parses is queried (exports, offsets, custom sections),
// its name section is parsed, and its memories are limited to a page count taken from the
// input. The rewrite must re-parse with the same imports and exports and honour the limit. The
// input is also parsed as a bare name-section payload. Invariant violations abort.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "wasm/bytecode.h"

namespace {

using namespace wasmgate::wasm;

void checkModule(std::string_view bytes, const ModuleInfo& m) {
  CHECK(m.imported_functions <= m.function_types.size());
  CHECK(m.code.size() == m.function_types.size() - m.imported_functions);
  for (const auto& s : m.sections)
    CHECK(uint64_t(s.payload_offset) + s.payload_size <= bytes.size());
  for (const auto& c : m.custom_sections)
    CHECK(uint64_t(c.offset) + c.size <= bytes.size());
  for (const auto& e : m.exports) {
    CHECK(m.findExport(e.name) == &e);
    if (e.kind == ExternKind::Function)
      CHECK(e.index < m.function_types.size());
  }
  uint32_t previous_end = 0;
  for (size_t i = 0; i < m.code.size(); ++i) {
    const CodeRange& r = m.code[i];
    CHECK(r.size > 0 && uint64_t(r.offset) + r.size <= bytes.size());
    CHECK(r.offset >= previous_end);
    previous_end = r.offset + r.size;
    CHECK(m.functionAtOffset(r.offset) == m.imported_functions + i);
    CHECK(m.functionAtOffset(r.offset + r.size - 1) == m.imported_functions + i);
  }
  for (const auto& im : m.imports)
    (void)im.type.toString();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);

  // Any input as a name-section payload.
  auto names = parseNameSection(input);
  if (names.ok())
    for (size_t i = 1; i < names->function_names.size(); ++i)
      CHECK(names->function_names[i - 1].first < names->function_names[i].first);

  auto parsed = parseModule(input);
  if (!parsed.ok()) {
    CHECK(!parsed.error().empty());
    CHECK(!limitMemoryPages(input, 1).ok());
    return 0;
  }
  const ModuleInfo& m = *parsed;
  checkModule(input, m);
  for (const auto& payload : m.customSections(input, "name"))
    (void)parseNameSection(payload);

  // The page limit comes from the last input byte so the fuzzer can steer it.
  const uint64_t limit = size ? data[size - 1] % 8 : 1;
  auto limited = limitMemoryPages(input, limit);
  if (!limited.ok())
    return 0; // some memory's minimum exceeds the limit
  auto reparsed = parseModule(*limited);
  CHECK(reparsed.ok());
  CHECK(reparsed->imports.size() == m.imports.size());
  CHECK(reparsed->exports.size() == m.exports.size());
  CHECK(reparsed->memories.size() == m.memories.size());
  CHECK(reparsed->custom_sections.size() == m.custom_sections.size());
  CHECK(reparsed->code.size() == m.code.size());
  for (const auto& mem : reparsed->memories)
    CHECK(mem.max && *mem.max <= limit);
  for (const auto& im : reparsed->imports)
    if (im.kind == ExternKind::Memory)
      CHECK(im.limits.max && *im.limits.max <= limit);
  checkModule(*limited, *reparsed);
  auto again = limitMemoryPages(*limited, limit); // idempotent
  CHECK(again.ok() && *again == *limited);
  return 0;
}
