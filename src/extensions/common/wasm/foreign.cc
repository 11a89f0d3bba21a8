#include "extensions/common/wasm/foreign.h"

#include <cstring>
#include <map>
#include <memory>
#include <optional>
#include <vector>

#include <openssl/evp.h>
#include <openssl/x509.h>
#include <zlib.h>

namespace wasmgate::extensions::wasm {

using ::wasmgate::wasm::abi::WasmResult;

namespace protowire {

namespace {
void appendVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(char(uint8_t(v) | 0x80));
    v >>= 7;
  }
  out.push_back(char(uint8_t(v)));
}
} // namespace

std::string encodeBytesField(uint32_t field, std::string_view value) {
  std::string out;
  appendVarint(out, (uint64_t(field) << 3) | 2);
  appendVarint(out, value.size());
  out.append(value);
  return out;
}

std::string encodeVarintField(uint32_t field, uint64_t value) {
  std::string out;
  appendVarint(out, uint64_t(field) << 3);
  appendVarint(out, value);
  return out;
}

// A flat protobuf message: the last value of each field number (protobuf's merge rule for
// singular fields). Nested messages are not needed here. Returns nullopt on malformed input.
struct Fields {
  std::map<uint32_t, std::string_view> bytes;
  std::map<uint32_t, uint64_t> varints;
};

std::optional<Fields> parse(std::string_view in) {
  Fields f;
  size_t pos = 0;
  auto varint = [&](uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos >= in.size())
        return false;
      const uint8_t b = uint8_t(in[pos++]);
      v |= uint64_t(b & 0x7f) << shift;
      if ((b & 0x80) == 0)
        return true;
    }
    return false;
  };
  while (pos < in.size()) {
    uint64_t key = 0;
    if (!varint(key))
      return std::nullopt;
    const uint64_t field = key >> 3;
    if (field == 0 || field > UINT32_MAX)
      return std::nullopt;
    switch (key & 7) {
    case 0: {
      uint64_t v = 0;
      if (!varint(v))
        return std::nullopt;
      f.varints[uint32_t(field)] = v;
      break;
    }
    case 1: // fixed64
      if (in.size() - pos < 8)
        return std::nullopt;
      pos += 8;
      break;
    case 2: {
      uint64_t len = 0;
      if (!varint(len) || len > in.size() - pos)
        return std::nullopt;
      f.bytes[uint32_t(field)] = in.substr(pos, size_t(len));
      pos += size_t(len);
      break;
    }
    case 5: // fixed32
      if (in.size() - pos < 4)
        return std::nullopt;
      pos += 4;
      break;
    default: // groups are not used by these messages
      return std::nullopt;
    }
  }
  return f;
}

} // namespace protowire

