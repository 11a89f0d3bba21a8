#include "accesslog/formatter.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <climits>

namespace wasmgate::accesslog {
namespace {

using namespace std::chrono_literals;

// 2024-01-01T00:00:00Z plus 123456789 ns.
std::chrono::system_clock::time_point fixedStart() {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::seconds(1704067200) + std::chrono::nanoseconds(123456789)));
}

class FormatterTest : public ::testing::Test {
protected:
  FormatterTest() {
    req_.add(":method", "GET");
    req_.add(":path", "/foo?x=1");
    req_.add(":authority", "example.com");
    req_.add("user-agent", "curl/8.0");
    req_.add("x-request-id", "abc-123");
    req_.add("x-forwarded-for", "10.0.0.1");
    req_.add("x-empty", "");
    resp_.add(":status", "200");
    resp_.add("x-envoy-upstream-service-time", "12");
    trailers_.add("grpc-status", "0");

    info_.start_time = fixedStart();
    info_.start_steady = std::chrono::steady_clock::time_point(1000s);
    info_.end_steady = info_.start_steady + 57ms;
    info_.first_upstream_rx = info_.start_steady + 20ms;
    info_.last_downstream_tx = info_.start_steady + 55ms;
    info_.request_headers = &req_;
    info_.response_headers = &resp_;
    info_.response_trailers = &trailers_;
    info_.response_code = 200;
    info_.response_code_details = "via_upstream";
    info_.bytes_received = 10;
    info_.bytes_sent = 20;
    info_.downstream_remote_address = "192.168.1.5:4567";
    info_.downstream_local_address = "[::1]:10000";
    info_.downstream_direct_remote_address = "10.0.0.9:1";
    info_.upstream_host = "10.1.2.3:8080";
    info_.upstream_cluster = "backend";
    info_.upstream_local_address = "10.0.0.2:33333";
    info_.route_name = "default_route";
    info_.connection_id = 42;
    info_.attempt_count = 2;
  }

  std::string fmt(std::string_view format) {
    auto f = Formatter::parse(format);
    EXPECT_TRUE(f.ok()) << format << ": " << f.error();
    if (!f.ok())
      return "<parse error>";
    return f->format(info_);
  }
  std::string parseError(std::string_view format) {
    auto f = Formatter::parse(format);
    EXPECT_FALSE(f.ok()) << format;
    return f.ok() ? "" : f.error();
  }

  http::HeaderMap req_, resp_, trailers_;
  http::StreamInfo info_;
};

TEST_F(FormatterTest, DefaultFormatOnFilledStreamInfo) {
  const std::string expected =
      "[2024-01-01T00:00:00.123Z] \"GET /foo?x=1 HTTP/1.1\" 200 - 10 20 57 12 \"10.0.0.1\" "
      "\"curl/8.0\" \"abc-123\" \"example.com\" \"10.1.2.3:8080\"\n";
  EXPECT_EQ(fmt(kDefaultFormat), expected);
  EXPECT_EQ(Formatter::defaultFormatter().format(info_), expected);

  req_.add("x-envoy-original-path", "/orig");
  EXPECT_EQ(fmt(kDefaultFormat),
            "[2024-01-01T00:00:00.123Z] \"GET /orig HTTP/1.1\" 200 - 10 20 57 12 \"10.0.0.1\" "
            "\"curl/8.0\" \"abc-123\" \"example.com\" \"10.1.2.3:8080\"\n");
}

TEST_F(FormatterTest, DefaultFormatOnEmptyStreamInfo) {
  http::StreamInfo empty;
  empty.end_steady = empty.start_steady;
  EXPECT_EQ(Formatter::defaultFormatter().format(empty),
            "[1970-01-01T00:00:00.000Z] \"- - HTTP/1.1\" 0 - 0 0 0 - \"-\" \"-\" \"-\" \"-\" "
            "\"-\"\n");
}

