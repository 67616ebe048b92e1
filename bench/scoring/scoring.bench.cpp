// The scoring pieces at protocol shapes, and mlr's GEMM beside Eigen's on the same products.
//   mlr/dualcoop/<phase>/<type>/threads:<n>   B = 32, L = 197, D = 512, C = 80 (COCO, 448 px):
//       logits (forward), logits+vjp_text (forward, then the gradient w.r.t. both prompt sets
//       reusing the saved maps: what prompt learning needs), logits+vjp_all (also w.r.t. the
//       visual tokens)
//   {mlr,eigen}/gemm/<product>/<type>/threads:<n>   the similarity products of that step, in the
//       head's own operand layouts (see below); counter GFLOPs = achieved GFLOP/s
//   mlr/mkt/<type>/threads:<n>      B = 64, P = 196, D = 512, C = 1,006 (NUS-WIDE GZSL), k = 16
//   mlr/tagclip/<type>/threads:<n>  N = 1,200 patches (COCO 640 x 480), K = 103, D = 512
// Built with -O3 -march=native (and -fopenmp for Eigen's threads); the flags are in the context.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/core/detail/gemm.hpp"
#include "mlr/scoring.hpp"

#if defined(MLR_BENCH_HAS_EIGEN)
#include <Eigen/Core>
#endif

