// execution_env::progress: called from the calling thread only, whole percents rising to 1, at
// most 100 times per call, never changing a result; an exception from it ends the call.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstdint>
#include <random>
#include <stdexcept>
#include <thread>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/metrics/threshold.hpp"
#include "mlr/metrics/top_k.hpp"

namespace {

using index_t = mlr::index_t;

// Records every report and checks the contract as it goes.
struct recorder {
  std::vector<double> seen;
  std::thread::id caller = std::this_thread::get_id();
  bool other_thread = false;

  mlr::execution_env env(unsigned threads) {
    return {threads, [this](double f) {
              other_thread |= std::this_thread::get_id() != caller;
              seen.push_back(f);
            }};
  }
  void check() const {
    CHECK_FALSE(other_thread);
    REQUIRE_FALSE(seen.empty());
    CHECK(seen.size() <= 100);
    CHECK(seen.back() == 1.0);
    for (std::size_t k = 0; k < seen.size(); ++k) {
      CHECK(seen[k] > 0.0);
      if (k != 0) CHECK(seen[k] > seen[k - 1]);
    }
  }
};

struct problem {
  index_t n = 3000, c = 150;  // several 64-class blocks, several row tasks
  std::vector<float> scores;
  std::vector<std::int8_t> labels;
  problem() {
    std::mt19937_64 rng(7);
    std::uniform_real_distribution<float> u(0.f, 1.f);
    for (index_t k = 0; k < n * c; ++k) {
      scores.push_back(std::round(u(rng) * 100.f) / 100.f);
      const float r = u(rng);
      labels.push_back(static_cast<std::int8_t>(r < 0.05f ? 1 : r < 0.08f ? -1 : 0));
    }
  }
  auto s() const { return mlr::make_view(scores.data(), {n, c}); }
  auto y() const { return mlr::make_view(labels.data(), {n, c}); }
};

}  // namespace

TEST_CASE("progress: every AP flavour and average, results unchanged", "[core][execution]") {
  const problem p;
  for (const auto method : {mlr::ap_method::step, mlr::ap_method::ranked, mlr::ap_method::voc_area}) {
    for (const auto average : {mlr::average::macro, mlr::average::micro, mlr::average::samples}) {
      const mlr::ap_options o{.method = method, .average = average};
      const auto plain = mlr::mean_average_precision(p.s(), p.y(), o, {}, {.threads = 1});
      for (const unsigned threads : {1u, 2u, 3u}) {
        recorder rec;
        const auto r = mlr::mean_average_precision(p.s(), p.y(), o, {}, rec.env(threads));
        rec.check();
        CHECK(r.value == plain.value);
        CHECK(r.per_class == plain.per_class);
      }
    }
  }
}

TEST_CASE("progress: top-k and threshold metrics", "[core][execution]") {
  const problem p;
  for (const unsigned threads : {1u, 2u}) {
    recorder a, b;
    const auto t = mlr::top_k(p.s(), p.y(), 3, {}, {}, a.env(threads));
    a.check();
    CHECK(t.precision == mlr::top_k(p.s(), p.y(), 3).precision);
    const auto m = mlr::threshold_metrics(p.s(), p.y(), {}, {}, b.env(threads));
    b.check();
    CHECK(m.of1 == mlr::threshold_metrics(p.s(), p.y()).of1);
  }
}

TEST_CASE("progress: an exception from the hook ends the call", "[core][execution]") {
  const problem p;
  const mlr::execution_env env{2, [](double f) {
                                 if (f >= 0.5) throw std::runtime_error("stop");
                               }};
  CHECK_THROWS_WITH(mlr::mean_average_precision(p.s(), p.y(), {}, {}, env), "stop");
}
