#include "wasm/bytecode.h"

#include <algorithm>
#include <cstring>

namespace wasmgate::wasm {

const char* valTypeName(ValType t) {
  switch (t) {
  case ValType::I32: return "i32";
  case ValType::I64: return "i64";
  case ValType::F32: return "f32";
  case ValType::F64: return "f64";
  case ValType::V128: return "v128";
  case ValType::FuncRef: return "funcref";
  case ValType::ExternRef: return "externref";
  }
  return "?";
}

const char* externKindName(ExternKind k) {
  switch (k) {
  case ExternKind::Function: return "function";
  case ExternKind::Table: return "table";
  case ExternKind::Memory: return "memory";
  case ExternKind::Global: return "global";
  case ExternKind::Tag: return "tag";
  }
  return "?";
}

std::string FunctionType::toString() const {
  std::string s = "(";
  for (size_t i = 0; i < params.size(); ++i) {
    if (i)
      s += ',';
    s += valTypeName(params[i]);
  }
  s += ")->";
  if (results.empty()) {
    s += "void";
  } else if (results.size() == 1) {
    s += valTypeName(results[0]);
  } else {
    s += '(';
    for (size_t i = 0; i < results.size(); ++i) {
      if (i)
        s += ',';
      s += valTypeName(results[i]);
    }
    s += ')';
  }
  return s;
}

const Export* ModuleInfo::findExport(std::string_view name) const {
  for (const auto& e : exports)
    if (e.name == name)
      return &e;
  return nullptr;
}

std::optional<uint32_t> ModuleInfo::functionAtOffset(uint32_t offset) const {
  // Bodies are laid out in order, so the candidate is the last one starting at or before offset.
  auto it = std::upper_bound(code.begin(), code.end(), offset,
                             [](uint32_t off, const CodeRange& r) { return off < r.offset; });
  if (it == code.begin())
    return std::nullopt;
  --it;
  if (offset - it->offset >= it->size)
    return std::nullopt;
  return imported_functions + uint32_t(it - code.begin());
}

std::vector<std::string_view> ModuleInfo::customSections(std::string_view bytes,
                                                         std::string_view name) const {
  std::vector<std::string_view> out;
  for (const auto& c : custom_sections)
    if (c.name == name && uint64_t(c.offset) + c.size <= bytes.size())
      out.push_back(bytes.substr(c.offset, c.size));
  return out;
}

const std::string* NameSection::functionName(uint32_t index) const {
  auto it = std::lower_bound(function_names.begin(), function_names.end(), index,
                             [](const auto& p, uint32_t i) { return p.first < i; });
  if (it == function_names.end() || it->first != index)
    return nullptr;
  return &it->second;
}

namespace {

// Validates UTF-8 as the Wasm spec requires for names (no overlongs, surrogates or > U+10FFFF).
bool validUtf8(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size(), i = 0;
  while (i < n) {
    unsigned c = p[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t len;
    uint32_t cp;
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (n - i < len)
      return false;
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80)
        return false;
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
      return false;
    i += len;
  }
  return true;
}

// A cursor over [pos, end) of the module. The first failure is sticky: later reads return zero
// values and keep the first message, so callers check ok() before acting on what they read.
class Reader {
public:
  Reader(std::string_view bytes, size_t pos, size_t end, std::string context)
      : bytes_(bytes), pos_(pos), end_(end), context_(std::move(context)) {}

  bool ok() const { return !error_; }
  size_t pos() const { return pos_; }
  size_t remaining() const { return error_ ? 0 : end_ - pos_; }
  bool atEnd() const { return pos_ >= end_; }
  Status status() const { return error_ ? Status::error(*error_) : okStatus(); }

  bool fail(const std::string& what) {
    if (!error_)
      error_ = context_ + ": " + what + " at offset " + std::to_string(pos_);
    pos_ = end_;
    return false;
  }

  bool u8(uint8_t& out) {
    out = 0;
    if (error_)
      return false;
    if (pos_ >= end_)
      return fail("unexpected end");
    out = uint8_t(bytes_[pos_++]);
    return true;
  }

  // Unsigned LEB128 of at most `bits` bits: at most ceil(bits/7) bytes, unused high bits zero.
  bool leb(uint64_t& out, unsigned bits, const char* what) {
    out = 0;
    if (error_)
      return false;
    const unsigned max_bytes = (bits + 6) / 7;
    for (unsigned i = 0;; ++i) {
      if (pos_ >= end_)
        return fail(std::string("truncated LEB128 ") + what);
      uint8_t b = uint8_t(bytes_[pos_++]);
      if (i == max_bytes - 1) {
        const unsigned used = bits - 7 * i; // bits this last byte may carry
        if ((b & 0x80) || (used < 7 && (b >> used) != 0))
          return fail(std::string("bad LEB128 ") + what + " (too long or out of range)");
      }
      out |= uint64_t(b & 0x7F) << (7 * i);
      if (!(b & 0x80))
        return true;
    }
  }

