// TagCLIP refinement per image at VOC size: 512 x 384 px, a 24 x 32 grid (N = 768 patches), K = 45
// words (20 classes + 25 background), L = 12 attention maps [L, 1 + N, 1 + N] as the engine
// returns them (class token included).
//   mlr/dmar_local/<type>/threads:<n>   tagclip_dmar + tagclip_local with a reused result and
//       workspace; <n> threads inside the image. Four distinct images are cycled so that one
//       image's maps (28 MB in float) are not simply re-read from cache.
// Inputs: attention rows are softmax rows with planted blocks (a patch attends to its 4 x 4 tile
// and to itself), coarse scores softmax rows over K with planted class rectangles.
// Built with -O3 -march=native; the flags are in the context.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/refine/dmar.hpp"
#include "mlr/refine/local.hpp"

namespace {

using mlr::index_t;

constexpr mlr::patch_grid grid{24, 32};
constexpr index_t N = grid.rows * grid.cols, S = N + 1, K = 45, C = 20, L = 12, images = 4;

// Row-wise softmax of logits: noise, + 2.5 within the query's 4 x 4 tile, + 2 on the diagonal.
template <class T>
std::vector<T> attention(unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<T> a(static_cast<std::size_t>(L * S * S));
  std::vector<double> z(static_cast<std::size_t>(S));
  auto tile = [](index_t p) { return p < 0 ? -1 : (p / grid.cols / 4) * 100 + (p % grid.cols) / 4; };
  for (index_t l = 0; l < L; ++l)
    for (index_t i = 0; i < S; ++i) {
      double mx = -1e300, sum = 0.0;
      for (index_t j = 0; j < S; ++j) {
        double& x = z[static_cast<std::size_t>(j)];
        x = noise(gen) + (i > 0 && j > 0 && tile(i - 1) == tile(j - 1) ? 2.5 : 0.0) + (i == j ? 2.0 : 0.0);
        mx = std::max(mx, x);
      }
      for (double& x : z) sum += (x = std::exp(x - mx));
      for (index_t j = 0; j < S; ++j)
        a[static_cast<std::size_t>((l * S + i) * S + j)] = static_cast<T>(z[static_cast<std::size_t>(j)] / sum);
    }
  return a;
}

// Row-wise softmax over K: noise, + 4 inside a 5 x 6 rectangle for every third word.
template <class T>
std::vector<T> coarse(unsigned seed) {
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<T> p(static_cast<std::size_t>(N * K));
  std::vector<double> z(static_cast<std::size_t>(K));
  for (index_t i = 0; i < N; ++i) {
    const index_t y = i / grid.cols, x = i % grid.cols;
    double mx = -1e300, sum = 0.0;
    for (index_t k = 0; k < K; ++k) {
      const index_t y0 = (k * 7) % grid.rows, x0 = (k * 5) % grid.cols;
      const bool inside = k % 3 == 0 && y >= y0 && y < y0 + 5 && x >= x0 && x < x0 + 6;
      z[static_cast<std::size_t>(k)] = noise(gen) + (inside ? 4.0 : 0.0);
      mx = std::max(mx, z[static_cast<std::size_t>(k)]);
    }
    for (double& v : z) sum += (v = std::exp(v - mx));
    for (index_t k = 0; k < K; ++k)
      p[static_cast<std::size_t>(i * K + k)] = static_cast<T>(z[static_cast<std::size_t>(k)] / sum);
  }
  return p;
}

template <class T>
struct data {
  std::vector<std::vector<T>> attn, scores;
  data() {
    for (index_t b = 0; b < images; ++b) {
      attn.push_back(attention<T>(static_cast<unsigned>(10 + b)));
      scores.push_back(coarse<T>(static_cast<unsigned>(20 + b)));
    }
  }
};

template <class T>
void bm_dmar_local(benchmark::State& state, unsigned threads) {
  static const data<T> d;
  mlr::dmar_workspace ws;
  mlr::dmar_result<T> result;
  mlr::tensor<T, 1> local({C});
  const mlr::execution_env env{.threads = threads};
  index_t b = 0;
  for (auto _ : state) {
    mlr::tagclip_dmar(mlr::make_view(d.attn[static_cast<std::size_t>(b)].data(), {L, S, S}),
                      mlr::make_view(d.scores[static_cast<std::size_t>(b)].data(), {N, K}), grid, result, ws, {}, env);
    mlr::tagclip_local(result.refined, C, local);
    benchmark::DoNotOptimize(local.data());
    b = (b + 1) % images;
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["boxes"] = static_cast<double>(result.boxes.size());
}

}  // namespace

int main(int argc, char** argv) {
  for (unsigned threads : {1u, 2u}) {
    const std::string suffix = "/threads:" + std::to_string(threads);
    benchmark::RegisterBenchmark(("mlr/dmar_local/float" + suffix).c_str(), bm_dmar_local<float>, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("mlr/dmar_local/double" + suffix).c_str(), bm_dmar_local<double>, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime();
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("compile_flags", MLR_BENCH_COMPILE_FLAGS);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

// The whole pipeline on a batch (cwr helper):
//   mlr/tagclip_classify/batch:32/float/threads:<n>   tagclip_classify on 32 images (the four
//       distinct images above, repeated), D = 512, a stub engine returning a fixed feature;
//       result and workspace reused (sized by one untimed call). "per_image" is the wall time
//       per image: phase 1 (coarse scores, DMAR, local scores, CWR plan) with the images in
//       parallel over <n> threads, then the engine's calls and the fusion on the calling thread.
#include "mlr/refine/tagclip.hpp"

namespace {

constexpr index_t pipeline_batch = 32, width = 512;

// Text [K, D]: noise. Tokens [1 + N, D]: noise, plus 0.3 times the text row of the word planted
// where the patch lies (a 5 x 6 rectangle for every third word, as in coarse()): cosines of about
// 0.3 against 0 +- 0.05, CLIP-like gaps (larger ones make float softmax scores subnormal, and
// products on subnormal floats are many times slower).
template <class T>
struct pipeline_data {
  std::vector<T> attn, tokens, text;
  pipeline_data() {
    std::mt19937 gen(31);
    std::normal_distribution<double> noise(0.0, 1.0);
    text.resize(static_cast<std::size_t>(K * width));
    for (T& x : text) x = static_cast<T>(noise(gen));
    const auto map_size = static_cast<std::size_t>(L * S * S), token_size = static_cast<std::size_t>(S * width);
    attn.resize(static_cast<std::size_t>(pipeline_batch) * map_size);
    tokens.resize(static_cast<std::size_t>(pipeline_batch) * token_size);
    for (index_t b = 0; b < images; ++b) {
      const auto a = attention<T>(static_cast<unsigned>(10 + b));
      T* t = tokens.data() + static_cast<std::size_t>(b) * token_size;
      for (index_t i = 0; i < S; ++i) {
        index_t word = -1;
        for (index_t k = 0; k < K && i > 0; k += 3) {
          const index_t y = (i - 1) / grid.cols, x = (i - 1) % grid.cols;
          const index_t y0 = (k * 7 + b) % grid.rows, x0 = (k * 5 + 3 * b) % grid.cols;
          if (y >= y0 && y < y0 + 5 && x >= x0 && x < x0 + 6) word = k;
        }
        for (index_t d = 0; d < width; ++d)
          t[i * width + d] = static_cast<T>(noise(gen) + (word >= 0 ? 0.3 * text[static_cast<std::size_t>(word * width + d)] : 0.0));
      }
      for (index_t copy = b; copy < pipeline_batch; copy += images) {
        std::copy(a.begin(), a.end(), attn.begin() + static_cast<std::ptrdiff_t>(copy) * static_cast<std::ptrdiff_t>(map_size));
        if (copy != b) std::copy(t, t + token_size, tokens.data() + static_cast<std::size_t>(copy) * token_size);
      }
    }
  }
};

template <class T>
void bm_tagclip_classify(benchmark::State& state, unsigned threads) {
  static const pipeline_data<T> d;
  std::vector<T> fixed(static_cast<std::size_t>(width));
  for (index_t k = 0; k < width; ++k) fixed[static_cast<std::size_t>(k)] = d.text[static_cast<std::size_t>(k)];  // word 0
  std::size_t requests = 0;
  auto engine = [&](const mlr::crop_request<T>&, mlr::strided_view<T, 1> feature) {
    ++requests;
    for (index_t k = 0; k < width; ++k) feature(k) = fixed[static_cast<std::size_t>(k)];
  };
  const auto attn = mlr::make_view(d.attn.data(), {pipeline_batch * L, S, S});
  const auto tokens = mlr::make_view(d.tokens.data(), {pipeline_batch, S, width});
  const auto text = mlr::make_view(d.text.data(), {K, width});
  std::vector<mlr::tagclip_result<T>> results;
  mlr::tagclip_workspace ws;
  const mlr::execution_env env{.threads = threads};
  mlr::tagclip_classify(attn, tokens, text, grid, C, engine, results, ws, {}, env);  // sizes results and workspace
  requests = 0;
  for (auto _ : state) {
    mlr::tagclip_classify(attn, tokens, text, grid, C, engine, results, ws, {}, env);
    benchmark::DoNotOptimize(results.data());
  }
  state.SetItemsProcessed(state.iterations() * pipeline_batch);
  state.counters["per_image"] = benchmark::Counter(static_cast<double>(pipeline_batch),
                                                   benchmark::Counter::kIsIterationInvariantRate |
                                                       benchmark::Counter::kInvert);
  state.counters["requests_per_image"] = static_cast<double>(requests) /
                                         static_cast<double>(state.iterations() * pipeline_batch);
}

// Registered before main runs (float only: 32 images of maps take 0.9 GB in float).
const bool pipeline_registered = [] {
  for (unsigned threads : {1u, 2u})
    benchmark::RegisterBenchmark(("mlr/tagclip_classify/batch:32/float/threads:" + std::to_string(threads)).c_str(),
                                 bm_tagclip_classify<float>, threads)
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(3.0);
  return true;
}();

}  // namespace
