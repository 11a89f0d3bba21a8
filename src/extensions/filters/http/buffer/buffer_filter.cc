#include "extensions/filters/http/buffer/buffer_filter.h"

#include <charconv>

namespace wasmgate::extensions {

void BufferFilter::tooLarge() {
  callbacks_->sendLocalReply(413, "Payload Too Large", nullptr, "request_payload_too_large");
}

http::FilterHeadersStatus BufferFilter::decodeHeaders(http::HeaderMap& headers, bool end_stream) {
  if (end_stream)
    return http::FilterHeadersStatus::Continue;
  // A declared length over the limit is refused before any body is read.
  if (const std::string* cl = headers.get("content-length")) {
    uint64_t n = 0;
    auto r = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (r.ec == std::errc() && n > max_) {
      tooLarge();
      return http::FilterHeadersStatus::StopIteration;
    }
  }
  return http::FilterHeadersStatus::StopIteration;
}

http::FilterDataStatus BufferFilter::decodeData(Buffer&, bool end_stream) {
  // The filter manager keeps the body and answers 413 past the limit set above.
  return end_stream ? http::FilterDataStatus::Continue : http::FilterDataStatus::StopIterationAndBuffer;
}

} // namespace wasmgate::extensions