namespace {

using mlr::index_t;

constexpr index_t B = 32, L = 197, D = 512, C = 80;

template <class T>
std::vector<T> features(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> d(0.0, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(d(gen) + 0.1);
  return v;
}

template <class T>
struct dualcoop_data {
  std::vector<T> visual = features<T>(static_cast<std::size_t>(B * L * D), 1);
  std::vector<T> text_neg = features<T>(static_cast<std::size_t>(C * D), 2);
  std::vector<T> text_pos = features<T>(static_cast<std::size_t>(C * D), 3);
  std::vector<T> grad_out = features<T>(static_cast<std::size_t>(B * 2 * C), 4);
};

enum class phase { logits, vjp_text, vjp_all };

template <class T>
void bm_dualcoop(benchmark::State& state, phase p, unsigned threads) {
  static const dualcoop_data<T> d;
  const auto v = mlr::make_view(d.visual.data(), {B, L, D});
  const auto tn = mlr::make_view(d.text_neg.data(), {C, D});
  const auto tp = mlr::make_view(d.text_pos.data(), {C, D});
  const auto g = mlr::make_view(d.grad_out.data(), {B, 2, C});
  mlr::scoring_workspace ws;
  mlr::tensor<T, 3> logits({B, 2, C}), grad_visual({B, L, D});
  mlr::tensor<T, 2> grad_neg({C, D}), grad_pos({C, D});
  const mlr::execution_env env{threads};
  for (auto _ : state) {
    mlr::dualcoop_logits(v, tn, tp, logits, ws, {}, env);
    if (p == phase::vjp_text) mlr::dualcoop_logits_vjp(v, tn, tp, g, grad_neg, grad_pos, mlr::skip, ws, {}, env);
    if (p == phase::vjp_all) mlr::dualcoop_logits_vjp(v, tn, tp, g, grad_neg, grad_pos, grad_visual, ws, {}, env);
    benchmark::DoNotOptimize(logits.data());
    benchmark::ClobberMemory();
  }
}

// The three products of one DualCoOp training step, with the operand layouts the head uses:
//   sim         (B L x D) (D x 2C):  visual [B L, D] row-major times text_hat^T, text_hat [2C, D]
//   grad_text   (2C x B L) (B L x D): G^T, G [B L, 2C] row-major, times visual [B L, D]
//   grad_visual (B L x 2C) (2C x D):  G times text_hat [2C, D]
enum class product { sim, grad_text, grad_visual };
constexpr index_t M = B * L, C2 = 2 * C;

struct product_data {
  index_t m, n, k;
};
constexpr product_data shape_of(product p) {
  return p == product::sim ? product_data{M, C2, D} : p == product::grad_text ? product_data{C2, D, M} : product_data{M, D, C2};
}

template <class T>
struct gemm_inputs {
  std::vector<T> visual = features<T>(static_cast<std::size_t>(M * D), 5);
  std::vector<T> text_hat = features<T>(static_cast<std::size_t>(C2 * D), 6);
  std::vector<T> g = features<T>(static_cast<std::size_t>(M * C2), 7);
};

void set_gflops(benchmark::State& state, product p) {
  const auto s = shape_of(p);
  state.counters["GFLOPs"] = benchmark::Counter(2.0 * static_cast<double>(s.m * s.n * s.k),
                                                benchmark::Counter::kIsIterationInvariantRate,
                                                benchmark::Counter::kIs1000);
}

template <class T>
void bm_gemm_mlr(benchmark::State& state, product p, unsigned threads) {
  static const gemm_inputs<T> in;
  const auto s = shape_of(p);
  std::vector<T> c(static_cast<std::size_t>(s.m * s.n));
  mlr::detail::gemm_workspace<T> ws;
  const auto visual = mlr::make_view(in.visual.data(), {M, D});
  const auto text_hat = mlr::make_view(in.text_hat.data(), {C2, D});
  const auto g = mlr::make_view(in.g.data(), {M, C2});
  using mlr::detail::gemm_operand;
  const auto a = p == product::sim ? gemm_operand(visual) : p == product::grad_text ? gemm_operand(mlr::transpose(g)) : gemm_operand(g);
  const auto b = p == product::sim ? gemm_operand(mlr::transpose(text_hat)) : p == product::grad_text ? gemm_operand(visual) : gemm_operand(text_hat);
  const mlr::detail::gemm_output<T> out{c.data(), {s.m, s.n}, {s.n, 1}};
  for (auto _ : state) {
    mlr::detail::gemm(a, b, out, false, ws, threads);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, p);
}

#if defined(MLR_BENCH_HAS_EIGEN)
template <class T>
void bm_gemm_eigen(benchmark::State& state, product p, unsigned threads) {
  using matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  static const gemm_inputs<T> in;
  const auto s = shape_of(p);
  const Eigen::Map<const matrix> visual(in.visual.data(), M, D), text_hat(in.text_hat.data(), C2, D), g(in.g.data(), M, C2);
  matrix c(s.m, s.n);
  Eigen::setNbThreads(static_cast<int>(threads));
  for (auto _ : state) {
    if (p == product::sim) c.noalias() = visual * text_hat.transpose();
    else if (p == product::grad_text) c.noalias() = g.transpose() * visual;
    else c.noalias() = g * text_hat;
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  set_gflops(state, p);
}
#endif

template <class T>
void bm_mkt(benchmark::State& state, unsigned threads) {
  constexpr index_t b = 64, P = 196, classes = 1006;
  static const auto patches = features<T>(static_cast<std::size_t>(b * P * D), 7);
  static const auto global = features<T>(static_cast<std::size_t>(b * D), 8);
  static const auto emb = features<T>(static_cast<std::size_t>(classes * D), 9);
  mlr::scoring_workspace ws;
  mlr::tensor<T, 2> out({b, classes});
  for (auto _ : state) {
    mlr::mkt_scores(mlr::make_view(patches.data(), {b, P, D}), mlr::make_view(global.data(), {b, D}),
                    mlr::make_view(emb.data(), {classes, D}), out, ws, {.k = 16}, mlr::execution_env{threads});
    benchmark::DoNotOptimize(out.data());
  }
}

template <class T>
void bm_tagclip(benchmark::State& state, unsigned threads) {
  constexpr index_t N = 1200, K = 103;
  static const auto patches = features<T>(static_cast<std::size_t>(N * D), 10);
  static const auto text = features<T>(static_cast<std::size_t>(K * D), 11);
  mlr::scoring_workspace ws;
  mlr::tensor<T, 2> out({N, K});
  for (auto _ : state) {
    mlr::tagclip_coarse(mlr::make_view(patches.data(), {N, D}), mlr::make_view(text.data(), {K, D}), out, ws, {},
                        mlr::execution_env{threads});
    benchmark::DoNotOptimize(out.data());
  }
}

template <class T>
const char* type_name() {
  return sizeof(T) == 4 ? "float32" : "float64";
}

template <class T>
void register_type() {
  for (unsigned threads : {1u, 2u}) {
    const std::string suffix = std::string("/") + type_name<T>() + "/threads:" + std::to_string(threads);
    for (auto [p, name] : {std::pair{phase::logits, "logits"}, std::pair{phase::vjp_text, "logits+vjp_text"},
                           std::pair{phase::vjp_all, "logits+vjp_all"}})
      benchmark::RegisterBenchmark(("mlr/dualcoop/" + std::string(name) + suffix).c_str(), bm_dualcoop<T>, p, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
    for (auto [p, name] : {std::pair{product::sim, "sim"}, std::pair{product::grad_text, "grad_text"},
                           std::pair{product::grad_visual, "grad_visual"}}) {
      benchmark::RegisterBenchmark(("mlr/gemm/" + std::string(name) + suffix).c_str(), bm_gemm_mlr<T>, p, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
#if defined(MLR_BENCH_HAS_EIGEN)
      benchmark::RegisterBenchmark(("eigen/gemm/" + std::string(name) + suffix).c_str(), bm_gemm_eigen<T>, p, threads)
          ->Unit(benchmark::kMillisecond)
          ->UseRealTime();
#endif
    }
    benchmark::RegisterBenchmark(("mlr/mkt" + suffix).c_str(), bm_mkt<T>, threads)->Unit(benchmark::kMillisecond)->UseRealTime();
    benchmark::RegisterBenchmark(("mlr/tagclip" + suffix).c_str(), bm_tagclip<T>, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
}

}  // namespace

int main(int argc, char** argv) {
  register_type<float>();
  register_type<double>();
  benchmark::Initialize(&argc, argv);
#if defined(MLR_BENCH_COMPILE_FLAGS)
  benchmark::AddCustomContext("compile_flags", MLR_BENCH_COMPILE_FLAGS);
#endif
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