  bool u32(uint32_t& out, const char* what) {
    uint64_t v;
    bool r = leb(v, 32, what);
    out = uint32_t(v);
    return r;
  }

  // A vector count: each element takes at least `min_elem_size` bytes, so a count the remaining
  // bytes cannot hold is rejected before anything is reserved or looped over.
  bool count(uint32_t& out, const char* what, uint32_t limit, size_t min_elem_size = 1) {
    if (!u32(out, what))
      return false;
    if (out > limit)
      return fail(std::string(what) + " " + std::to_string(out) + " exceeds limit " +
                  std::to_string(limit));
    if (uint64_t(out) * min_elem_size > remaining())
      return fail(std::string(what) + " " + std::to_string(out) + " exceeds remaining bytes");
    return true;
  }

  bool bytes(uint32_t n, std::string_view& out, const char* what) {
    out = {};
    if (error_)
      return false;
    if (n > end_ - pos_)
      return fail(std::string(what) + " length " + std::to_string(n) + " exceeds remaining bytes");
    out = bytes_.substr(pos_, n);
    pos_ += n;
    return true;
  }

  bool name(std::string& out, const char* what) {
    uint32_t n;
    std::string_view v;
    if (!u32(n, what) || !bytes(n, v, what))
      return false;
    if (n > kMaxNameLength)
      return fail(std::string(what) + " too long");
    if (!validUtf8(v))
      return fail(std::string(what) + " is not valid UTF-8");
    out.assign(v);
    return true;
  }

  bool valType(ValType& out, const char* what) {
    uint8_t b;
    if (!u8(b))
      return false;
    switch (b) {
    case 0x7F: out = ValType::I32; return true;
    case 0x7E: out = ValType::I64; return true;
    case 0x7D: out = ValType::F32; return true;
    case 0x7C: out = ValType::F64; return true;
    case 0x7B: out = ValType::V128; return true;
    case 0x70: out = ValType::FuncRef; return true;
    case 0x6F: out = ValType::ExternRef; return true;
    default: return fail(std::string("unsupported value type 0x") + hex(b) + " in " + what);
    }
  }

  bool limits(Limits& out, bool memory) {
    out = {};
    out.encoded_offset = uint32_t(pos_);
    uint8_t flags;
    if (!u8(flags))
      return false;
    if (flags > (memory ? 0x07 : 0x01))
      return fail("bad limits flags 0x" + hex(flags));
    out.shared = flags & 0x02;
    out.is64 = flags & 0x04;
    const unsigned bits = out.is64 ? 64 : 32;
    uint64_t v;
    if (!leb(v, bits, "limits minimum"))
      return false;
    out.min = v;
    if (flags & 0x01) {
      if (!leb(v, bits, "limits maximum"))
        return false;
      if (v < out.min)
        return fail("limits maximum below minimum");
      out.max = v;
    }
    out.encoded_size = uint32_t(pos_ - out.encoded_offset);
    return true;
  }

