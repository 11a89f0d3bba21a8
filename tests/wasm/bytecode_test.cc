// Bytecode parser tests: well-formed modules from data/ and hand-built malformed ones. Every
// malformed input must come back as an error naming the problem, never a crash or a huge
// allocation.

#include <algorithm>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "wasm/bytecode.h"

namespace wasmgate::wasm {
namespace {

using namespace std::string_literals;

std::string readModule(const std::string& stem) {
  std::ifstream in(std::string(WG_WASM_TEST_DATA) + "/" + stem + ".wasm", std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Tiny module builder for hand-made inputs.
std::string leb(uint64_t v) {
  std::string out;
  do {
    uint8_t b = v & 0x7f;
    v >>= 7;
    out.push_back(char(v ? b | 0x80 : b));
  } while (v);
  return out;
}
std::string name(const std::string& s) { return leb(s.size()) + s; }
std::string section(uint8_t id, const std::string& payload) {
  return std::string(1, char(id)) + leb(payload.size()) + payload;
}
std::string module(const std::string& sections) {
  return std::string("\0asm\1\0\0\0", 8) + sections;
}
const std::string kI32(1, '\x7f'), kI64(1, '\x7e');
// type section: (i32,i64)->i32 and ()->void
const std::string kTypes = section(1, leb(2) + "\x60" + leb(2) + kI32 + kI64 + leb(1) + kI32 +
                                          "\x60" + leb(0) + leb(0));

void expectError(const std::string& bytes, const std::string& fragment) {
  auto r = parseModule(bytes);
  ASSERT_FALSE(r.ok()) << "expected an error containing '" << fragment << "'";
  EXPECT_NE(r.error().find(fragment), std::string::npos) << r.error();
}

TEST(Bytecode, Header) {
  EXPECT_TRUE(checkHeader(module("")).ok());
  EXPECT_FALSE(checkHeader("").ok());
  EXPECT_NE(checkHeader(std::string("\0as", 3)).message().find("too short"), std::string::npos);
  EXPECT_NE(checkHeader("\x7f"
                        "ELF\1\0\0\0"s)
                .message()
                .find("magic"),
            std::string::npos);
  EXPECT_NE(checkHeader(std::string("\0asm\x0d\0\1\0", 8)).message().find("version"),
            std::string::npos);
  auto empty = parseModule(module(""));
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->imports.empty());
}

TEST(Bytecode, ParsesBasicModule) {
  const std::string bytes = readModule("basic");
  auto m = parseModule(bytes);
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m->imports.size(), 6u);
  EXPECT_EQ(m->imported_functions, 6u);
  EXPECT_EQ(m->imports[1].name, "host_i32_i64");
  EXPECT_EQ(m->imports[1].type.toString(), "(i32,i64)->i32");
  EXPECT_EQ(m->imports[2].type.toString(), "()->i64");
  EXPECT_EQ(m->imports[3].type.toString(), "(i32)->void");
  EXPECT_EQ(m->imports[4].type.params.size(), 12u);

  ASSERT_EQ(m->memories.size(), 1u);
  EXPECT_EQ(m->memories[0].min, 2u);
  EXPECT_EQ(m->memories[0].max, 16u);
  const Export* mem = m->findExport("memory");
  ASSERT_TRUE(mem);
  EXPECT_EQ(mem->kind, ExternKind::Memory);
  const Export* sum = m->findExport("sum12");
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum->kind, ExternKind::Function);
  EXPECT_EQ(sum->type.toString(), "(i32,i64,i32,i64,i32,i64,i32,i64,i32,i64,i32,i64)->i64");
  EXPECT_EQ(m->findExport("nop")->type.toString(), "()->void");
  EXPECT_FALSE(m->findExport("nothing"));
  EXPECT_EQ(m->code.size(), m->function_types.size() - m->imported_functions);