TEST_F(FormatterTest, AppendsToExistingBuffer) {
  auto f = Formatter::parse("%RESPONSE_CODE%");
  ASSERT_TRUE(f.ok());
  std::string out = "prefix:";
  f->format(info_, out);
  EXPECT_EQ(out, "prefix:200");
}

TEST_F(FormatterTest, HeaderOperators) {
  EXPECT_EQ(fmt("%REQ(:METHOD)%"), "GET");
  EXPECT_EQ(fmt("%REQ(User-Agent)%"), "curl/8.0"); // names are case-insensitive
  EXPECT_EQ(fmt("%REQUEST_HEADER(USER-AGENT)%"), "curl/8.0");
  EXPECT_EQ(fmt("%REQ(X-NOPE)%"), "-");
  EXPECT_EQ(fmt("%REQ(X-NOPE?USER-AGENT)%"), "curl/8.0");
  EXPECT_EQ(fmt("%REQ(USER-AGENT?X-REQUEST-ID)%"), "curl/8.0"); // main wins when present
  EXPECT_EQ(fmt("%REQ(X-NOPE?X-ALSO-NOPE)%"), "-");
  EXPECT_EQ(fmt("%REQ(USER-AGENT):4%"), "curl");
  EXPECT_EQ(fmt("%REQ(USER-AGENT):100%"), "curl/8.0");
  EXPECT_EQ(fmt("%REQ(X-NOPE?USER-AGENT):2%"), "cu");
  EXPECT_EQ(fmt("%REQ(X-NOPE):2%"), "-");
  EXPECT_EQ(fmt("[%REQ(X-EMPTY)%]"), "[]"); // present but empty stays empty, as in Envoy
  EXPECT_EQ(fmt("%REQ_WITHOUT_QUERY(:PATH)%"), "/foo");
  EXPECT_EQ(fmt("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)%"), "12");
  EXPECT_EQ(fmt("%RESPONSE_HEADER(:status)%"), "200");
  EXPECT_EQ(fmt("%RESP(X-NOPE)%"), "-");
  EXPECT_EQ(fmt("%TRAILER(GRPC-STATUS)%"), "0");
  EXPECT_EQ(fmt("%RESPONSE_TRAILER(grpc-status)%"), "0");
  EXPECT_EQ(fmt("%TRAILER(X-NOPE)%"), "-");

  info_.response_headers = nullptr;
  info_.response_trailers = nullptr;
  EXPECT_EQ(fmt("%RESP(X-ENVOY-UPSTREAM-SERVICE-TIME)% %TRAILER(GRPC-STATUS)%"), "- -");
}

