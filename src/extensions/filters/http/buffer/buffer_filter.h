#pragma once

// envoy.filters.http.buffer: holds the whole request body before the next filter sees the
// request, and answers 413 when it is larger than max_request_bytes.

#include <cstdint>

#include "http/filter.h"

namespace wasmgate::extensions {

class BufferFilter : public http::StreamDecoderFilter {
public:
  explicit BufferFilter(uint64_t max_request_bytes) : max_(max_request_bytes) {}
  http::FilterHeadersStatus decodeHeaders(http::HeaderMap& headers, bool end_stream) override;
  http::FilterDataStatus decodeData(Buffer& data, bool end_stream) override;
  http::FilterTrailersStatus decodeTrailers(http::HeaderMap&) override {
    return http::FilterTrailersStatus::Continue;
  }
  void setDecoderFilterCallbacks(http::StreamDecoderFilterCallbacks& cb) override {
    callbacks_ = &cb;
    // The filter manager's buffer must hold up to the configured maximum.
    cb.setDecoderBufferLimit(uint32_t(max_));
  }

private:
  void tooLarge();
  uint64_t max_;
  http::StreamDecoderFilterCallbacks* callbacks_ = nullptr;
};

} // namespace wasmgate::extensions