  static std::string hex(uint8_t b) {
    static const char* d = "0123456789abcdef";
    return {d[b >> 4], d[b & 15]};
  }

private:
  std::string_view bytes_;
  size_t pos_;
  size_t end_;
  std::string context_;
  std::optional<std::string> error_;
};

// Known section ids and their required order (custom sections may appear anywhere).
int sectionRank(uint8_t id) {
  switch (id) {
  case 1: return 1;   // type
  case 2: return 2;   // import
  case 3: return 3;   // function
  case 4: return 4;   // table
  case 5: return 5;   // memory
  case 13: return 6;  // tag (exception handling)
  case 6: return 7;   // global
  case 7: return 8;   // export
  case 8: return 9;   // start
  case 9: return 10;  // element
  case 12: return 11; // data count
  case 10: return 12; // code
  case 11: return 13; // data
  default: return -1;
  }
}

const char* sectionName(uint8_t id) {
  static const char* names[] = {"custom", "type",   "import",     "function", "table",
                                "memory", "global", "export",     "start",    "element",
                                "code",   "data",   "data count", "tag"};
  return id < 14 ? names[id] : "unknown";
}

Status parseTypes(Reader& r, ModuleInfo& m) {
  uint32_t n;
  if (!r.count(n, "type count", kMaxTypes, 3))
    return r.status();
  m.types.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    uint8_t form;
    if (!r.u8(form))
      break;
    if (form != 0x60) {
      r.fail("type " + std::to_string(i) + ": unsupported type form 0x" + Reader::hex(form));
      break;
    }
    FunctionType ft;
    uint32_t np, nr;
    if (!r.count(np, "param count", kMaxParams))
      break;
    ft.params.resize(np);
    for (auto& p : ft.params)
      r.valType(p, "params");
    if (!r.count(nr, "result count", kMaxResults))
      break;
    ft.results.resize(nr);
    for (auto& p : ft.results)
      r.valType(p, "results");
    m.types.push_back(std::move(ft));
  }
  return r.status();
}

Status parseImports(Reader& r, ModuleInfo& m) {
  uint32_t n;
  if (!r.count(n, "import count", kMaxImports, 4))
    return r.status();
  m.imports.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    Import im;
    uint8_t kind;
    if (!r.name(im.module, "import module name") || !r.name(im.name, "import field name") ||
        !r.u8(kind))
      break;
    const std::string which = "import " + std::to_string(i) + " (" + im.module + "." + im.name +
                              ")";
    switch (kind) {
    case 0: // function
    case 4: // tag
      if (kind == 4) {
        uint8_t attribute;
        if (!r.u8(attribute))
          break;
        if (attribute != 0) {
          r.fail(which + ": bad tag attribute");
          break;
        }
      }
      if (!r.u32(im.type_index, "type index"))
        break;
      if (im.type_index >= m.types.size()) {
        r.fail(which + ": type index " + std::to_string(im.type_index) + " out of range");
        break;
      }
      im.type = m.types[im.type_index];
      im.kind = kind == 0 ? ExternKind::Function : ExternKind::Tag;
      if (kind == 0) {
        if (m.function_types.size() >= kMaxFunctions) {
          r.fail("too many functions");
          break;
        }
        m.function_types.push_back(im.type_index);
        ++m.imported_functions;
      }
      break;
    case 1: // table
      im.kind = ExternKind::Table;
      if (r.valType(im.table.elem, "table element type") && im.table.elem != ValType::FuncRef &&
          im.table.elem != ValType::ExternRef)
        r.fail(which + ": table element type is not a reference type");
      r.limits(im.table.limits, false);
      break;
    case 2: // memory
      im.kind = ExternKind::Memory;
      r.limits(im.limits, true);
      ++m.imported_memories;
      break;
    case 3: { // global
      im.kind = ExternKind::Global;
      uint8_t mut;
      if (r.valType(im.global.type, "global type") && r.u8(mut)) {
        if (mut > 1)
          r.fail(which + ": bad global mutability");
        im.global.mutable_ = mut == 1;
      }
      break;
    }
    default: r.fail(which + ": unknown import kind " + std::to_string(kind));
    }
    if (r.ok())
      m.imports.push_back(std::move(im));
  }
  return r.status();
}

Status parseFunctions(Reader& r, ModuleInfo& m) {
  uint32_t n;
  if (!r.count(n, "function count", kMaxFunctions))
    return r.status();
  if (uint64_t(n) + m.function_types.size() > kMaxFunctions) {
    r.fail("too many functions");
    return r.status();
  }
  m.function_types.reserve(m.function_types.size() + n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    uint32_t t;
    if (!r.u32(t, "type index"))
      break;
    if (t >= m.types.size()) {
      r.fail("function " + std::to_string(i) + ": type index " + std::to_string(t) +
             " out of range");
      break;
    }
    m.function_types.push_back(t);
  }
  return r.status();
}

Status parseMemories(Reader& r, ModuleInfo& m) {
  uint32_t n;
  if (!r.count(n, "memory count", 100, 2))
    return r.status();
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    Limits l;
    if (r.limits(l, true))
      m.memories.push_back(l);
  }
  return r.status();
}

Status parseExports(Reader& r, ModuleInfo& m) {
  uint32_t n;
  if (!r.count(n, "export count", kMaxExports, 3))
    return r.status();
  m.exports.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    Export e;
    uint8_t kind;
    if (!r.name(e.name, "export name") || !r.u8(kind) || !r.u32(e.index, "export index"))
      break;
    if (kind > 4) {
      r.fail("export '" + e.name + "': unknown export kind " + std::to_string(kind));
      break;
    }
    e.kind = ExternKind(kind);
    if (e.kind == ExternKind::Function) {
      if (e.index >= m.function_types.size()) {
        r.fail("export '" + e.name + "': function index " + std::to_string(e.index) +
               " out of range");
        break;
      }
      e.type = m.types[m.function_types[e.index]];
    }
    for (const auto& other : m.exports)
      if (other.name == e.name) {
        r.fail("duplicate export name '" + e.name + "'");
        break;
      }
    if (r.ok())
      m.exports.push_back(std::move(e));
  }
  return r.status();
}