TEST_F(FormatterTest, StreamInfoOperators) {
  EXPECT_EQ(fmt("%RESPONSE_CODE%"), "200");
  EXPECT_EQ(fmt("%RESPONSE_CODE_DETAILS%"), "via_upstream");
  EXPECT_EQ(fmt("%RESPONSE_FLAGS%"), "-");
  EXPECT_EQ(fmt("%BYTES_RECEIVED% %BYTES_SENT%"), "10 20");
  EXPECT_EQ(fmt("%DURATION%"), "57");
  EXPECT_EQ(fmt("%REQUEST_DURATION%"), "-");
  EXPECT_EQ(fmt("%RESPONSE_DURATION%"), "20");
  EXPECT_EQ(fmt("%RESPONSE_TX_DURATION%"), "35");
  EXPECT_EQ(fmt("%UPSTREAM_HOST%"), "10.1.2.3:8080");
  EXPECT_EQ(fmt("%UPSTREAM_REMOTE_ADDRESS%"), "10.1.2.3:8080");
  EXPECT_EQ(fmt("%UPSTREAM_CLUSTER%"), "backend");
  EXPECT_EQ(fmt("%UPSTREAM_LOCAL_ADDRESS%"), "10.0.0.2:33333");
  EXPECT_EQ(fmt("%UPSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%"), "10.0.0.2");
  EXPECT_EQ(fmt("%UPSTREAM_TRANSPORT_FAILURE_REASON%"), "-");
  EXPECT_EQ(fmt("%DOWNSTREAM_REMOTE_ADDRESS%"), "192.168.1.5:4567");
  EXPECT_EQ(fmt("%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%"), "192.168.1.5");
  EXPECT_EQ(fmt("%DOWNSTREAM_LOCAL_ADDRESS%"), "[::1]:10000");
  EXPECT_EQ(fmt("%DOWNSTREAM_LOCAL_ADDRESS_WITHOUT_PORT%"), "::1");
  EXPECT_EQ(fmt("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS%"), "10.0.0.9:1");
  EXPECT_EQ(fmt("%DOWNSTREAM_DIRECT_REMOTE_ADDRESS_WITHOUT_PORT%"), "10.0.0.9");
  EXPECT_EQ(fmt("%PROTOCOL%"), "HTTP/1.1");
  EXPECT_EQ(fmt("%ROUTE_NAME%"), "default_route");
  EXPECT_EQ(fmt("%CONNECTION_ID%"), "42");
  EXPECT_EQ(fmt("%UPSTREAM_REQUEST_ATTEMPT_COUNT%"), "2");
  EXPECT_EQ(fmt("100%% done"), "100% done");
  EXPECT_EQ(fmt("%%%RESPONSE_CODE%%%"), "%200%");
  EXPECT_EQ(fmt(""), "");
  EXPECT_EQ(fmt("plain text"), "plain text");

  char host[HOST_NAME_MAX + 1] = {};
  ASSERT_EQ(::gethostname(host, sizeof(host) - 1), 0);
  EXPECT_EQ(fmt("%HOSTNAME%"), host);

  info_.upstream_transport_failure_reason = "delayed connect error: 111";
  EXPECT_EQ(fmt("%UPSTREAM_TRANSPORT_FAILURE_REASON%"), "delayed connect error: 111");
  info_.setFlag(http::UpstreamRetryLimitExceeded);
  info_.setFlag(http::UpstreamConnectionFailure);
  EXPECT_EQ(fmt("%RESPONSE_FLAGS%"), "UF,URX");
}

TEST_F(FormatterTest, MissingValuesRenderAsDash) {
  http::StreamInfo empty;
  empty.protocol.clear();
  empty.end_steady = empty.start_steady;
  auto f = Formatter::parse(
      "%RESPONSE_CODE_DETAILS% %UPSTREAM_HOST% %UPSTREAM_CLUSTER% %UPSTREAM_LOCAL_ADDRESS% "
      "%DOWNSTREAM_REMOTE_ADDRESS% %DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT% "
      "%DOWNSTREAM_LOCAL_ADDRESS% %DOWNSTREAM_DIRECT_REMOTE_ADDRESS% %PROTOCOL% %ROUTE_NAME% "
      "%RESPONSE_DURATION% %RESPONSE_TX_DURATION% %REQ(:PATH)% | %RESPONSE_CODE% "
      "%CONNECTION_ID% %UPSTREAM_REQUEST_ATTEMPT_COUNT% %DURATION%");
  ASSERT_TRUE(f.ok()) << f.error();
  EXPECT_EQ(f->format(empty), "- - - - - - - - - - - - - | 0 0 0 0");
}

TEST_F(FormatterTest, ResponseDurationWithoutTx) {
  info_.last_downstream_tx.reset();
  EXPECT_EQ(fmt("%RESPONSE_DURATION% %RESPONSE_TX_DURATION%"), "20 -");
}

