#pragma once
// Seeded TagCLIP inputs with structure, shared by the pipeline tests: per image, a few foreground
// classes planted as rectangles of patches (the rest split between background words), patch
// tokens pointing at their class's text row plus noise, and L attention maps concentrated on
// patches of the same class, rows normalised over the 1 + N tokens (class token first).
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "mlr/core/view.hpp"
#include "mlr/refine/cwr.hpp"
#include "mlr/refine/grid.hpp"

namespace mlr_test {

using mlr::index_t;

template <class T>
struct tagclip_scene {
  index_t B = 0, L = 0, N = 0, D = 0, K = 0, C = 0;
  mlr::patch_grid grid;
  std::vector<T> attn;    // [B, L, 1 + N, 1 + N]
  std::vector<T> tokens;  // [B, 1 + N, D]
  std::vector<T> text;    // [K, D]

  mlr::strided_view<const T, 3> attn_view() const { return {attn.data(), {B * L, N + 1, N + 1}}; }
  mlr::strided_view<const T, 3> tokens_view() const { return {tokens.data(), {B, N + 1, D}}; }
  mlr::strided_view<const T, 2> text_view() const { return {text.data(), {K, D}}; }
  // Image b alone.
  mlr::strided_view<const T, 3> attn_of(index_t b) const { return {attn.data() + b * L * (N + 1) * (N + 1), {L, N + 1, N + 1}}; }
  mlr::strided_view<const T, 2> tokens_of(index_t b) const { return {tokens.data() + b * (N + 1) * D, {N + 1, D}}; }
};

template <class T>
tagclip_scene<T> make_tagclip_scene(index_t B, mlr::patch_grid grid, index_t K, index_t C, index_t D, index_t L,
                                    unsigned seed) {
  tagclip_scene<T> s{B, L, grid.size(), D, K, C, grid, {}, {}, {}};
  const index_t N = s.N, M = N + 1;
  std::mt19937 gen(seed);
  std::normal_distribution<double> normal(0.0, 1.0);
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  auto pick = [&](index_t n) { return std::min<index_t>(n - 1, static_cast<index_t>(uniform(gen) * static_cast<double>(n))); };
  s.text.resize(static_cast<std::size_t>(K * D));
  for (auto& x : s.text) x = static_cast<T>(normal(gen));
  s.attn.resize(static_cast<std::size_t>(B * L * M * M));
  s.tokens.resize(static_cast<std::size_t>(B * M * D));
  std::vector<index_t> label(static_cast<std::size_t>(N));
  std::vector<double> row(static_cast<std::size_t>(M));
  for (index_t b = 0; b < B; ++b) {
    // Background words in vertical bands, then 1 to 3 foreground rectangles on top.
    for (index_t p = 0; p < N; ++p)
      label[static_cast<std::size_t>(p)] = C + std::min(K - C - 1, (p % grid.cols) * (K - C) / grid.cols);
    const index_t planted = 1 + pick(std::min<index_t>(3, C));
    for (index_t r = 0; r < planted; ++r) {
      const index_t k = pick(C), h = 1 + pick(grid.rows / 2 + 1), w = 1 + pick(grid.cols / 2 + 1);
      const index_t y0 = pick(grid.rows - h + 1), x0 = pick(grid.cols - w + 1);
      for (index_t y = y0; y < y0 + h; ++y)
        for (index_t x = x0; x < x0 + w; ++x) label[static_cast<std::size_t>(y * grid.cols + x)] = k;
    }
    T* tok = s.tokens.data() + b * M * D;
    for (index_t d = 0; d < D; ++d) tok[d] = static_cast<T>(normal(gen));  // class token
    for (index_t p = 0; p < N; ++p)
      for (index_t d = 0; d < D; ++d)
        tok[(1 + p) * D + d] = static_cast<T>(0.25 * s.text[static_cast<std::size_t>(label[static_cast<std::size_t>(p)] * D + d)] +
                                              0.1 * normal(gen));
    for (index_t l = 0; l < L; ++l) {
      const double focus = 2.0 + 6.0 * uniform(gen);  // how strongly layer l keeps to a patch's class
      T* a = s.attn.data() + (b * L + l) * M * M;
      for (index_t i = 0; i < M; ++i) {
        double sum = 0.0;
        for (index_t j = 0; j < M; ++j) {
          const bool same = i > 0 && j > 0 && label[static_cast<std::size_t>(i - 1)] == label[static_cast<std::size_t>(j - 1)];
          row[static_cast<std::size_t>(j)] = uniform(gen) * (same ? focus : 1.0) + (i == j ? 2.0 : 0.0);
          sum += row[static_cast<std::size_t>(j)];
        }
        for (index_t j = 0; j < M; ++j) a[i * M + j] = static_cast<T>(row[static_cast<std::size_t>(j)] / sum);
      }
    }
  }
  return s;
}

// A stub engine's class-token feature: the candidate's text row, bent by where its crop lies,
// so that every request gets its own global scores.
template <class T>
void stub_feature(const tagclip_scene<T>& s, const mlr::crop_request<T>& r, mlr::strided_view<T, 1> feature) {
  for (index_t d = 0; d < s.D; ++d)
    feature(d) = static_cast<T>(0.05 * s.text[static_cast<std::size_t>(r.class_index * s.D + d)] +
                                0.01 * std::sin(static_cast<double>(d + r.box.x0 + 3 * r.box.y1)));
}

}  // namespace mlr_test
