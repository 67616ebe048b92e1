// mlr::top_k, mlr::threshold_metrics and mlr::label_ranking_average_precision at protocol shapes,
// each beside the raw loop a user would otherwise write (single-threaded): a full std::sort of
// every row for top-k, a per-entry count for the threshold metrics (absolute threshold; the
// relative one, TagCLIP's, is benchmarked for mlr only), the definition of LRAP
// (one pass over the row per relevant label) -- and the read floor, a pass that only reads every input byte.
// Named <impl>/<metric>/<shape>[/threads:<n>]; items/s counts matrix entries, bytes/s input bytes
// (float32 scores + int8 labels). Data: bench/support/synthetic.hpp.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <bit>
#include <cstdint>
#include <numeric>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/metrics/lrap.hpp"
#include "mlr/metrics/threshold.hpp"
#include "mlr/metrics/top_k.hpp"
#include "support/shared_data.hpp"
#include "support/synthetic.hpp"

namespace {

using mlr_bench::data_for;
using mlr_bench::set_rates;
using mlr_bench::shape;
using mlr_bench::views;

void bm_top_k(benchmark::State& state, shape s, unsigned threads) {
  const auto& d = data_for<float>(s);
  const auto [S, Y] = views(d);
  for (auto _ : state) benchmark::DoNotOptimize(mlr::top_k(S, Y, 3, {}, {}, {.threads = threads}).f1);
  set_rates(state, d);
}

void bm_threshold(benchmark::State& state, shape s, unsigned threads, mlr::threshold_options o) {
  const auto& d = data_for<float>(s);
  const auto [S, Y] = views(d);
  for (auto _ : state) benchmark::DoNotOptimize(mlr::threshold_metrics(S, Y, o, {}, {.threads = threads}).of1);
  set_rates(state, d);
}

void bm_lrap(benchmark::State& state, shape s, unsigned threads) {
  const auto& d = data_for<float>(s);
  const auto [S, Y] = views(d);
  for (auto _ : state)
    benchmark::DoNotOptimize(mlr::label_ranking_average_precision(S, Y, mlr::label_encoding::canonical, {}, {.threads = threads}));
  set_rates(state, d);
}

// The read floor: every input byte read once and folded into a checksum, nothing else; split
// into row ranges over `threads` threads like mlr's tasks. What "at memory bandwidth" means here.
void bm_read_floor(benchmark::State& state, shape s, unsigned threads) {
  const auto& d = data_for<float>(s);
  const std::size_t parts = 64;
  std::vector<std::uint64_t> folded(parts);
  for (auto _ : state) {
    mlr::detail::parallel_for(parts, threads, [&](std::size_t part, unsigned) {
      const std::size_t begin = d.entries() * part / parts, end = d.entries() * (part + 1) / parts;
      std::uint32_t a = 0;
      std::uint8_t b = 0;
      for (std::size_t e = begin; e < end; ++e) a ^= std::bit_cast<std::uint32_t>(d.scores[e]);
      for (std::size_t e = begin; e < end; ++e) b ^= static_cast<std::uint8_t>(d.labels[e]);
      folded[part] = a ^ b;
    });
    benchmark::DoNotOptimize(folded.data());
  }
  set_rates(state, d);
}

// Raw loops: no validation, no ignored labels (the synthetic labels are 1 / 0).
void bm_naive_top_k(benchmark::State& state, shape s) {
  const auto& d = data_for<float>(s);
  const auto c = static_cast<std::size_t>(d.dims.cols);
  std::vector<std::size_t> order(c);
  for (auto _ : state) {
    std::int64_t tp = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(d.dims.rows); ++i) {
      const float* row = d.scores.data() + i * c;
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
      for (std::size_t q = 0; q < std::min<std::size_t>(3, c); ++q) tp += d.labels[i * c + order[q]] == 1;
    }
    benchmark::DoNotOptimize(tp);
  }
  set_rates(state, d);
}

void bm_naive_threshold(benchmark::State& state, shape s) {
  const auto& d = data_for<float>(s);
  const auto c = static_cast<std::size_t>(d.dims.cols);
  std::vector<std::int64_t> tp(c), predicted(c), positives(c);
  for (auto _ : state) {
    std::fill(tp.begin(), tp.end(), 0);
    std::fill(predicted.begin(), predicted.end(), 0);
    std::fill(positives.begin(), positives.end(), 0);
    for (std::size_t e = 0; e < d.entries(); ++e) {
      const bool p = d.scores[e] > 0.5f, y = d.labels[e] == 1;
      tp[e % c] += p && y;
      predicted[e % c] += p;
      positives[e % c] += y;
    }
    benchmark::DoNotOptimize(tp.data());
  }
  set_rates(state, d);
}

void bm_naive_lrap(benchmark::State& state, shape s) {
  const auto& d = data_for<float>(s);
  const auto c = static_cast<std::size_t>(d.dims.cols);
  for (auto _ : state) {
    double sum = 0;
    for (std::size_t i = 0; i < static_cast<std::size_t>(d.dims.rows); ++i) {
      const float* row = d.scores.data() + i * c;
      const std::int8_t* y = d.labels.data() + i * c;
      double sample = 0;
      std::size_t relevant = 0;
      for (std::size_t j = 0; j < c; ++j) {
        if (y[j] != 1) continue;
        ++relevant;
        std::size_t above = 0, relevant_above = 0;
        for (std::size_t k = 0; k < c; ++k)
          if (row[k] >= row[j]) {
            ++above;
            relevant_above += y[k] == 1;
          }
        sample += static_cast<double>(relevant_above) / static_cast<double>(above);
      }
      sum += relevant == 0 || relevant == c ? 1.0 : sample / static_cast<double>(relevant);
    }
    benchmark::DoNotOptimize(sum);
  }
  set_rates(state, d);
}

void register_all() {
  for (const shape& s : {mlr_bench::coco, mlr_bench::nus_gzsl}) {
    const std::string shape_name(s.name);
    for (unsigned threads : {1u, 2u}) {
      const std::string suffix = "/" + shape_name + "/threads:" + std::to_string(threads);
      benchmark::RegisterBenchmark(("mlr/top_k" + suffix).c_str(), bm_top_k, s, threads)->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("mlr/threshold" + suffix).c_str(), bm_threshold, s, threads, mlr::threshold_options{})->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("mlr/threshold_relative" + suffix).c_str(), bm_threshold, s, threads,
                                   mlr::threshold_options{.kind = mlr::threshold_kind::relative})->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("mlr/lrap" + suffix).c_str(), bm_lrap, s, threads)->UseRealTime()->Unit(benchmark::kMillisecond);
      benchmark::RegisterBenchmark(("floor/read" + suffix).c_str(), bm_read_floor, s, threads)->UseRealTime()->Unit(benchmark::kMillisecond);
    }
    benchmark::RegisterBenchmark(("naive/top_k/" + shape_name).c_str(), bm_naive_top_k, s)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("naive/threshold/" + shape_name).c_str(), bm_naive_threshold, s)->UseRealTime()->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark(("naive/lrap/" + shape_name).c_str(), bm_naive_lrap, s)->UseRealTime()->Unit(benchmark::kMillisecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_all();
  benchmark::AddCustomContext("compile_flags", MLR_BENCH_COMPILE_FLAGS);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
