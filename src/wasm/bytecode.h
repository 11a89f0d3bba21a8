#pragma once

// Engine-free parsing of WebAssembly module bytes (binary format 1.0 plus the reference-types,
// multi-value, bulk-memory, threads, exception-handling and memory64 encodings that plugins use).
//
// It reads what the host needs before or beside an engine: imports and exports with their
// function signatures (for linking and ABI-version detection), custom sections, the "name" section
// (function names for backtraces), the byte ranges of function bodies (to map an engine's code
// offset back to a function), and it rewrites memory maxima to enforce a memory limit. It is not a
// validator of function bodies; the engine validates the whole module when it compiles.
//
// Every count, length, index and LEB128 in the input is untrusted: all of them are checked against
// the remaining bytes, and malformed input returns a Status naming what was wrong (never a crash,
// never an allocation sized by an unchecked count). Pure functions; safe to fuzz.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace wasmgate::wasm {

enum class ValType : uint8_t { I32, I64, F32, F64, V128, FuncRef, ExternRef };

const char* valTypeName(ValType t);

// A function signature. Proxy-Wasm uses only i32/i64 params and zero or one i32/i64 result.
struct FunctionType {
  std::vector<ValType> params;
  std::vector<ValType> results;

  bool operator==(const FunctionType&) const = default;
  // "(i32,i64)->i32", "()->void" ("void" for no result, "(i32,i32)" for several).
  std::string toString() const;
};

enum class ExternKind : uint8_t { Function = 0, Table = 1, Memory = 2, Global = 3, Tag = 4 };

const char* externKindName(ExternKind k);

struct Limits {
  uint64_t min = 0;
  std::optional<uint64_t> max;
  bool shared = false;
  bool is64 = false; // memory64: limits are encoded as u64
  // Where the encoded limits (flags byte included) sit in the module, for rewriting.
  uint32_t encoded_offset = 0;
  uint32_t encoded_size = 0;
};

struct TableType {
  ValType elem = ValType::FuncRef;
  Limits limits;
};

struct GlobalType {
  ValType type = ValType::I32;
  bool mutable_ = false;
};

struct Import {
  std::string module;
  std::string name;
  ExternKind kind = ExternKind::Function;
  uint32_t type_index = 0; // Function and Tag: index into ModuleInfo::types
  FunctionType type;       // Function and Tag: the signature itself
  Limits limits;           // Memory
  TableType table;         // Table
  GlobalType global;       // Global
};

struct Export {
  std::string name;
  ExternKind kind = ExternKind::Function;
  uint32_t index = 0; // into the kind's index space (imports first)
  FunctionType type;  // Function only
};

struct CustomSection {
  std::string name;
  uint32_t offset = 0; // payload (after the name) within the module
  uint32_t size = 0;
};

// A defined function's body as a byte range in the module (the engines report code offsets).
struct CodeRange {
  uint32_t offset = 0;
  uint32_t size = 0;
};

// One section as found in the module (custom sections included).
struct SectionRange {
  uint8_t id = 0;
  uint32_t offset = 0;         // of the id byte
  uint32_t payload_offset = 0; // after the size LEB
  uint32_t payload_size = 0;
};

struct ModuleInfo {
  std::vector<SectionRange> sections;
  std::vector<FunctionType> types;
  std::vector<Import> imports;
  uint32_t imported_functions = 0;
  uint32_t imported_memories = 0;
  std::vector<uint32_t> function_types; // type index of every function, imports first
  std::vector<Limits> memories;         // defined memories
  std::vector<Export> exports;
  std::vector<CustomSection> custom_sections;
  std::vector<CodeRange> code; // defined functions, in order
  std::optional<uint32_t> start_function;

  const Export* findExport(std::string_view name) const;
  // The function index whose body contains a module byte offset, if any.
  std::optional<uint32_t> functionAtOffset(uint32_t offset) const;
  // Payloads of every custom section with this name (a name may repeat), as views into `bytes`.
  std::vector<std::string_view> customSections(std::string_view bytes, std::string_view name) const;
};

// Parsed "name" custom section. Only the module and function subsections are kept; others
// (locals, labels, types, ...) are skipped after their length is checked.
struct NameSection {
  std::optional<std::string> module_name;
  std::vector<std::pair<uint32_t, std::string>> function_names; // strictly increasing indexes

  // Binary search; nullptr when the function has no name.
  const std::string* functionName(uint32_t index) const;
};

// Limits we impose on counts so hostile modules can't make us allocate or loop unboundedly
// (mirrors the implementation limits engines use: V8's kV8Max* constants).
inline constexpr uint32_t kMaxTypes = 1'000'000;
inline constexpr uint32_t kMaxFunctions = 1'000'000;
inline constexpr uint32_t kMaxImports = 100'000;
inline constexpr uint32_t kMaxExports = 100'000;
inline constexpr uint32_t kMaxParams = 1'000;
inline constexpr uint32_t kMaxResults = 1'000;
inline constexpr uint32_t kMaxNameLength = 100'000;
inline constexpr uint32_t kMaxModuleSize = 1024u * 1024 * 1024;
inline constexpr uint32_t kWasmPageSize = 65536;
inline constexpr uint64_t kMaxMemory32Pages = 65536;

// Checks the 8-byte preamble: "\0asm" and version 1.
Status checkHeader(std::string_view bytes);

// Parses the module structure. Section order, sizes, counts and indexes are checked; function
// bodies are not decoded.
Result<ModuleInfo> parseModule(std::string_view bytes);

// Parses the payload of a "name" custom section (the bytes after the section's own name).
Result<NameSection> parseNameSection(std::string_view payload);

// Rewrites the declared maximum of every memory, defined and imported, to at most `max_pages`,
// so memory.grow past it fails (-1) instead of growing. A memory without a maximum gets one.
// Fails when a memory's minimum already exceeds the limit. Returns the new module bytes (an
// unchanged copy when no memory needed rewriting).
Result<std::string> limitMemoryPages(std::string_view bytes, uint64_t max_pages);

} // namespace wasmgate::wasm