namespace {

WasmResult compressFn(std::string_view in, std::string& out) {
  uLongf len = compressBound(uLong(in.size()));
  out.resize(len);
  if (compress(reinterpret_cast<Bytef*>(out.data()), &len, reinterpret_cast<const Bytef*>(in.data()),
               uLong(in.size())) != Z_OK)
    return WasmResult::SerializationFailure;
  out.resize(len);
  return WasmResult::Ok;
}

WasmResult uncompressFn(std::string_view in, std::string& out) {
  // Envoy's estimate, doubled until it fits, but never past the cap.
  size_t cap = std::min<size_t>(in.size() * 2 + 2, kMaxUncompressedBytes);
  for (;;) {
    out.resize(cap);
    uLongf len = uLongf(cap);
    const int r = uncompress(reinterpret_cast<Bytef*>(out.data()), &len,
                             reinterpret_cast<const Bytef*>(in.data()), uLong(in.size()));
    if (r == Z_OK) {
      out.resize(len);
      return WasmResult::Ok;
    }
    if (r != Z_BUF_ERROR || cap >= kMaxUncompressedBytes) {
      out.clear();
      return WasmResult::SerializationFailure;
    }
    cap = std::min(cap * 2, kMaxUncompressedBytes);
  }
}

const EVP_MD* digestNamed(std::string_view name) {
  if (name == "sha1")
    return EVP_sha1();
  if (name == "sha224")
    return EVP_sha224();
  if (name == "sha256")
    return EVP_sha256();
  if (name == "sha384")
    return EVP_sha384();
  if (name == "sha512")
    return EVP_sha512();
  return nullptr;
}

// VerifySignatureResult{bool result = 1; string error = 2;}
std::string verifyResult(bool ok, std::string_view error) {
  std::string out = protowire::encodeVarintField(1, ok ? 1 : 0);
  if (!error.empty())
    out += protowire::encodeBytesField(2, error);
  return out;
}

// VerifySignatureArguments{string hash_function = 1; bytes signature = 2; bytes public_key = 3;
// bytes text = 4;}. As Envoy, a verification that cannot even start is still Ok with
// result=false and an error text; only unparseable arguments are a call error.
WasmResult verifySignatureFn(std::string_view in, std::string& out) {
  auto f = protowire::parse(in);
  if (!f)
    return WasmResult::BadArgument;
  auto field = [&](uint32_t n) {
    auto it = f->bytes.find(n);
    return it == f->bytes.end() ? std::string_view() : it->second;
  };
  const EVP_MD* md = digestNamed(field(1));
  if (md == nullptr) {
    out = verifyResult(false, std::string(field(1)) + " is not supported.");
    return WasmResult::Ok;
  }
  const std::string_view key_der = field(3);
  const unsigned char* p = reinterpret_cast<const unsigned char*>(key_der.data());
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      d2i_PUBKEY(nullptr, &p, long(key_der.size())), &EVP_PKEY_free);
  if (!key) {
    out = verifyResult(false, "Failed to import public key");
    return WasmResult::Ok;
  }
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  const std::string_view sig = field(2), text = field(4);
  const bool ok =
      ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(text.data()), text.size()) == 1;
  out = verifyResult(ok, ok ? "" : "Failed to verify signature");
  return WasmResult::Ok;
}

// DeclarePropertyArguments{string name = 1; WasmType type = 2; bytes schema = 3;
// bool readonly = 4; LifeSpan span = 5;}
WasmResult declarePropertyFn(ForeignFunctionTarget& target, std::string_view in) {
  auto f = protowire::parse(in);
  if (!f)
    return WasmResult::BadArgument;
  auto name = f->bytes.find(1);
  if (name == f->bytes.end() || name->second.empty())
    return WasmResult::BadArgument;
  auto readonly = f->varints.find(4);
  return target.foreignDeclareProperty(name->second,
                                       readonly != f->varints.end() && readonly->second != 0);
}

// SetEnvoyFilterStateArguments{string path = 1; string value = 2; LifeSpan span = 3;}
WasmResult setFilterStateFn(ForeignFunctionTarget& target, std::string_view in) {
  auto f = protowire::parse(in);
  if (!f)
    return WasmResult::BadArgument;
  auto path = f->bytes.find(1);
  if (path == f->bytes.end() || path->second.empty())
    return WasmResult::BadArgument;
  auto value = f->bytes.find(2);
  return target.foreignSetFilterState(path->second,
                                      value == f->bytes.end() ? std::string_view() : value->second);
}

} // namespace

WasmResult callForeignFunction(ForeignFunctionTarget& target, std::string_view name,
                               std::string_view arguments, std::string& result) {
  result.clear();
  if (name == "compress")
    return compressFn(arguments, result);
  if (name == "uncompress")
    return uncompressFn(arguments, result);
  if (name == "verify_signature")
    return verifySignatureFn(arguments, result);
  if (name == "declare_property")
    return declarePropertyFn(target, arguments);
  if (name == "clear_route_cache")
    return target.foreignClearRouteCache();
  if (name == "set_envoy_filter_state")
    return setFilterStateFn(target, arguments);
  return WasmResult::NotFound;
}

} // namespace wasmgate::extensions::wasm