  // The name section (wat2wasm --debug-names) names imports and $-named functions.
  auto payloads = m->customSections(bytes, "name");
  ASSERT_EQ(payloads.size(), 1u);
  auto names = parseNameSection(payloads[0]);
  ASSERT_TRUE(names.ok()) << names.error();
  ASSERT_TRUE(names->functionName(0));
  EXPECT_EQ(*names->functionName(0), "host_4i32");
  EXPECT_FALSE(names->functionName(100000));
}

TEST(Bytecode, FunctionAtOffsetMapsBodiesToIndexes) {
  const std::string bytes = readModule("traps");
  auto m = parseModule(bytes);
  ASSERT_TRUE(m.ok()) << m.error();
  auto names = parseNameSection(m->customSections(bytes, "name").at(0));
  ASSERT_TRUE(names.ok());
  ASSERT_FALSE(m->code.empty());
  for (size_t i = 0; i < m->code.size(); ++i) {
    const CodeRange& r = m->code[i];
    const uint32_t index = m->imported_functions + uint32_t(i);
    EXPECT_EQ(m->functionAtOffset(r.offset), index);
    EXPECT_EQ(m->functionAtOffset(r.offset + r.size - 1), index);
  }
  EXPECT_FALSE(m->functionAtOffset(0));
  EXPECT_FALSE(m->functionAtOffset(uint32_t(bytes.size())));
  EXPECT_EQ(*names->functionName(*m->functionAtOffset(m->code[1].offset)), "middle");
}

TEST(Bytecode, ImportsOfEveryKind) {
  const std::string imports = section(
      2, leb(4) +                                                     //
             name("env") + name("f") + "\x00"s + leb(0) +             // function, type 0
             name("env") + name("t") + "\x01\x70\x00"s + leb(1) +     // table funcref min 1
             name("env") + name("m") + "\x02\x03" + leb(1) + leb(8) + // shared memory
             name("env") + name("g") + "\x03\x7e\x01");               // mutable i64 global
  auto m = parseModule(module(kTypes + imports));
  ASSERT_TRUE(m.ok()) << m.error();
  ASSERT_EQ(m->imports.size(), 4u);
  EXPECT_EQ(m->imports[0].kind, ExternKind::Function);
  EXPECT_EQ(m->imports[0].type.toString(), "(i32,i64)->i32");
  EXPECT_EQ(m->imports[1].kind, ExternKind::Table);
  EXPECT_EQ(m->imports[1].table.limits.min, 1u);
  EXPECT_EQ(m->imports[2].kind, ExternKind::Memory);
  EXPECT_TRUE(m->imports[2].limits.shared);
  EXPECT_EQ(m->imports[2].limits.max, 8u);
  EXPECT_EQ(m->imports[3].kind, ExternKind::Global);
  EXPECT_TRUE(m->imports[3].global.mutable_);
  EXPECT_EQ(m->imported_functions, 1u);
  EXPECT_EQ(m->imported_memories, 1u);
}

TEST(Bytecode, MalformedInputsAreErrors) {
  // Section size past the end.
  expectError(module("\x01\x10\x00"s), "exceeds remaining bytes");
  // Over-long LEB128 (6 bytes for a u32) and a 5th byte with bits above 32.
  expectError(module(std::string("\x01\x80\x80\x80\x80\x80\x00", 7)), "bad LEB128");
  expectError(module(std::string("\x01\xff\xff\xff\xff\x7f", 6)), "bad LEB128");
  expectError(module("\x01\x80"), "truncated LEB128");
  // Huge counts are rejected before anything is allocated or looped over.
  expectError(module(section(1, leb(0xffffffff))), "exceeds limit");
  expectError(module(section(1, leb(900000))), "exceeds remaining bytes");
  expectError(module(section(2, leb(50000))), "exceeds remaining bytes");
  expectError(module(kTypes + section(3, leb(0xffff))), "exceeds remaining bytes");
  expectError(module(section(1, leb(1) + "\x60" + leb(0xfffffff0))), "exceeds limit");
  // Bad type form and value type.
  expectError(module(section(1, leb(1) + "\x5f" + leb(0) + leb(0))), "unsupported type form");
  expectError(module(section(1, leb(1) + "\x60" + leb(1) + "\x40" + leb(0))),
              "unsupported value type");
  // Unknown section, out of order, duplicate.
  expectError(module(section(42, "")), "unknown section id 42");
  expectError(module(section(3, leb(0)) + kTypes), "out of order");
  expectError(module(kTypes + kTypes), "out of order or duplicated");
  // Index checks.
  expectError(module(kTypes + section(2, leb(1) + name("env") + name("f") + "\x00"s + leb(7))),
              "type index 7 out of range");
  expectError(module(kTypes + section(3, leb(1) + leb(9))), "type index 9 out of range");
  expectError(module(kTypes + section(7, leb(1) + name("e") + "\x00"s + leb(0))),
              "function index 0 out of range");
  expectError(module(kTypes + section(2, leb(1) + name("env") + name("f") + "\x09")),
              "unknown import kind 9");
  // Function/code mismatch, duplicate export, trailing bytes, bad limits.
  expectError(module(kTypes + section(3, leb(1) + leb(1)) + section(10, leb(0))),
              "does not match function count");
  expectError(module(kTypes + section(3, leb(1) + leb(1))), "without code section");
  const std::string fn = kTypes + section(3, leb(1) + leb(1));
  expectError(
      module(fn + section(7, leb(2) + name("a") + "\x00"s + leb(0) + name("a") + "\x00"s + leb(0)) +
             section(10, leb(1) + leb(2) + "\x00\x0b"s)),
      "duplicate export name 'a'");
  expectError(module(section(5, leb(1) + "\x00"s + leb(1) + "zz")), "trailing bytes");
  expectError(module(section(5, leb(1) + "\x09" + leb(1))), "bad limits flags");
  expectError(module(section(5, leb(1) + "\x01" + leb(5) + leb(2))), "maximum below minimum");
  expectError(module(fn + section(10, leb(1) + leb(0))), "empty function body");
  // Names must be UTF-8.
  expectError(module(section(0, name("\xff\xfe"))), "not valid UTF-8");
  expectError(module(kTypes + section(2, leb(1) + name("\xc0\x80") + name("f") + "\x00"s + leb(0))),
              "not valid UTF-8");
}

TEST(Bytecode, EveryTruncationIsHandled) {
  for (const char* stem : {"basic", "traps", "imported_memory"}) {
    const std::string bytes = readModule(stem);
    auto full = parseModule(bytes);
    ASSERT_TRUE(full.ok()) << stem << ": " << full.error();
    std::vector<uint32_t> boundaries = {8};
    for (const auto& s : full->sections)
      boundaries.push_back(s.payload_offset + s.payload_size);
    for (size_t n = 0; n < bytes.size(); ++n) {
      auto r = parseModule(bytes.substr(0, n));
      const bool at_boundary = std::find(boundaries.begin(), boundaries.end(), n) !=
                               boundaries.end();
      if (!at_boundary) {
        EXPECT_FALSE(r.ok()) << stem << " truncated to " << n << " bytes parsed";
      }
    }
  }
}

TEST(Bytecode, NameSection) {
  const std::string good = std::string("\x00", 1) + leb(4) + name("mod") + // module name
                           std::string("\x01", 1) + leb(10) + leb(2) +     // 2 function names
                           leb(0) + name("aa") + leb(3) + name("bbb") +    //
                           std::string("\x02", 1) + leb(2) + "\x00\x00"s;  // locals: skipped
  auto n = parseNameSection(good);
  ASSERT_TRUE(n.ok()) << n.error();
  EXPECT_EQ(n->module_name, "mod");
  ASSERT_EQ(n->function_names.size(), 2u);
  EXPECT_EQ(*n->functionName(3), "bbb");
  EXPECT_FALSE(n->functionName(1));

  EXPECT_FALSE(parseNameSection(std::string("\x01", 1) + leb(50) + "ab").ok()); // truncated
  auto unordered = parseNameSection(std::string("\x01", 1) + leb(7) + leb(2) + leb(3) + name("a") +
                                    leb(1) + name("b"));
  ASSERT_FALSE(unordered.ok());
  EXPECT_NE(unordered.error().find("increasing"), std::string::npos) << unordered.error();
  auto huge = parseNameSection(std::string("\x01", 1) + leb(5) + leb(0xfffffff0));
  EXPECT_FALSE(huge.ok());
  auto dup = parseNameSection(std::string("\x01", 1) + leb(1) + leb(0) + std::string("\x01", 1) +
                              leb(1) + leb(0));
  EXPECT_FALSE(dup.ok());
  auto trailing = parseNameSection(std::string("\x00", 1) + leb(3) + name("a") + "z");
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.error().find("trailing"), std::string::npos);
  EXPECT_TRUE(parseNameSection("").ok());
}

