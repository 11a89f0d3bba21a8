// FilterIterator on its own: scripted filters record every call, a recording sink stands in for
// the codec. Expectations follow Envoy's filter-manager semantics (envoy/http/filter.h).

#include "http/filter_iterator.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <deque>
#include <functional>
#include <new>
#include <string>
#include <vector>

// Counts heap allocations made on this thread while a test asks for it (AllocationCounter).
namespace {
thread_local bool g_count_allocations = false;
thread_local size_t g_allocations = 0;
} // namespace

void* operator new(std::size_t n) {
  if (g_count_allocations)
    ++g_allocations;
  if (void* p = std::malloc(n ? n : 1))
    return p;
  throw std::bad_alloc();
}
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  if (g_count_allocations)
    ++g_allocations;
  return std::malloc(n ? n : 1);
}
void* operator new[](std::size_t n) { return operator new(n); }
void* operator new[](std::size_t n, const std::nothrow_t& t) noexcept { return operator new(n, t); }
// Every non-aligned form is replaced, so new/delete pairs always meet the same allocator (the
// sanitizer build checks that).
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace wasmgate::http {
namespace {

struct AllocationCounter {
  AllocationCounter() {
    g_allocations = 0;
    g_count_allocations = true;
  }
  ~AllocationCounter() { g_count_allocations = false; }
  size_t count() const { return g_allocations; }
};

using HS = FilterHeadersStatus;
using DS = FilterDataStatus;
using TS = FilterTrailersStatus;
using Log = std::vector<std::string>;

// One filter: statuses to return, in order (Continue once a queue is empty), plus optional
// actions run inside the callback before the status is returned.
struct ScriptedFilter {
  std::deque<HS> headers;
  std::deque<DS> data;
  std::deque<TS> trailers;
  std::function<void(HeaderMap&)> on_headers;
  std::function<void(Buffer&, bool)> on_data;
  std::function<void(HeaderMap&)> on_trailers;
};

template <class T> T pop(std::deque<T>& q) {
  if (q.empty())
    return T::Continue;
  T v = q.front();
  q.pop_front();
  return v;
}

// Log entries: "H1" headers at filter 1, "D0:ab!" data "ab" with end_stream at filter 0,
// "T2" trailers, and "sH" / "sD:..." / "sT" for the sink.
struct TestAdapter {
  std::vector<ScriptedFilter> f;
  Log log;
  bool local_reply = false;
  size_t limit = 1 << 20;
  int overflows = 0;
  std::vector<bool> watermarks;
  std::vector<std::string> sink_header_values; // "x-test" as the sink saw it

  size_t size() const { return f.size(); }
  FilterHeadersStatus headers(size_t i, HeaderMap& h, bool end) {
    log.push_back("H" + std::to_string(i) + (end ? "!" : ""));
    if (f[i].on_headers)
      f[i].on_headers(h);
    return pop(f[i].headers);
  }
  FilterDataStatus data(size_t i, Buffer& d, bool end) {
    log.push_back("D" + std::to_string(i) + ":" + std::string(d.view()) + (end ? "!" : ""));
    if (f[i].on_data)
      f[i].on_data(d, end);
    return pop(f[i].data);
  }
  FilterTrailersStatus trailers(size_t i, HeaderMap& t) {
    log.push_back("T" + std::to_string(i));
    if (f[i].on_trailers)
      f[i].on_trailers(t);
    return pop(f[i].trailers);
  }
  void sinkHeaders(HeaderMap& h, bool end) {
    log.push_back(std::string("sH") + (end ? "!" : ""));
    sink_header_values.push_back(std::string(h.getView("x-test")));
  }
  void sinkData(Buffer& d, bool end) {
    log.push_back("sD:" + std::string(d.view()) + (end ? "!" : ""));
    d.clear();
  }
  void sinkTrailers(HeaderMap&) { log.push_back("sT"); }
  bool stopped() const { return local_reply; }
  void onBufferOverflow() { ++overflows; }
  void onBufferWatermark(bool above) { watermarks.push_back(above); }
  size_t bufferLimit() const { return limit; }
};

// The adapter, the iterator and drivers; a plain struct so a test can run several of them.
struct Harness {
  Harness() { it.setHeaders(&headers_); }

  void filters(size_t n) { a.f.resize(n); }
  ScriptedFilter& f(size_t i) { return a.f[i]; }
  void headers(bool end) { it.onHeaders(end); }
  void data(std::string_view s, bool end) {
    Buffer b;
    b.append(s);
    it.onData(b, end);
  }
  void trailers() { it.onTrailers(trailers_); }
  // Returns and clears the calls made since the last take().
  Log take() {
    Log out;
    out.swap(a.log);
    return out;
  }
  std::string buffered() {
    Buffer* b = it.bufferedBody();
    return b ? std::string(b->view()) : std::string("<none>");
  }
  // How many times the sink saw the end of the stream (end_stream flag or trailers).
  int sinkEnds(const Log& l) {
    return int(std::count_if(l.begin(), l.end(), [](const std::string& e) {
      return e == "sT" || (e.rfind("s", 0) == 0 && e.back() == '!');
    }));
  }

  TestAdapter a;
  HeaderMap headers_;
  HeaderMap trailers_;
  FilterIterator<TestAdapter> it{a};
};

class FilterIteratorTest : public ::testing::Test, public Harness {};

// ---- no stops ---------------------------------------------------------------------------------

TEST_F(FilterIteratorTest, HeadersOnlyRequestEndsAtHeaders) {
  filters(2);
  headers(true);
  EXPECT_EQ(take(), (Log{"H0!", "H1!", "sH!"}));
  EXPECT_TRUE(it.headersSent());
  EXPECT_FALSE(it.isStopped());
}

TEST_F(FilterIteratorTest, BodyStreamsThroughAndLastChunkCarriesEnd) {
  filters(2);
  headers(false);
  EXPECT_EQ(take(), (Log{"H0", "H1", "sH"}));
  data("a", false);
  EXPECT_EQ(take(), (Log{"D0:a", "D1:a", "sD:a"}));
  data("b", true);
  EXPECT_EQ(take(), (Log{"D0:b!", "D1:b!", "sD:b!"}));
  EXPECT_EQ(it.bufferedBody(), nullptr);
}

TEST_F(FilterIteratorTest, NoFiltersGoesStraightToSink) {
  filters(0);
  headers(false);
  data("x", true);
  EXPECT_EQ(take(), (Log{"sH", "sD:x!"}));
}

TEST_F(FilterIteratorTest, MutationsAreSeenDownstream) {
  filters(2);
  f(0).on_headers = [](HeaderMap& h) { h.set("x-test", "from-0"); };
  f(0).on_data = [](Buffer& b, bool) {
    std::string up(b.view());
    for (char& c : up)
      c = char(std::toupper(static_cast<unsigned char>(c)));
    b.clear();
    b.append(up);
  };
  headers(false);
  data("abc", true);
  EXPECT_EQ(take(), (Log{"H0", "H1", "sH", "D0:abc!", "D1:ABC!", "sD:ABC!"}));
  EXPECT_EQ(a.sink_header_values, (std::vector<std::string>{"from-0"}));
}

// ---- headers StopIteration ----------------------------------------------------------------------

TEST_F(FilterIteratorTest, HeadersStopIterationDataStillReachesStoppingFilterThenContinueFromData) {
  filters(3);
  f(1).headers = {HS::StopIteration};
  f(1).data = {DS::StopIterationAndBuffer, DS::Continue};
  headers(false);
  EXPECT_EQ(take(), (Log{"H0", "H1"}));
  EXPECT_TRUE(it.isStopped());
  data("a", false);
  EXPECT_EQ(take(), (Log{"D0:a", "D1:a"}));
  // f1 sees the whole buffer, continues: headers (not end: data follows), then the body.
  data("b", true);
  EXPECT_EQ(take(), (Log{"D0:b!", "D1:ab!", "H2", "sH", "D2:ab!", "sD:ab!"}));
  EXPECT_FALSE(it.isStopped());
}

TEST_F(FilterIteratorTest, HeadersStopIterationContinueOnFirstChunk) {
  filters(3);
  f(1).headers = {HS::StopIteration};
  headers(false);
  data("a", false);
  EXPECT_EQ(take(), (Log{"H0", "H1", "D0:a", "D1:a", "H2", "sH", "D2:a", "sD:a"}));
  data("b", true);
  EXPECT_EQ(take(), (Log{"D0:b!", "D1:b!", "D2:b!", "sD:b!"}));
}

TEST_F(FilterIteratorTest, HeadersStopIterationResumedFromOutside) {
  filters(3);
  f(1).headers = {HS::StopIteration};
  f(1).data = {DS::StopIterationAndBuffer, DS::StopIterationAndBuffer};
  headers(false);
  data("a", false);
  data("b", true);
  EXPECT_EQ(take(), (Log{"H0", "H1", "D0:a", "D1:a", "D0:b!", "D1:ab!"}));
  EXPECT_EQ(buffered(), "ab");
  it.resume(1);
  EXPECT_EQ(take(), (Log{"H2", "sH", "D2:ab!", "sD:ab!"}));
  it.resume(1); // already continued: nothing more to deliver
  EXPECT_EQ(take(), Log{});
}

TEST_F(FilterIteratorTest, HeadersOnlyStopThenResumeKeepsEndOnHeaders) {
  filters(3);
  f(1).headers = {HS::StopIteration};
  headers(true);
  EXPECT_EQ(take(), (Log{"H0!", "H1!"}));
  EXPECT_FALSE(it.headersSent());
  it.resume(1);
  EXPECT_EQ(take(), (Log{"H2!", "sH!"}));
  EXPECT_TRUE(it.headersSent());
}

TEST_F(FilterIteratorTest, ResumeOnIndexThatIsNotTheStopPointIsIgnored) {
  filters(3);
  f(1).headers = {HS::StopIteration};
  f(1).data = {DS::StopIterationAndBuffer};
  headers(false);
  data("a", true);
  take();
  it.resume(0);
  it.resume(2);
  it.resume(7);
  EXPECT_EQ(take(), Log{});
  EXPECT_TRUE(it.isStopped());
  it.resume(1);
  EXPECT_EQ(take(), (Log{"H2", "sH", "D2:a!", "sD:a!"}));
}

// ---- StopAllIteration ---------------------------------------------------------------------------

TEST_F(FilterIteratorTest, StopAllBuffersAndStoppingFilterGetsTheBodyFirstOnResume) {
  filters(3);
  f(1).headers = {HS::StopAllIterationAndBuffer};
  headers(false);
  EXPECT_EQ(take(), (Log{"H0", "H1"}));
  // Filters before the stop point already continued: they still see each chunk.
  data("a", false);
  data("b", true);
  EXPECT_EQ(take(), (Log{"D0:a", "D0:b!"}));
  EXPECT_EQ(buffered(), "ab");
  it.resume(1);
  EXPECT_EQ(take(), (Log{"H2", "sH", "D1:ab!", "D2:ab!", "sD:ab!"}));
}

TEST_F(FilterIteratorTest, StopAllAtFirstFilterHoldsEverything) {
  filters(2);
  f(0).headers = {HS::StopAllIterationAndBuffer};
  headers(false);
  data("a", false);
  data("b", true);
  EXPECT_EQ(take(), (Log{"H0"}));
  it.resume(0);
  EXPECT_EQ(take(), (Log{"H1", "sH", "D0:ab!", "D1:ab!", "sD:ab!"}));
}

TEST_F(FilterIteratorTest, StopAllStoppingFilterMayBufferAgainAfterResume) {
  filters(2);
  f(0).headers = {HS::StopAllIterationAndBuffer};
  f(0).data = {DS::StopIterationAndBuffer, DS::Continue};
  headers(false);
  data("a", false);
  it.resume(0);
  EXPECT_EQ(take(), (Log{"H0", "H1", "sH", "D0:a"}));
  data("b", true);
  EXPECT_EQ(take(), (Log{"D0:ab!", "D1:ab!", "sD:ab!"}));
}

TEST_F(FilterIteratorTest, StopAllAndBufferOverflowsOverTheLimit) {
  filters(2);
  a.limit = 4;
  f(1).headers = {HS::StopAllIterationAndBuffer};
  headers(false);
  data("ab", false);
  data("cd", false);
  EXPECT_EQ(a.overflows, 0); // exactly at the limit is fine
  data("e", false);
  EXPECT_EQ(a.overflows, 1);
  EXPECT_TRUE(a.watermarks.empty());
}

TEST_F(FilterIteratorTest, StopAllAndWatermarkAppliesBackPressureInsteadOfError) {
  filters(2);
  a.limit = 4;
  f(1).headers = {HS::StopAllIterationAndWatermark};
  headers(false);
  data("abc", false);
  EXPECT_TRUE(a.watermarks.empty());
  data("de", true);
  EXPECT_EQ(a.overflows, 0);
  EXPECT_EQ(a.watermarks, (std::vector<bool>{true}));
  take();
  it.resume(1);
  EXPECT_EQ(take(), (Log{"sH", "D1:abcde!", "sD:abcde!"}));
  EXPECT_EQ(a.watermarks, (std::vector<bool>{true, false}));
  EXPECT_EQ(a.overflows, 0);
}

// ---- data stops -----------------------------------------------------------------------------------

TEST_F(FilterIteratorTest, DataStopIterationAndBufferShowsTheGrowingBody) {
  filters(2);
  f(0).data = {DS::StopIterationAndBuffer, DS::StopIterationAndBuffer, DS::Continue};
  headers(false);
  take();
  data("a", false);
  EXPECT_EQ(take(), (Log{"D0:a"}));
  EXPECT_EQ(buffered(), "a");
  data("b", false);
  EXPECT_EQ(take(), (Log{"D0:ab"}));
  EXPECT_EQ(buffered(), "ab");
  data("c", true);
  EXPECT_EQ(take(), (Log{"D0:abc!", "D1:abc!", "sD:abc!"}));
  EXPECT_EQ(it.bufferedBody(), nullptr);
}

TEST_F(FilterIteratorTest, DataBufferedThenResumedFromOutside) {
  filters(2);
  f(0).data = {DS::StopIterationAndBuffer, DS::StopIterationAndBuffer};
  headers(false);
  data("a", false);
  data("b", true);
  take();
  it.resume(0);
  EXPECT_EQ(take(), (Log{"D1:ab!", "sD:ab!"}));
}

TEST_F(FilterIteratorTest, DataStopIterationNoBufferKeepsTheChunk) {
  filters(2);
  f(0).data = {DS::StopIterationNoBuffer, DS::Continue};
  headers(false);
  take();
  data("a", false);
  EXPECT_EQ(take(), (Log{"D0:a"}));
  data("b", false);
  // "a" was the filter's to keep: it never reaches the next filter.
  EXPECT_EQ(take(), (Log{"D0:b", "D1:b", "sD:b"}));
}

TEST_F(FilterIteratorTest, NoBufferOnLastChunkStillEndsTheStreamOnResume) {
  filters(2);
  f(0).data = {DS::StopIterationNoBuffer};
  headers(false);
  take();
  data("a", true);
  EXPECT_EQ(take(), (Log{"D0:a!"}));
  it.resume(0);
  Log l = take();
  EXPECT_EQ(l, (Log{"D1:!", "sD:!"}));
  it.resume(0);
  EXPECT_EQ(take(), Log{});
  EXPECT_EQ(sinkEnds(l), 1);
}

TEST_F(FilterIteratorTest, DataBufferOverflowAtTheLimit) {
  filters(2);
  a.limit = 4;
  f(0).data = {DS::StopIterationAndBuffer, DS::StopIterationAndBuffer, DS::StopIterationAndBuffer};
  headers(false);
  data("ab", false);
  data("cd", false);
  EXPECT_EQ(a.overflows, 0);
  data("e", false);
  EXPECT_EQ(a.overflows, 1);
  EXPECT_TRUE(a.watermarks.empty());
  // Reported once: the adapter decides what an overflow does to the stream.
  f(0).data = {DS::StopIterationAndBuffer};
  data("f", false);
  EXPECT_EQ(a.overflows, 1);
}

TEST_F(FilterIteratorTest, DataWatermarkReleasedOnResume) {
  filters(2);
  a.limit = 4;
  f(0).data = {DS::StopIterationAndWatermark, DS::StopIterationAndWatermark};
  headers(false);
  data("abc", false);
  data("de", false);
  EXPECT_EQ(a.watermarks, (std::vector<bool>{true}));
  EXPECT_EQ(a.overflows, 0);
  take();
  it.resume(0);
  EXPECT_EQ(take(), (Log{"D1:abcde", "sD:abcde"}));
  EXPECT_EQ(a.watermarks, (std::vector<bool>{true, false}));
}

TEST_F(FilterIteratorTest, DataWatermarkReleasedWhenFilterContinuesFromData) {
  filters(2);
  a.limit = 4;
  f(0).data = {DS::StopIterationAndWatermark, DS::Continue};
  headers(false);
  data("abcde", false);
  EXPECT_EQ(a.watermarks, (std::vector<bool>{true}));
  take();
  data("f", true);
  EXPECT_EQ(take(), (Log{"D0:abcdef!", "D1:abcdef!", "sD:abcdef!"}));
  // Otherwise the producer stays paused forever.
  EXPECT_EQ(a.watermarks, (std::vector<bool>{true, false}));
}

TEST_F(FilterIteratorTest, LastFilterBufferingHoldsTheSink) {
  filters(2);
  f(1).data = {DS::StopIterationAndBuffer, DS::Continue};
  headers(false);
  take();
  data("a", false);
  EXPECT_EQ(take(), (Log{"D0:a", "D1:a"}));
  data("b", true);
  EXPECT_EQ(take(), (Log{"D0:b!", "D1:ab!", "sD:ab!"}));
}

// The router's pattern: the last filter holds the headers and consumes body and trailers.
TEST_F(FilterIteratorTest, TerminalFilterConsumingEverythingKeepsNothingBuffered) {
  filters(2);
  f(1).headers = {HS::StopIteration};
  f(1).data = {DS::StopIterationNoBuffer, DS::StopIterationNoBuffer, DS::StopIterationNoBuffer};
  f(1).trailers = {TS::StopIteration};
  headers(false);
  data("a", false);
  data("bc", false);
  EXPECT_EQ(it.bufferedBody(), nullptr);
  trailers();
  EXPECT_EQ(take(), (Log{"H0", "H1", "D0:a", "D1:a", "D0:bc", "D1:bc", "T0", "T1"}));
  EXPECT_FALSE(it.headersSent());
}

// ---- trailers -------------------------------------------------------------------------------------

TEST_F(FilterIteratorTest, TrailersEndTheStreamWhenNothingStops) {
  filters(2);
  headers(false);
  data("a", false);
  trailers();
  Log l = take();
  EXPECT_EQ(l, (Log{"H0", "H1", "sH", "D0:a", "D1:a", "sD:a", "T0", "T1", "sT"}));
  EXPECT_EQ(sinkEnds(l), 1);
}

TEST_F(FilterIteratorTest, TrailersReachFiltersUpToTheStoppedOne) {
  filters(3);
  f(1).headers = {HS::StopIteration};
  f(1).data = {DS::StopIterationAndBuffer};
  f(1).trailers = {TS::StopIteration};
  headers(false);
  data("a", false);
  trailers();
  EXPECT_EQ(take(), (Log{"H0", "H1", "D0:a", "D1:a", "T0", "T1"}));
  it.resume(1);
  Log l = take();
  EXPECT_EQ(l, (Log{"H2", "sH", "D2:a", "sD:a", "T2", "sT"}));
  EXPECT_EQ(sinkEnds(l), 1);
}

TEST_F(FilterIteratorTest, ContinueFromTrailersResumesTheStoppedFilter) {
  filters(3);
  f(1).headers = {HS::StopIteration};
  f(1).data = {DS::StopIterationAndBuffer};
  headers(false);
  data("a", false);
  take();
  trailers();
  EXPECT_EQ(take(), (Log{"T0", "T1", "H2", "sH", "D2:a", "sD:a", "T2", "sT"}));
  EXPECT_FALSE(it.isStopped());
}

TEST_F(FilterIteratorTest, TrailersWaitBeforeStopAllFilter) {
  filters(3);
  f(1).headers = {HS::StopAllIterationAndBuffer};
  headers(false);
  data("a", false);
  trailers();
  EXPECT_EQ(take(), (Log{"H0", "H1", "D0:a", "T0"}));
  it.resume(1);
  EXPECT_EQ(take(), (Log{"H2", "sH", "D1:a", "D2:a", "sD:a", "T1", "T2", "sT"}));
}

TEST_F(FilterIteratorTest, TrailersStoppedByALaterFilterThenResumed) {
  filters(3);
  f(1).trailers = {TS::StopIteration};
  headers(false);
  data("a", false);
  trailers();
  EXPECT_EQ(take(), (Log{"H0", "H1", "H2", "sH", "D0:a", "D1:a", "D2:a", "sD:a", "T0", "T1"}));
  it.resume(1);
  EXPECT_EQ(take(), (Log{"T2", "sT"}));
}

TEST_F(FilterIteratorTest, TrailersWithoutBody) {
  filters(2);
  f(0).headers = {HS::StopIteration};
  headers(false);
  trailers();
  // The stopped filter's Continue from trailers releases the headers (not end: trailers follow).
  EXPECT_EQ(take(), (Log{"H0", "T0", "H1", "sH", "T1", "sT"}));
}

TEST_F(FilterIteratorTest, TrailersAddedFromLastDataCallbackFollowTheData) {
  filters(3);
  HeaderMap added;
  f(0).on_data = [&](Buffer&, bool end) {
    if (end)
      it.setTrailers(&added);
  };
  headers(false);
  take();
  data("a", true);
  // Later filters see the data without end_stream, then the new trailers end the stream.
  Log l = take();
  EXPECT_EQ(l, (Log{"D0:a!", "D1:a", "D2:a", "sD:a", "T1", "T2", "sT"}));
  EXPECT_EQ(sinkEnds(l), 1);
}

// ---- several stops ----------------------------------------------------------------------------------

TEST_F(FilterIteratorTest, TwoFiltersStopHeadersOneAfterAnother) {
  filters(3);
  f(0).headers = {HS::StopIteration};
  f(1).headers = {HS::StopIteration};
  headers(true);
  EXPECT_EQ(take(), (Log{"H0!"}));
  it.resume(1); // not stopped yet: ignored
  EXPECT_EQ(take(), Log{});
  it.resume(0);
  EXPECT_EQ(take(), (Log{"H1!"}));
  it.resume(0);
  EXPECT_EQ(take(), Log{});
  it.resume(1);
  EXPECT_EQ(take(), (Log{"H2!", "sH!"}));
}

TEST_F(FilterIteratorTest, BodyHeldByFirstStopReachesTheSecondStoppingFilter) {
  filters(3);
  f(0).headers = {HS::StopIteration};
  f(0).data = {DS::StopIterationAndBuffer};
  f(1).headers = {HS::StopIteration};
  f(1).data = {DS::StopIterationAndBuffer};
  headers(false);
  data("a", true);
  EXPECT_EQ(take(), (Log{"H0", "D0:a!"}));
  it.resume(0);
  // f1 stops on headers, but (StopIteration) still gets the body.
  EXPECT_EQ(take(), (Log{"H1", "D1:a!"}));
  it.resume(1);
  EXPECT_EQ(take(), (Log{"H2", "sH", "D2:a!", "sD:a!"}));
}

TEST_F(FilterIteratorTest, StopAllThenLaterStopIterationStillDeliversBodyInOrder) {
  filters(3);
  f(0).headers = {HS::StopAllIterationAndBuffer};
  f(2).headers = {HS::StopIteration};
  f(2).data = {DS::StopIterationAndBuffer};
  headers(false);
  data("a", true);
  EXPECT_EQ(take(), (Log{"H0"}));
  it.resume(0);
  EXPECT_EQ(take(), (Log{"H1", "H2", "D0:a!", "D1:a!", "D2:a!"}));
  it.resume(2);
  EXPECT_EQ(take(), (Log{"sH", "sD:a!"}));
}

TEST_F(FilterIteratorTest, EarlierFilterHoldingDataDoesNotLetBodyOvertakeHeaders) {
  filters(3);
  f(2).headers = {HS::StopIteration};
  f(2).data = {DS::StopIterationAndBuffer, DS::Continue};
  f(0).data = {DS::Continue, DS::StopIterationAndBuffer};
  headers(false);
  data("a", false);
  EXPECT_EQ(take(), (Log{"H0", "H1", "H2", "D0:a", "D1:a", "D2:a"}));
  data("b", true);
  EXPECT_EQ(take(), (Log{"D0:b!"}));
  it.resume(0);
  // f1 sees only the new chunk; f2 its whole buffer; the sink gets headers first.
  EXPECT_EQ(take(), (Log{"D1:b!", "D2:ab!", "sH", "sD:ab!"}));
}

TEST_F(FilterIteratorTest, DataStopsAtTwoFiltersInTurn) {
  filters(3);
  f(0).data = {DS::StopIterationAndBuffer};
  f(1).data = {DS::StopIterationAndBuffer};
  headers(false);
  data("a", true);
  take();
  it.resume(0);
  EXPECT_EQ(take(), (Log{"D1:a!"}));
  EXPECT_EQ(buffered(), "a");
  it.resume(1);
  EXPECT_EQ(take(), (Log{"D2:a!", "sD:a!"}));
}

TEST_F(FilterIteratorTest, AsyncResumeDeliversEverythingPendingInOrder) {
  filters(2);
  f(0).headers = {HS::StopIteration};
  f(0).data = {DS::StopIterationAndBuffer, DS::StopIterationAndBuffer};
  f(0).trailers = {TS::StopIteration};
  headers(false);
  data("a", false);
  data("b", false);
  trailers();
  EXPECT_EQ(take(), (Log{"H0", "D0:a", "D0:ab", "T0"}));
  it.resume(0);
  Log l = take();
  EXPECT_EQ(l, (Log{"H1", "sH", "D1:ab", "sD:ab", "T1", "sT"}));
  EXPECT_EQ(sinkEnds(l), 1);
}

TEST_F(FilterIteratorTest, ContinueCalledInsideOwnCallbackAppliesAfterItReturns) {
  filters(2);
  f(0).headers = {HS::StopIteration};
  f(0).data = {DS::StopIterationAndBuffer};
  f(0).on_data = [&](Buffer&, bool) { it.resume(0); };
  headers(false);
  data("a", true);
  EXPECT_EQ(take(), (Log{"H0", "D0:a!", "H1", "sH", "D1:a!", "sD:a!"}));
}

// ---- allocation-free common path ---------------------------------------------------------------

// Counts calls without recording anything, so the test itself does not allocate.
struct CountingAdapter {
  size_t filters = 3;
  size_t hold_at = SIZE_MAX; // this filter stops headers and consumes the body (router-like)
  size_t calls = 0;
  size_t sunk = 0;
  size_t size() const { return filters; }
  FilterHeadersStatus headers(size_t i, HeaderMap&, bool) {
    ++calls;
    return i == hold_at ? HS::StopIteration : HS::Continue;
  }
  FilterDataStatus data(size_t i, Buffer& d, bool) {
    ++calls;
    if (i == hold_at) {
      d.clear();
      return DS::StopIterationNoBuffer;
    }
    return DS::Continue;
  }
  FilterTrailersStatus trailers(size_t i, HeaderMap&) {
    ++calls;
    return i == hold_at ? TS::StopIteration : TS::Continue;
  }
  void sinkHeaders(HeaderMap&, bool) { ++sunk; }
  void sinkData(Buffer& d, bool) {
    sunk += d.size();
    d.clear();
  }
  void sinkTrailers(HeaderMap&) { ++sunk; }
  bool stopped() const { return false; }
  void onBufferOverflow() {}
  void onBufferWatermark(bool) {}
  size_t bufferLimit() const { return 1 << 20; }
};

TEST(FilterIteratorAllocationTest, StreamingThroughDoesNotAllocate) {
  CountingAdapter a;
  HeaderMap h, t;
  FilterIterator<CountingAdapter> it(a);
  it.setHeaders(&h);
  Buffer chunk;
  chunk.append("warm-up"); // the producer's reusable buffer
  chunk.clear();
  AllocationCounter counter;
  it.onHeaders(false);
  for (int i = 0; i < 100; ++i) {
    chunk.append("0123456");
    it.onData(chunk, false);
  }
  it.onTrailers(t);
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_EQ(a.sunk, 1u + 700u + 1u);
  EXPECT_EQ(a.calls, 3u + 300u + 3u);
}

TEST(FilterIteratorAllocationTest, HeldHeadersWithConsumedBodyDoesNotAllocatePerChunk) {
  CountingAdapter a;
  a.hold_at = 2;
  HeaderMap h;
  FilterIterator<CountingAdapter> it(a);
  it.setHeaders(&h);
  Buffer chunk;
  it.onHeaders(false);
  for (int i = 0; i < 3; ++i) { // warm-up: the first chunks set up reusable state
    chunk.append("0123456");
    it.onData(chunk, false);
  }
  AllocationCounter counter;
  for (int i = 0; i < 100; ++i) {
    chunk.append("0123456");
    it.onData(chunk, false);
  }
  EXPECT_EQ(counter.count(), 0u);
  EXPECT_EQ(a.calls, 3u + 103u * 3u);
  EXPECT_EQ(a.sunk, 0u);
}

// ---- end_stream bookkeeping --------------------------------------------------------------------------

TEST_F(FilterIteratorTest, EndStreamReachesTheSinkExactlyOnce) {
  struct Case {
    const char* name;
    std::function<void(Harness&)> run;
  };
  std::vector<Case> cases = {
      {"headers-only stop", [](Harness& t) {
         t.f(0).headers = {HS::StopIteration};
         t.headers(true);
         t.it.resume(0);
         t.it.resume(0);
       }},
      {"stop all, empty end chunk", [](Harness& t) {
         t.f(1).headers = {HS::StopAllIterationAndBuffer};
         t.headers(false);
         t.data("", true);
         t.it.resume(1);
         t.it.resume(1);
       }},
      {"buffer until end", [](Harness& t) {
         t.f(0).data = {DS::StopIterationAndBuffer, DS::Continue};
         t.headers(false);
         t.data("x", false);
         t.data("y", true);
         t.it.resume(0);
       }},
      {"trailers after stop", [](Harness& t) {
         t.f(1).data = {DS::StopIterationNoBuffer};
         t.headers(false);
         t.data("x", false);
         t.trailers();
         t.it.resume(1);
       }},
  };
  for (auto& c : cases) {
    SCOPED_TRACE(c.name);
    Harness t;
    t.filters(2);
    c.run(t);
    EXPECT_EQ(t.sinkEnds(t.take()), 1);
  }
}

// ---- the stream ends mid-chain (local reply, reset) ------------------------------------------------

TEST_F(FilterIteratorTest, StoppedDuringHeadersStopsEverything) {
  filters(3);
  f(1).on_headers = [&](HeaderMap&) { a.local_reply = true; };
  headers(false);
  data("a", false);
  trailers();
  it.resume(1);
  it.resume(2);
  EXPECT_EQ(take(), (Log{"H0", "H1"}));
}

TEST_F(FilterIteratorTest, StoppedDuringDataStopsEverything) {
  filters(3);
  f(0).data = {DS::StopIterationAndBuffer, DS::Continue};
  f(1).on_data = [&](Buffer&, bool) { a.local_reply = true; };
  headers(false);
  data("a", false);
  data("b", true);
  EXPECT_EQ(take(), (Log{"H0", "H1", "H2", "sH", "D0:a", "D0:ab!", "D1:ab!"}));
  it.resume(0);
  it.resume(1);
  EXPECT_EQ(take(), Log{});
}

TEST_F(FilterIteratorTest, StoppedDuringResumeStopsBeforeTheSink) {
  filters(3);
  f(0).headers = {HS::StopIteration};
  f(2).on_headers = [&](HeaderMap&) { a.local_reply = true; };
  headers(true);
  it.resume(0);
  EXPECT_EQ(take(), (Log{"H0!", "H1!", "H2!"}));
}

TEST_F(FilterIteratorTest, BufferedBodyOnlyWhileSomethingIsHeld) {
  filters(2);
  EXPECT_EQ(it.bufferedBody(), nullptr);
  f(1).headers = {HS::StopAllIterationAndBuffer};
  headers(false);
  data("xy", false);
  ASSERT_NE(it.bufferedBody(), nullptr);
  EXPECT_EQ(buffered(), "xy");
  // A filter may edit the held body before it moves on.
  it.bufferedBody()->append("z");
  it.resume(1);
  EXPECT_EQ(take(), (Log{"H0", "H1", "D0:xy", "sH", "D1:xyz", "sD:xyz"}));
  EXPECT_EQ(it.bufferedBody(), nullptr);
}

} // namespace
} // namespace wasmgate::http