TEST_F(FormatterTest, StartTimeFormats) {
  EXPECT_EQ(fmt("%START_TIME%"), "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(fmt("%START_TIME()%"), "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(fmt("%START_TIME(%Y/%m/%d %H:%M:%S)%"), "2024/01/01 00:00:00");
  EXPECT_EQ(fmt("%START_TIME(%H:%M:%S.%3f)%"), "00:00:00.123");
  EXPECT_EQ(fmt("%START_TIME(%6f)%"), "123456");
  EXPECT_EQ(fmt("%START_TIME(%9f)%"), "123456789");
  EXPECT_EQ(fmt("%START_TIME(%f)%"), "123456789");
  EXPECT_EQ(fmt("%START_TIME(%1f)%"), "1");
  EXPECT_EQ(fmt("%START_TIME(%s)%"), "1704067200");
  EXPECT_EQ(fmt("%START_TIME(%s.%3f)%"), "1704067200.123");
  EXPECT_EQ(fmt("%START_TIME(%Y-%m-%dT%H:%M:%E3SZ)%"), "2024-01-01T00:00:00.123Z");
  EXPECT_EQ(fmt("%START_TIME(%E6S)%"), "00.123456");
  EXPECT_EQ(fmt("%START_TIME(%H%%)%"), "00%");
  EXPECT_EQ(fmt("%START_TIME(%a %b %e)%"), "Mon Jan  1");
  EXPECT_EQ(fmt("%START_TIME(%z)%"), "+0000");

  info_.start_time += std::chrono::hours(24 * 366) + 13h + 7min + 9s;
  EXPECT_EQ(fmt("%START_TIME%"), "2025-01-01T13:07:09.123Z");

  // A long strftime result grows the output in place.
  std::string longfmt = "%START_TIME(";
  for (int i = 0; i < 200; ++i)
    longfmt += "%Y";
  longfmt += ")%";
  EXPECT_EQ(fmt(longfmt).size(), 800u);
}

TEST_F(FormatterTest, ParseErrors) {
  EXPECT_EQ(parseError("%FOO%"), "unsupported access log operator '%FOO%'");
  EXPECT_EQ(parseError("x %FOO(bar):3% y"), "unsupported access log operator '%FOO(bar):3%'");
  EXPECT_EQ(parseError("%REQUEST_ID%"), "unsupported access log operator '%REQUEST_ID%'");
  EXPECT_NE(parseError("100%").find("'%' at position 3"), std::string::npos);
  EXPECT_NE(parseError("50% off").find("'%' at position 2"), std::string::npos);
  EXPECT_NE(parseError("%req(x)%").find("'%' at position 0"), std::string::npos);
  EXPECT_NE(parseError("%RESPONSE_CODE").find("'%' at position 0"), std::string::npos);
  EXPECT_NE(parseError("%REQ(x%").find("missing ')'"), std::string::npos);
  EXPECT_NE(parseError("%REQ%").find("needs a parameter"), std::string::npos);
  EXPECT_NE(parseError("%REQ()%").find("needs a parameter"), std::string::npos);
  EXPECT_NE(parseError("%PROTOCOL(x)%").find("does not take parameters"), std::string::npos);
  EXPECT_NE(parseError("%DURATION:3%").find("does not take a length limit"), std::string::npos);
  EXPECT_NE(parseError("%REQ(a?b?c)%").find("more than 1 alternative header"),
            std::string::npos);
  EXPECT_NE(parseError("%REQ(a?)%").find("empty header name"), std::string::npos);
  EXPECT_NE(parseError("%REQ(a):%").find("missing length"), std::string::npos);
  EXPECT_NE(parseError("%REQ(a)x%").find("'%' at position 0"), std::string::npos);
}

TEST_F(FormatterTest, FilterState) {
  info_.filter_state["wasm.user"] = "ann \"a\"";
  EXPECT_EQ(fmt("%FILTER_STATE(wasm.user)%"), R"("ann \"a\"")");
  EXPECT_EQ(fmt("%FILTER_STATE(wasm.user:TYPED)%"), R"("ann \"a\"")");
  EXPECT_EQ(fmt("%FILTER_STATE(wasm.user:PLAIN)%"), "ann \"a\"");
  EXPECT_EQ(fmt("%FILTER_STATE(wasm.user:PLAIN):3%"), "ann");
  EXPECT_EQ(fmt("[%FILTER_STATE(wasm.nope)%]"), "[-]");
  EXPECT_NE(parseError("%FILTER_STATE(k:JSON)%").find("invalid serialization format 'JSON'"),
            std::string::npos);
  EXPECT_NE(parseError("%FILTER_STATE(:PLAIN)%").find("empty key"), std::string::npos);
  auto jf = JsonFormatter::parse({{"u", "%FILTER_STATE(wasm.user)%"},
                                  {"p", "%FILTER_STATE(wasm.user:PLAIN)%"},
                                  {"n", "%FILTER_STATE(wasm.nope)%"}});
  ASSERT_TRUE(jf.ok()) << jf.error();
  EXPECT_EQ(jf->format(info_), R"({"n":null,"p":"ann \"a\"","u":"ann \"a\""})" "\n");
}