TEST(Bytecode, LimitMemoryPages) {
  // memory.wat: one defined memory, min 1, no max.
  const std::string bytes = readModule("memory");
  auto limited = limitMemoryPages(bytes, 4);
  ASSERT_TRUE(limited.ok()) << limited.error();
  auto m = parseModule(*limited);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->memories[0].min, 1u);
  EXPECT_EQ(m->memories[0].max, 4u);
  EXPECT_EQ(m->findExport("grow")->type.toString(), "(i32)->i32"); // rest intact
  auto again = limitMemoryPages(*limited, 4);                      // idempotent
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(*again, *limited);
  auto looser = limitMemoryPages(*limited, 100); // a smaller existing max is kept
  ASSERT_TRUE(looser.ok());
  EXPECT_EQ(*looser, *limited);
  auto tighter = limitMemoryPages(*limited, 2);
  ASSERT_TRUE(tighter.ok());
  EXPECT_EQ(parseModule(*tighter)->memories[0].max, 2u);
  auto too_small = limitMemoryPages(bytes, 0);
  ASSERT_FALSE(too_small.ok());
  EXPECT_NE(too_small.error().find("memory 0 needs 1 pages"), std::string::npos);
  // memory32 caps at 4 GiB whatever the limit.
  EXPECT_EQ(parseModule(*limitMemoryPages(bytes, 1ull << 40))->memories[0].max, 65536u);

  // Imported memory, followed by other sections whose offsets move.
  const std::string imported = readModule("imported_memory");
  auto li = limitMemoryPages(imported, 5);
  ASSERT_TRUE(li.ok()) << li.error();
  auto mi = parseModule(*li);
  ASSERT_TRUE(mi.ok()) << mi.error();
  EXPECT_EQ(mi->imports[0].limits.max, 5u);
  EXPECT_EQ(mi->imports[0].limits.min, 2u);
  EXPECT_EQ(mi->exports.size(), 3u);
  EXPECT_EQ(mi->customSections(*li, "name").size(), 1u);

  // Shared memories keep their flag.
  auto shared = limitMemoryPages(module(section(5, leb(1) + "\x03" + leb(1) + leb(100))), 10);
  ASSERT_TRUE(shared.ok());
  auto ms = parseModule(*shared);
  EXPECT_TRUE(ms->memories[0].shared);
  EXPECT_EQ(ms->memories[0].max, 10u);

  // No memory: unchanged. Malformed: error.
  const std::string none = module(kTypes);
  EXPECT_EQ(*limitMemoryPages(none, 1), none);
  EXPECT_FALSE(limitMemoryPages("garbage", 1).ok());
}

TEST(Bytecode, FunctionTypeToString) {
  EXPECT_EQ((FunctionType{{}, {}}).toString(), "()->void");
  EXPECT_EQ((FunctionType{{ValType::I32, ValType::F64}, {ValType::I64}}).toString(),
            "(i32,f64)->i64");
  EXPECT_EQ((FunctionType{{}, {ValType::I32, ValType::I32}}).toString(), "()->(i32,i32)");
}

} // namespace
} // namespace wasmgate::wasm
