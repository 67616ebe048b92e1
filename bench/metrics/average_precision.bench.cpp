// mlr::mean_average_precision (step AP) at protocol shapes, beside the raw loop it replaces: a
// naive per-class "sort every (score, label) pair, then sweep" step AP (bench/support/naive_ap.hpp).
//
// Benchmarks are named  <impl>/<shape>/<dtype>/<average>[/threads:<n>]  with
//   impl     mlr (the library, public entry point, input validation included) or naive (raw loop,
//            single-threaded);
//   shape    VOC (4,952 x 20), COCO (40,137 x 80), NUS-WIDE-GZSL (107,859 x 1,006);
//   dtype    f32 / f64 scores, int8 labels, row-major;
//   average  none (per-class APs only), macro, micro.
// items/s counts matrix entries, bytes/s counts input bytes (scores + int8 labels). Times are
// wall-clock (UseRealTime): mlr runs its own worker threads. Each benchmark reports the mean,
// median and stddev of 3 repetitions, except single calls at NUS-WIDE GZSL where noted.
//
// Data: bench/support/synthetic.hpp (seeded; skewed class priors; imperfect separation; ties).
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "mlr/version.hpp"
#include "support/naive_ap.hpp"
#include "support/shared_data.hpp"
#include "support/synthetic.hpp"

#ifndef MLR_BENCH_COMPILE_FLAGS
#define MLR_BENCH_COMPILE_FLAGS "unknown"
#endif

namespace {

using mlr_bench::data_for;
using mlr_bench::dataset;
using mlr_bench::set_rates;
using mlr_bench::shape;
using mlr_bench::views;

template <class T>
void bm_mlr(benchmark::State& state, shape s, mlr::average avg, unsigned threads) {
  const auto& d = data_for<T>(s);
  const auto [S, Y] = views(d);
  const mlr::ap_options options{.average = avg};
  const mlr::execution_env env{threads};
  double value = 0.0;
  for (auto _ : state) {
    auto r = mlr::mean_average_precision(S, Y, options, {}, env);
    benchmark::DoNotOptimize(r.per_class.data());
    value = avg == mlr::average::none ? r.per_class[0] : r.value;
  }
  set_rates(state, d);
  state.counters["value"] = value;
}

template <class T>
void bm_naive(benchmark::State& state, shape s, mlr::average avg) {
  const auto& d = data_for<T>(s);
  const auto rows = d.dims.rows, cols = d.dims.cols;
  double value = 0.0;
  std::vector<double> per_class;
  for (auto _ : state) {
    if (avg == mlr::average::micro) {
      value = mlr_bench::naive_micro_ap(d.scores.data(), d.labels.data(), d.entries());
    } else {
      per_class = mlr_bench::naive_per_class_ap(d.scores.data(), d.labels.data(), rows, cols);
      value = avg == mlr::average::macro ? mlr_bench::naive_macro(per_class) : per_class[0];
    }
    benchmark::DoNotOptimize(value);
  }
  set_rates(state, d);
  state.counters["value"] = value;
  // The baseline must compute what the library computes (outside the timed loop).
  const auto [S, Y] = views(d);
  const auto r = mlr::mean_average_precision(S, Y, {.average = avg});
  double diff = std::abs((avg == mlr::average::none ? r.per_class[0] : r.value) - value);
  for (std::size_t c = 0; c < per_class.size(); ++c)
    if (!(std::isnan(per_class[c]) && std::isnan(r.per_class[c])))
      diff = std::max(diff, std::abs(per_class[c] - r.per_class[c]));
  state.counters["max_abs_diff_vs_mlr"] = diff;
  if (!(diff <= 1e-9)) state.SkipWithError("naive baseline and mlr disagree");
}

std::string avg_name(mlr::average a) { return std::string(mlr::to_string(a)); }

// Each benchmark is repeated 3 times and reported as mean / median / stddev (the machine this
// runs on is shared: read the median). At NUS-WIDE GZSL one call is one iteration.
template <class T>
void register_shape(const shape& s) {
  const std::string dtype = sizeof(T) == 4 ? "f32" : "f64";
  const bool big = s.rows * s.cols > 50'000'000;
  auto configure = [big](benchmark::internal::Benchmark* b, int repetitions) {
    b->UseRealTime()->Unit(benchmark::kMillisecond);
    if (big) b->Iterations(1);
    if (repetitions > 1) b->Repetitions(repetitions)->ReportAggregatesOnly(true);
  };
  // none = the per-class kernel alone (1 thread: it costs what macro costs); macro and micro at
  // 1 and 2 threads.
  const std::pair<mlr::average, unsigned> runs[] = {{mlr::average::none, 1u},  {mlr::average::macro, 1u},
                                                    {mlr::average::macro, 2u}, {mlr::average::micro, 1u},
                                                    {mlr::average::micro, 2u}};
  for (const auto& [avg, threads] : runs) {
    const std::string name = "mlr/" + std::string(s.name) + "/" + dtype + "/" + avg_name(avg) +
                             "/threads:" + std::to_string(threads);
    configure(benchmark::RegisterBenchmark(name.c_str(), bm_mlr<T>, s, avg, threads),
              big && avg == mlr::average::micro ? 1 : 3);
  }
  // The raw loop, single-threaded: macro everywhere but at NUS-WIDE GZSL in float64 (about 12 s
  // a call, and the float32 row says the same), micro where one sort of every entry stays
  // affordable (not NUS-WIDE GZSL: 108 M pairs).
  for (mlr::average avg : {mlr::average::macro, mlr::average::micro}) {
    if (big && (avg == mlr::average::micro || sizeof(T) == 8)) continue;
    const std::string name = "naive/" + std::string(s.name) + "/" + dtype + "/" + avg_name(avg);
    configure(benchmark::RegisterBenchmark(name.c_str(), bm_naive<T>, s, avg), big ? 1 : 3);
  }
}

}  // namespace

int main(int argc, char** argv) {
  for (const shape& s : mlr_bench::all_shapes) {
    register_shape<float>(s);
    register_shape<double>(s);
  }
  benchmark::AddCustomContext("mlr_version", std::to_string(mlr::version_major) + "." +
                                                 std::to_string(mlr::version_minor) + "." +
                                                 std::to_string(mlr::version_patch));
  benchmark::AddCustomContext("compile_flags", MLR_BENCH_COMPILE_FLAGS);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
