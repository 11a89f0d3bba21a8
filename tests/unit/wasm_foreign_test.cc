#include "extensions/common/wasm/foreign.h"

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <string>

#include <openssl/evp.h>
#include <openssl/x509.h>

namespace wasmgate::extensions::wasm {
namespace {

using R = ::wasmgate::wasm::abi::WasmResult;
using protowire::encodeBytesField;
using protowire::encodeVarintField;

class FakeTarget : public ForeignFunctionTarget {
public:
  R foreignClearRouteCache() override {
    ++route_cache_clears;
    return R::Ok;
  }
  R foreignSetFilterState(std::string_view key, std::string_view value) override {
    state[std::string(key)] = std::string(value);
    return R::Ok;
  }
  R foreignDeclareProperty(std::string_view name, bool readonly) override {
    declared[std::string(name)] = readonly;
    return R::Ok;
  }
  int route_cache_clears = 0;
  std::map<std::string, std::string> state;
  std::map<std::string, bool> declared;
};

R call(FakeTarget& t, std::string_view name, std::string_view args, std::string& out) {
  return callForeignFunction(t, name, args, out);
}

TEST(ForeignFunctions, CompressRoundTrip) {
  FakeTarget t;
  const std::string text(10000, 'a');
  std::string packed, unpacked;
  ASSERT_EQ(call(t, "compress", text, packed), R::Ok);
  EXPECT_LT(packed.size(), text.size() / 10);
  ASSERT_EQ(call(t, "uncompress", packed, unpacked), R::Ok);
  EXPECT_EQ(unpacked, text);
  ASSERT_EQ(call(t, "compress", "", packed), R::Ok);
  ASSERT_EQ(call(t, "uncompress", packed, unpacked), R::Ok);
  EXPECT_EQ(unpacked, "");
}

TEST(ForeignFunctions, UncompressRefusesGarbageAndBombs) {
  FakeTarget t;
  std::string out;
  EXPECT_EQ(call(t, "uncompress", "not zlib at all", out), R::SerializationFailure);
  // 32 MiB of zeros packs into a few KiB; unpacking it would pass the cap.
  std::string bomb;
  ASSERT_EQ(call(t, "compress", std::string(32 << 20, '\0'), bomb), R::Ok);
  EXPECT_EQ(call(t, "uncompress", bomb, out), R::SerializationFailure);
  EXPECT_TRUE(out.empty());
}

// An RSA key pair, the DER public key and a signature of `text` with SHA-256.
struct Signed {
  std::string public_der;
  std::string signature;
};

Signed signWithFreshKey(const std::string& text, const char* digest = "SHA256") {
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(EVP_RSA_gen(2048), &EVP_PKEY_free);
  EXPECT_TRUE(key);
  Signed s;
  unsigned char* der = nullptr;
  int len = i2d_PUBKEY(key.get(), &der);
  s.public_der.assign(reinterpret_cast<char*>(der), size_t(len));
  OPENSSL_free(der);
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
  EXPECT_EQ(EVP_DigestSignInit_ex(ctx.get(), nullptr, digest, nullptr, nullptr, key.get(), nullptr), 1);
  size_t sig_len = 0;
  EXPECT_EQ(EVP_DigestSign(ctx.get(), nullptr, &sig_len,
                           reinterpret_cast<const unsigned char*>(text.data()), text.size()), 1);
  s.signature.resize(sig_len);
  EXPECT_EQ(EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(s.signature.data()), &sig_len,
                           reinterpret_cast<const unsigned char*>(text.data()), text.size()), 1);
  s.signature.resize(sig_len);
  return s;
}

std::string verifyArgs(std::string_view hash, std::string_view sig, std::string_view key,
                       std::string_view text) {
  return encodeBytesField(1, hash) + encodeBytesField(2, sig) + encodeBytesField(3, key) +
         encodeBytesField(4, text);
}

TEST(ForeignFunctions, VerifySignature) {
  FakeTarget t;
  const std::string text = "the message";
  Signed s = signWithFreshKey(text);
  std::string out;
  ASSERT_EQ(call(t, "verify_signature", verifyArgs("sha256", s.signature, s.public_der, text), out),
            R::Ok);
  EXPECT_EQ(out, encodeVarintField(1, 1)); // result: true, no error
  ASSERT_EQ(call(t, "verify_signature", verifyArgs("sha256", s.signature, s.public_der, "tampered"),
                 out),
            R::Ok);
  EXPECT_EQ(out, encodeVarintField(1, 0) + encodeBytesField(2, "Failed to verify signature"));
  ASSERT_EQ(call(t, "verify_signature", verifyArgs("md5", s.signature, s.public_der, text), out),
            R::Ok);
  EXPECT_EQ(out, encodeVarintField(1, 0) + encodeBytesField(2, "md5 is not supported."));
  ASSERT_EQ(call(t, "verify_signature", verifyArgs("sha256", s.signature, "not a key", text), out),
            R::Ok);
  EXPECT_EQ(out, encodeVarintField(1, 0) + encodeBytesField(2, "Failed to import public key"));
  // Arguments that are not a protobuf message.
  EXPECT_EQ(call(t, "verify_signature", "\xff\xff\xff", out), R::BadArgument);
  EXPECT_EQ(call(t, "verify_signature", std::string("\x0a\x7f", 2), out), R::BadArgument);
}

TEST(ForeignFunctions, StreamAndPropertyFunctions) {
  FakeTarget t;
  std::string out;
  EXPECT_EQ(call(t, "clear_route_cache", "", out), R::Ok);
  EXPECT_EQ(t.route_cache_clears, 1);
  ASSERT_EQ(call(t, "set_envoy_filter_state",
                 encodeBytesField(1, "envoy.tcp_proxy.cluster") + encodeBytesField(2, "other"), out),
            R::Ok);
  EXPECT_EQ(t.state["envoy.tcp_proxy.cluster"], "other");
  EXPECT_EQ(call(t, "set_envoy_filter_state", encodeBytesField(2, "no path"), out), R::BadArgument);
  ASSERT_EQ(call(t, "declare_property",
                 encodeBytesField(1, "user") + encodeVarintField(2, 1) + encodeVarintField(4, 1),
                 out),
            R::Ok);
  EXPECT_TRUE(t.declared["user"]);
  ASSERT_EQ(call(t, "declare_property", encodeBytesField(1, "tmp"), out), R::Ok);
  EXPECT_FALSE(t.declared["tmp"]);
  EXPECT_EQ(call(t, "declare_property", encodeVarintField(4, 1), out), R::BadArgument);
  EXPECT_EQ(call(t, "no_such_function", "", out), R::NotFound);
}

} // namespace
} // namespace wasmgate::extensions::wasm