Status parseCode(Reader& r, ModuleInfo& m) {
  uint32_t n;
  if (!r.count(n, "code count", kMaxFunctions))
    return r.status();
  if (n != m.function_types.size() - m.imported_functions) {
    r.fail("code count " + std::to_string(n) + " does not match function count " +
           std::to_string(m.function_types.size() - m.imported_functions));
    return r.status();
  }
  m.code.reserve(n);
  for (uint32_t i = 0; i < n && r.ok(); ++i) {
    uint32_t size;
    std::string_view body;
    if (!r.u32(size, "body size"))
      break;
    const uint32_t offset = uint32_t(r.pos());
    if (!r.bytes(size, body, "function body"))
      break;
    if (size == 0) {
      r.fail("empty function body " + std::to_string(i));
      break;
    }
    m.code.push_back({offset, size});
  }
  return r.status();
}

} // namespace

Status checkHeader(std::string_view bytes) {
  if (bytes.size() < 8)
    return Status::error("module too short for the Wasm header (" + std::to_string(bytes.size()) +
                         " bytes)");
  if (std::memcmp(bytes.data(), "\0asm", 4) != 0)
    return Status::error("bad magic number: not a WebAssembly module");
  if (std::memcmp(bytes.data() + 4, "\x01\0\0\0", 4) != 0)
    return Status::error("unsupported WebAssembly binary version (only 1 is supported)");
  return okStatus();
}

Result<ModuleInfo> parseModule(std::string_view bytes) {
  WG_RETURN_IF_ERROR(checkHeader(bytes));
  if (bytes.size() > kMaxModuleSize)
    return Status::error("module larger than " + std::to_string(kMaxModuleSize) + " bytes");
  ModuleInfo m;
  size_t pos = 8;
  int last_rank = 0;
  bool seen_function = false, seen_code = false;
  while (pos < bytes.size()) {
    Reader header(bytes, pos, bytes.size(), "section header");
    uint8_t id;
    uint32_t size;
    header.u8(id);
    header.u32(size, "section size");
    std::string_view payload;
    header.bytes(size, payload, "section");
    WG_RETURN_IF_ERROR(header.status());
    const size_t payload_offset = header.pos() - size;
    m.sections.push_back({id, uint32_t(pos), uint32_t(payload_offset), size});
    pos = header.pos();

    Reader r(bytes, payload_offset, payload_offset + size,
             std::string(sectionName(id)) + " section");
    if (id == 0) {
      CustomSection c;
      if (!r.name(c.name, "custom section name"))
        return r.status();
      c.offset = uint32_t(r.pos());
      c.size = uint32_t(payload_offset + size - r.pos());
      m.custom_sections.push_back(std::move(c));
      continue;
    }
    const int rank = sectionRank(id);
    if (rank < 0)
      return Status::error("unknown section id " + std::to_string(id) + " at offset " +
                           std::to_string(m.sections.back().offset));
    if (rank <= last_rank)
      return Status::error(std::string(sectionName(id)) +
                           " section out of order or duplicated at offset " +
                           std::to_string(m.sections.back().offset));
    last_rank = rank;
    switch (id) {
    case 1: WG_RETURN_IF_ERROR(parseTypes(r, m)); break;
    case 2: WG_RETURN_IF_ERROR(parseImports(r, m)); break;
    case 3:
      seen_function = true;
      WG_RETURN_IF_ERROR(parseFunctions(r, m));
      break;
    case 5: WG_RETURN_IF_ERROR(parseMemories(r, m)); break;
    case 7: WG_RETURN_IF_ERROR(parseExports(r, m)); break;
    case 8: {
      uint32_t start;
      if (r.u32(start, "start function index") && start >= m.function_types.size())
        r.fail("start function index out of range");
      WG_RETURN_IF_ERROR(r.status());
      m.start_function = start;
      break;
    }
    case 10:
      seen_code = true;
      WG_RETURN_IF_ERROR(parseCode(r, m));
      break;
    default:
      // Tables, globals, elements, data, data count, tags: not needed here; the engine validates
      // them. Their size was checked above.
      continue;
    }
    if (!r.atEnd())
      return Status::error(std::string(sectionName(id)) + " section has " +
                           std::to_string(r.remaining()) + " trailing bytes");
  }
  if (seen_function && !seen_code && m.function_types.size() > m.imported_functions)
    return Status::error("function section without code section");
  if (seen_code && m.code.size() != m.function_types.size() - m.imported_functions)
    return Status::error("code section does not match function section");
  return m;
}

