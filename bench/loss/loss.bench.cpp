// The losses, forward and backward in one call, beside raw loops:
//   ranking_loss (O(C log C) per image) vs the O(C^2) pair loop of the definition (every class
//   pair, masks as in MKT/BiAM's code), at MKT's NUS-WIDE shape (B = 64, C = 925) with realistic
//   labels (a few positives per image) and with balanced labels;
//   asl_loss and asl_dual_loss (value + gradient) at DualCoOp's COCO shape (B = 32, C = 80) and
//   larger; l1_distillation at MKT's (B = 64, D = 512).
// bench/loss/compare_loss.py runs this binary and the torch eager equivalents in the same run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/loss.hpp"

namespace {

using mlr::index_t;

template <class T>
std::vector<T> uniform(index_t n, double lo, double hi, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(lo, hi);
  std::vector<T> v(static_cast<std::size_t>(n));
  for (auto& x : v) x = static_cast<T>(u(rng));
  return v;
}

// Signed labels: positive with probability `positive`, 2% unknown, the rest negative.
std::vector<std::int8_t> signed_labels(index_t n, double positive, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::int8_t> y(static_cast<std::size_t>(n));
  for (auto& v : y) {
    const double r = u(rng);
    v = r < positive ? 1 : r < positive + 0.02 ? 0 : -1;
  }
  return y;
}

std::vector<std::int8_t> canonical_labels(index_t n, std::uint32_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<std::int8_t> y(static_cast<std::size_t>(n));
  for (auto& v : y) {
    const double r = u(rng);
    v = r < 0.05 ? 1 : r < 0.1 ? -1 : 0;
  }
  return y;
}

// range(0): positives in 1/1000 (mkt: ~3 of 925 per image, NUS-WIDE-like) or 500/1000 (balanced)
double positive_rate(const benchmark::State& state) { return static_cast<double>(state.range(2)) / 1000.0; }

template <class T>
void BM_ranking_loss(benchmark::State& state) {
  const index_t B = state.range(0), C = state.range(1);
  const auto s = uniform<T>(B * C, -1, 1, 1);
  const auto y = signed_labels(B * C, positive_rate(state), 2);
  std::vector<T> g(s.size());
  mlr::ranking_workspace ws;
  const mlr::execution_env env{.threads = 1};
  for (auto _ : state) {
    double v = mlr::ranking_loss(mlr::make_view(s.data(), {B, C}), mlr::make_view(y.data(), {B, C}),
                                 mlr::make_view(g.data(), {B, C}), ws, {}, env);
    benchmark::DoNotOptimize(v);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * B);
}

// The definition, O(C^2) per image: every (i, j) class pair, masked as MKT/BiAM's code masks it,
// counts and gradient counts in one branch-free pass; then the normalised gradient.
template <class T>
void BM_ranking_naive(benchmark::State& state) {
  const index_t B = state.range(0), C = state.range(1);
  const auto s = uniform<T>(B * C, -1, 1, 1);
  const auto y = signed_labels(B * C, positive_rate(state), 2);
  std::vector<T> g(s.size()), pos(static_cast<std::size_t>(C)), neg(static_cast<std::size_t>(C));
  std::vector<double> count(static_cast<std::size_t>(C));
  for (auto _ : state) {
    double total = 0;
    for (index_t b = 0; b < B; ++b) {
      const T* row = s.data() + b * C;
      const std::int8_t* lab = y.data() + b * C;
      for (index_t c = 0; c < C; ++c) {
        pos[static_cast<std::size_t>(c)] = lab[c] == 1;
        neg[static_cast<std::size_t>(c)] = lab[c] == -1;
        count[static_cast<std::size_t>(c)] = 0;
      }
      double sum = 0, violating = 0;
      for (index_t i = 0; i < C; ++i) {
        const T ni = neg[static_cast<std::size_t>(i)], a = T(1) + row[i];
        double row_count = 0;
        for (index_t j = 0; j < C; ++j) {
          const T m = ni * pos[static_cast<std::size_t>(j)];
          const T h = m * (a - row[j]);
          const T active = h >= T(0) ? m : T(0);  // the reference's clamp passes gradient at 0
          sum += h > T(0) ? h : T(0);
          violating += h > T(0) ? T(1) : T(0);
          row_count += active;
          count[static_cast<std::size_t>(j)] -= active;
        }
        count[static_cast<std::size_t>(i)] += row_count;
      }
      const double norm = violating + 1e-8;
      total += sum / norm;
      for (index_t c = 0; c < C; ++c)
        g[static_cast<std::size_t>(b * C + c)] = static_cast<T>(count[static_cast<std::size_t>(c)] / norm / static_cast<double>(B));
    }
    benchmark::DoNotOptimize(total);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * B);
}

template <class T>
void BM_asl_loss(benchmark::State& state) {
  const index_t B = state.range(0), C = state.range(1);
  const auto x = uniform<T>(B * C, -12, 12, 3);
  const auto y = canonical_labels(B * C, 4);
  std::vector<T> g(x.size());
  const mlr::execution_env env{.threads = 1};
  for (auto _ : state) {
    double v = mlr::asl_loss(mlr::make_view(x.data(), {B, C}), mlr::make_view(y.data(), {B, C}),
                             mlr::make_view(g.data(), {B, C}), {}, env);
    benchmark::DoNotOptimize(v);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * B * C);
}

template <class T>
void BM_asl_dual_loss(benchmark::State& state) {
  const index_t B = state.range(0), C = state.range(1);
  const auto o = uniform<T>(B * 2 * C, -20, 20, 5);  // 100 · cosine
  const auto y = canonical_labels(B * C, 6);
  std::vector<T> g(o.size());
  const mlr::execution_env env{.threads = 1};
  for (auto _ : state) {
    double v = mlr::asl_dual_loss(mlr::make_view(o.data(), {B, 2, C}), mlr::make_view(y.data(), {B, C}),
                                  mlr::make_view(g.data(), {B, 2, C}), {}, env);
    benchmark::DoNotOptimize(v);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * B * C);
}

template <class T>
void BM_l1_distillation(benchmark::State& state) {
  const index_t B = state.range(0), D = state.range(1);
  const auto s = uniform<T>(B * D, -1, 1, 7), t = uniform<T>(B * D, -1, 1, 8);
  std::vector<T> g(s.size());
  const mlr::execution_env env{.threads = 1};
  for (auto _ : state) {
    double v = mlr::l1_distillation(mlr::make_view(s.data(), {B, D}), mlr::make_view(t.data(), {B, D}),
                                    mlr::make_view(g.data(), {B, D}), {}, env);
    benchmark::DoNotOptimize(v);
    benchmark::ClobberMemory();
  }
  state.SetItemsProcessed(state.iterations() * B * D);
}

void ranking_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "C", "pos_per_mille"})->Args({64, 925, 3})->Args({64, 925, 500})->Unit(benchmark::kMicrosecond);
}
void asl_shapes(benchmark::internal::Benchmark* b) {
  b->ArgNames({"B", "C"})->Args({32, 80})->Args({256, 80})->Args({64, 1006})->Args({256, 7586})
      ->Unit(benchmark::kMicrosecond);
}

}  // namespace