TEST(ResponseFlags, ShortCodesInEnvoyOrder) {
  EXPECT_EQ(http::responseFlagsString(0), "-");
  EXPECT_EQ(http::responseFlagsString(http::NoRouteFound), "NR");
  EXPECT_EQ(http::responseFlagsString(http::UpstreamRetryLimitExceeded |
                                      http::UpstreamConnectionFailure),
            "UF,URX");
  EXPECT_EQ(http::responseFlagsString(0xFFFFFFFFu),
            "LH,UH,UT,LR,UR,UF,UC,UO,NR,DI,FI,RL,UAEX,DC,URX,SI,DPE,DT,UPE,NC");
}

// ---- JSON ---------------------------------------------------------------------------------

TEST_F(FormatterTest, JsonTypedValuesAndEscaping) {
  req_.set("user-agent", "curl \"x\"\n\\\x01");
  auto jf = JsonFormatter::parse({
      {"code", "%RESPONSE_CODE%"},
      {"duration", "%DURATION%"},
      {"bytes", "%BYTES_RECEIVED%"},
      {"host", "%UPSTREAM_HOST%"},
      {"method", "%REQ(:METHOD)%"},
      {"missing", "%REQ(X-NOPE)%"},
      {"missing_num", "%REQUEST_DURATION%"},
      {"mixed", "%REQ(:METHOD)% %REQ(X-NOPE)% %RESPONSE_CODE%"},
      {"literal", "hi\"there"},
      {"empty", ""},
      {"empty_header", "%REQ(X-EMPTY)%"},
      {"ua", "%REQ(USER-AGENT)%"},
      {"start", "%START_TIME%"},
      {"flags", "%RESPONSE_FLAGS%"},
      {"k\"ey", "%PROTOCOL%"},
  });
  ASSERT_TRUE(jf.ok()) << jf.error();
  EXPECT_EQ(jf->format(info_),
            R"({"bytes":10,"code":200,"duration":57,"empty":"","empty_header":"",)"
            R"("flags":"-","host":"10.1.2.3:8080","k\"ey":"HTTP/1.1","literal":"hi\"there",)"
            R"("method":"GET","missing":null,"missing_num":null,"mixed":"GET - 200",)"
            R"("start":"2024-01-01T00:00:00.123Z","ua":"curl \"x\"\n\\\u0001"})"
            "\n");
}

TEST_F(FormatterTest, JsonAppendsAndEmptyMap) {
  auto jf = JsonFormatter::parse({});
  ASSERT_TRUE(jf.ok());
  std::string out = "x";
  jf->format(info_, out);
  EXPECT_EQ(out, "x{}\n");
}

TEST(JsonFormatter, ParseErrorNamesTheKey) {
  auto jf = JsonFormatter::parse({{"a", "%RESPONSE_CODE%"}, {"bad", "%NOPE%"}});
  ASSERT_FALSE(jf.ok());
  EXPECT_EQ(jf.error(), "json_format field 'bad': unsupported access log operator '%NOPE%'");
}

} // namespace
} // namespace wasmgate::accesslog