Result<NameSection> parseNameSection(std::string_view payload) {
  NameSection out;
  Reader r(payload, 0, payload.size(), "name section");
  int last_id = -1;
  while (!r.atEnd() && r.ok()) {
    uint8_t id;
    uint32_t size;
    std::string_view sub;
    if (!r.u8(id) || !r.u32(size, "subsection size") || !r.bytes(size, sub, "subsection"))
      break;
    if (int(id) <= last_id)
      return Status::error("name section: subsection " + std::to_string(id) +
                           " out of order or duplicated");
    last_id = id;
    Reader s(sub, 0, sub.size(), "name section subsection " + std::to_string(id));
    if (id == 0) {
      std::string name;
      if (s.name(name, "module name"))
        out.module_name = std::move(name);
    } else if (id == 1) {
      uint32_t n;
      if (s.count(n, "function name count", kMaxFunctions, 2)) {
        out.function_names.reserve(n);
        for (uint32_t i = 0; i < n && s.ok(); ++i) {
          uint32_t index;
          std::string name;
          if (!s.u32(index, "function index") || !s.name(name, "function name"))
            break;
          if (!out.function_names.empty() && index <= out.function_names.back().first) {
            s.fail("function index " + std::to_string(index) + " not in increasing order");
            break;
          }
          out.function_names.emplace_back(index, std::move(name));
        }
      }
    } else {
      continue; // other subsections: skipped whole
    }
    WG_RETURN_IF_ERROR(s.status());
    if (!s.atEnd())
      return Status::error("name section: subsection " + std::to_string(id) +
                           " has trailing bytes");
  }
  WG_RETURN_IF_ERROR(r.status());
  return out;
}

namespace {

void putLeb(std::string& out, uint64_t v) {
  do {
    uint8_t b = v & 0x7F;
    v >>= 7;
    if (v)
      b |= 0x80;
    out.push_back(char(b));
  } while (v);
}

} // namespace

Result<std::string> limitMemoryPages(std::string_view bytes, uint64_t max_pages) {
  auto parsed = parseModule(bytes);
  if (!parsed.ok())
    return parsed.status();
  const ModuleInfo& m = *parsed;

  struct Patch {
    uint32_t offset;
    uint32_t size;
    std::string bytes;
  };
  std::vector<Patch> patches;
  auto plan = [&](const Limits& l, const std::string& what) -> Status {
    const uint64_t cap = l.is64 ? max_pages : std::min(max_pages, kMaxMemory32Pages);
    if (l.min > cap)
      return Status::error(what + " needs " + std::to_string(l.min) +
                           " pages initially, more than the limit of " + std::to_string(cap));
    if (l.max && *l.max <= cap)
      return okStatus();
    std::string enc;
    enc.push_back(char(0x01 | (l.shared ? 0x02 : 0) | (l.is64 ? 0x04 : 0)));
    putLeb(enc, l.min);
    putLeb(enc, cap);
    patches.push_back({l.encoded_offset, l.encoded_size, std::move(enc)});
    return okStatus();
  };
  for (const auto& im : m.imports)
    if (im.kind == ExternKind::Memory)
      WG_RETURN_IF_ERROR(plan(im.limits, "imported memory " + im.module + "." + im.name));
  for (size_t i = 0; i < m.memories.size(); ++i)
    WG_RETURN_IF_ERROR(plan(m.memories[i], "memory " + std::to_string(i)));
  if (patches.empty())
    return std::string(bytes);

  // Patches are in module order (imports precede memories); re-emit each touched section with
  // its new size and copy every other section verbatim.
  std::string out(bytes.substr(0, 8));
  out.reserve(bytes.size() + 16 * patches.size());
  size_t next = 0;
  for (const auto& s : m.sections) {
    const uint32_t end = s.payload_offset + s.payload_size;
    if (next >= patches.size() || patches[next].offset >= end) {
      out.append(bytes.substr(s.offset, end - s.offset));
      continue;
    }
    std::string payload;
    uint32_t pos = s.payload_offset;
    while (next < patches.size() && patches[next].offset < end) {
      const Patch& p = patches[next++];
      payload.append(bytes.substr(pos, p.offset - pos));
      payload.append(p.bytes);
      pos = p.offset + p.size;
    }
    payload.append(bytes.substr(pos, end - pos));
    if (payload.size() > UINT32_MAX)
      return Status::error("rewritten section too large");
    out.push_back(char(s.id));
    putLeb(out, payload.size());
    out.append(payload);
  }
  return out;
}

} // namespace wasmgate::wasm