BENCHMARK_TEMPLATE(BM_ranking_loss, float)->Apply(ranking_shapes);
BENCHMARK_TEMPLATE(BM_ranking_loss, double)->Apply(ranking_shapes);
BENCHMARK_TEMPLATE(BM_ranking_naive, float)->Apply(ranking_shapes);
BENCHMARK_TEMPLATE(BM_ranking_naive, double)->Apply(ranking_shapes);
BENCHMARK_TEMPLATE(BM_asl_loss, float)->Apply(asl_shapes);
BENCHMARK_TEMPLATE(BM_asl_loss, double)->Apply(asl_shapes);
BENCHMARK_TEMPLATE(BM_asl_dual_loss, float)->Apply(asl_shapes);
BENCHMARK_TEMPLATE(BM_asl_dual_loss, double)->Apply(asl_shapes);
BENCHMARK_TEMPLATE(BM_l1_distillation, float)->ArgNames({"B", "D"})->Args({64, 512})->Unit(benchmark::kMicrosecond);
BENCHMARK_TEMPLATE(BM_l1_distillation, double)->ArgNames({"B", "D"})->Args({64, 512})->Unit(benchmark::kMicrosecond);

int main(int argc, char** argv) {
#ifdef MLR_BENCH_COMPILE_FLAGS
  benchmark::AddCustomContext("compile_flags", MLR_BENCH_COMPILE_FLAGS);
#endif
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
