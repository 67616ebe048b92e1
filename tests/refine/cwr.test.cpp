// CWR (METHOD.md 2.8-2.10): the worked vectors of 7.13 and 7.14 (P2 fed directly), the early
// abort in both modes, PyTorch's float32 nearest index rule, relative-threshold labels, what the
// engine receives and returns, workspace reuse, and bad input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/refine/cwr.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using mlr::index_t;
using mlr::patch_box;
using mlr_test::message_contains;

namespace {

// What the engine saw in one request (copied: the views live during the callback only).
template <class T>
struct seen_request {
  index_t image = 0, class_index = 0;
  patch_box box, pixels;
  std::vector<std::uint8_t> token_mask;
  index_t attention_rows = 0, attention_cols = 0;
  std::vector<T> attention_row0;
  bool other_rows_zero = true;
};

// A stub engine returning fixed probabilities for every crop and recording the requests.
template <class T>
struct recording_engine {
  std::vector<T> probabilities;
  std::vector<seen_request<T>> seen;

  void operator()(const mlr::crop_request<T>& r, mlr::strided_view<T, 1> out) {
    seen_request<T> s{r.image, r.class_index, r.box, r.pixels, {}, r.attention_mask.extent(0), r.attention_mask.extent(1), {}, true};
    for (index_t y = 0; y < r.token_mask.extent(0); ++y)
      for (index_t x = 0; x < r.token_mask.extent(1); ++x) s.token_mask.push_back(r.token_mask(y, x));
    for (index_t j = 0; j < r.attention_mask.extent(1); ++j) s.attention_row0.push_back(r.attention_mask(0, j));
    for (index_t i = 1; i < r.attention_mask.extent(0); ++i)
      for (index_t j = 0; j < r.attention_mask.extent(1); ++j) s.other_rows_zero &= r.attention_mask(i, j) == T(0);
    seen.push_back(std::move(s));
    REQUIRE(out.extent(0) == static_cast<index_t>(probabilities.size()));
    for (index_t k = 0; k < out.extent(0); ++k) out(k) = probabilities[static_cast<std::size_t>(k)];
  }
};

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

// The column maxima of the first C columns of p [N, K]: P_local.
template <class T>
std::vector<T> column_max(const std::vector<T>& p, index_t N, index_t K, index_t C) {
  std::vector<T> out(static_cast<std::size_t>(C), -std::numeric_limits<T>::infinity());
  for (index_t i = 0; i < N; ++i)
    for (index_t k = 0; k < C; ++k) out[static_cast<std::size_t>(k)] = std::max(out[static_cast<std::size_t>(k)], p[static_cast<std::size_t>(i * K + k)]);
  return out;
}

long count_zeros(const std::vector<std::uint8_t>& v) { return std::count(v.begin(), v.end(), std::uint8_t{0}); }

}  // namespace

TEST_CASE("CWR region, crop and token mask of METHOD.md 7.13", "[cwr]") {
  // 4 x 6 grid, one class: r = 1 at (1, 2), (1, 3), (2, 4).
  const mlr::patch_grid grid{4, 6};
  std::vector<double> p(24, 0.0);
  p[1 * 6 + 2] = p[1 * 6 + 3] = p[2 * 6 + 4] = 1.0;
  const std::vector<double> local{1.0};
  for (auto mode : {mlr::tagclip_mode::reference, mlr::tagclip_mode::corrected}) {
    recording_engine<double> engine{{0.25}, {}};
    const auto r = mlr::tagclip_reidentify(mlr::make_view(p.data(), {24, 1}), mlr::make_view(local.data(), {1}), grid, 1,
                                           engine, {.mode = mode});
    REQUIRE(r.candidates == std::vector<index_t>{0});
    REQUIRE(r.boxes == std::vector<patch_box>{{2, 1, 5, 3}});  // x1 = 2, y1 = 1, x2 = 5, y2 = 3
    REQUIRE(engine.seen.size() == 1);
    const auto& s = engine.seen[0];
    CHECK(s.pixels == patch_box{32, 16, 80, 48});  // rows [16, 48), columns [32, 80)
    // The crop [[1, 1, 0], [0, 0, 1]] resized to 14 x 14: rows 0-6 are 1 in columns 0-9, rows 7-13 the reverse.
    for (index_t y = 0; y < 14; ++y)
      for (index_t x = 0; x < 14; ++x)
        REQUIRE(s.token_mask[static_cast<std::size_t>(y * 14 + x)] == ((y < 7) == (x < 10) ? 1 : 0));
    CHECK(count_zeros(s.token_mask) == 98);
    CHECK(s.attention_rows == 197);
    CHECK(s.attention_cols == 197);
    CHECK(s.other_rows_zero);
    CHECK(s.attention_row0[0] == 0.0);
    CHECK(std::count(s.attention_row0.begin(), s.attention_row0.end(), -1000.0) == 98);
    for (index_t j = 0; j < 196; ++j)
      CHECK(s.attention_row0[static_cast<std::size_t>(1 + j)] == (s.token_mask[static_cast<std::size_t>(j)] ? 0.0 : -1000.0));
    CHECK(r.reidentified == std::vector<std::uint8_t>{1});
    CHECK(r.final_scores(0) == 0.625);
  }
}

TEST_CASE("nearest resize follows PyTorch's float32 index rule", "[cwr]") {
  const std::vector<index_t> five{0, 0, 0, 1, 1, 1, 2, 2, 2, 3, 3, 3, 4, 4};
  for (index_t d = 0; d < 14; ++d) CHECK(mlr::detail::nearest_source(d, 5, 14) == five[static_cast<std::size_t>(d)]);
  for (index_t in = 1; in <= 61; ++in)
    for (index_t d = 0; d < 14; ++d) REQUIRE(mlr::detail::nearest_source(d, in, 14) == d * in / 14);
  CHECK(mlr::detail::nearest_source(7, 62, 14) == 30);  // the exact rule gives 31
  CHECK(mlr::detail::nearest_source(13, 3, 14) == 2);   // clamped to in - 1 at the end

  // Through the pipeline: a crop 62 patches wide (corrected mode: no end clipping) whose
  // column 31 is responsive and column 30 is not; token column 7 reads column 30.
  const mlr::patch_grid grid{1, 62};
  std::vector<float> p(62, 0.0f);
  p[0] = p[31] = p[61] = 1.0f;
  const std::vector<float> local{1.0f};
  recording_engine<float> engine{{0.5f}, {}};
  mlr::tagclip_reidentify(mlr::make_view(p.data(), {62, 1}), mlr::make_view(local.data(), {1}), grid, 1, engine,
                          {.mode = mlr::tagclip_mode::corrected});
  REQUIRE(engine.seen.size() == 1);
  CHECK(engine.seen[0].box == patch_box{0, 0, 62, 1});
  for (index_t y = 0; y < 14; ++y) {
    CHECK(engine.seen[0].token_mask[static_cast<std::size_t>(y * 14 + 7)] == 0);
    CHECK(engine.seen[0].token_mask[static_cast<std::size_t>(y * 14 + 0)] == 1);
    CHECK(engine.seen[0].token_mask[static_cast<std::size_t>(y * 14 + 13)] == 0);  // d = 13 takes 57
  }
}

TEMPLATE_TEST_CASE("CWR of METHOD.md 7.14 in both modes", "[cwr]", float, double) {
  using T = TestType;
  const double tolerance = sizeof(T) == 4 ? 1e-6 : 1e-12;
  const mlr::patch_grid grid{2, 3};
  const index_t N = 6, K = 3, C = 2;
  recording_engine<T> engine{cast<T>({0.8, 0.3, 0.0}), {}};

  SECTION("reference: P2 of the reference DMAR, candidates {0}") {
    const auto p2 = cast<T>({.39, .06, .12, .32, .06, .1, .12, .04, .04, .21, 0, .06, .12, .04, .04, 0, 0, 0});
    const auto local = column_max(p2, N, K, C);
    const auto r = mlr::tagclip_reidentify(mlr::make_view(p2.data(), {N, K}), mlr::make_view(local.data(), {C}), grid, C,
                                           engine);
    CHECK(r.candidates == std::vector<index_t>{0});
    CHECK(r.boxes == std::vector<patch_box>{{0, 0, 2, 1}});
    CHECK(r.reidentified == std::vector<std::uint8_t>{1});
    CHECK_THAT(r.final_scores(0), WithinAbs(0.595, tolerance));
    CHECK(r.final_scores(1) == local[1]);
    CHECK_THAT(r.final_scores(1), WithinAbs(0.06, tolerance));
    CHECK(r.global_scores.extent(0) == 1);
    CHECK(r.global_scores(0, 0) == T(0.8));
    CHECK(r.labels(0) == 1);
    CHECK(r.labels(1) == 0);
  }
  SECTION("corrected: P2 of the corrected DMAR, candidates {0, 1}") {
    const auto p2 = cast<T>({.5, .07, .23, .32, .15, .28, .12, .3, .32, .4, .04, .3, .28, .24, .34, .04, .38, .32});
    const auto local = column_max(p2, N, K, C);
    const auto r = mlr::tagclip_reidentify(mlr::make_view(p2.data(), {N, K}), mlr::make_view(local.data(), {C}), grid, C,
                                           engine, {.mode = mlr::tagclip_mode::corrected});
    CHECK(r.candidates == std::vector<index_t>{0, 1});
    CHECK(r.boxes == std::vector<patch_box>{{0, 0, 2, 2}, {1, 0, 3, 2}});
    CHECK(r.reidentified == std::vector<std::uint8_t>{1, 1});
    CHECK_THAT(r.final_scores(0), WithinAbs(0.65, tolerance));
    CHECK_THAT(r.final_scores(1), WithinAbs(0.34, tolerance));
    CHECK(r.labels(0) == 1);
    CHECK(r.labels(1) == 0);
    REQUIRE(engine.seen.size() == 2);
    CHECK(engine.seen[0].class_index == 0);
    CHECK(engine.seen[1].class_index == 1);
    CHECK(engine.seen[1].pixels == patch_box{16, 0, 48, 32});
  }
}

TEMPLATE_TEST_CASE("a degenerate CWR box ends CWR in reference mode and skips one candidate in corrected mode", "[cwr]",
                   float, double) {
  using T = TestType;
  const double tolerance = sizeof(T) == 4 ? 1e-6 : 1e-12;
  const mlr::patch_grid grid{2, 3};
  const auto p2 = cast<T>({0, .7, 0, .6, 0, .1, .2, .5, .9, .1, .8, .1});
  const std::vector<T> local{T(0.9), T(0.7)};
  recording_engine<T> engine{cast<T>({0.4, 0.2}), {}};
  const auto p = mlr::make_view(p2.data(), {6, 2});
  const auto l = mlr::make_view(local.data(), {2});

  SECTION("reference") {
    const auto r = mlr::tagclip_reidentify(p, l, grid, 2, engine);
    CHECK(r.candidates == std::vector<index_t>{0, 1});
    CHECK(r.boxes == std::vector<patch_box>{{1, 1, 2, 1}});  // x1 1, y1 1, x2 2, y2 1: degenerate, class 1 not examined
    CHECK(r.reidentified == std::vector<std::uint8_t>{0, 0});
    CHECK(engine.seen.empty());
    CHECK(r.final_scores(0) == T(0.9));
    CHECK(r.final_scores(1) == T(0.7));
    for (index_t i = 0; i < 2; ++i)
      for (index_t k = 0; k < 2; ++k) CHECK(std::isnan(r.global_scores(i, k)));
    CHECK(r.labels(0) == 1);
    CHECK(r.labels(1) == 0);
  }
  SECTION("corrected") {
    const auto r = mlr::tagclip_reidentify(p, l, grid, 2, engine, {.mode = mlr::tagclip_mode::corrected});
    CHECK(r.boxes == std::vector<patch_box>{{1, 1, 3, 2}, {0, 0, 2, 2}});
    CHECK(r.reidentified == std::vector<std::uint8_t>{1, 1});
    CHECK_THAT(r.final_scores(0), WithinAbs(0.65, tolerance));
    CHECK_THAT(r.final_scores(1), WithinAbs(0.45, tolerance));
    REQUIRE(engine.seen.size() == 2);
    CHECK(count_zeros(engine.seen[0].token_mask) == 0);  // the whole crop responds
    CHECK(std::count(engine.seen[0].attention_row0.begin(), engine.seen[0].attention_row0.end(), T(-1000)) == 0);
    CHECK(count_zeros(engine.seen[1].token_mask) == 49);  // [[1, 1], [1, 0]]: the last 7 x 7 block
    for (index_t y = 0; y < 14; ++y)
      for (index_t x = 0; x < 14; ++x)
        REQUIRE(engine.seen[1].token_mask[static_cast<std::size_t>(y * 14 + x)] == (y >= 7 && x >= 7 ? 0 : 1));
  }
  SECTION("corrected: a constant candidate column has no region and keeps P_local") {
    auto q = p2;
    for (index_t i = 0; i < 6; ++i) q[static_cast<std::size_t>(i * 2)] = T(0.9);  // class 0 constant
    const auto r = mlr::tagclip_reidentify(mlr::make_view(q.data(), {6, 2}), l, grid, 2, engine,
                                           {.mode = mlr::tagclip_mode::corrected});
    CHECK(r.candidates == std::vector<index_t>{0, 1});
    CHECK(r.boxes == std::vector<patch_box>{{0, 0, 0, 0}, {0, 0, 2, 2}});
    CHECK(r.reidentified == std::vector<std::uint8_t>{0, 1});
    CHECK(r.final_scores(0) == T(0.9));
    CHECK(std::isnan(r.global_scores(0, 0)));
    REQUIRE(engine.seen.size() == 1);
    CHECK(engine.seen[0].class_index == 1);
  }
}

TEST_CASE("CWR labels are the per-image relative threshold", "[cwr]") {
  const mlr::patch_grid grid{1, 2};
  // theta_1 = 0.5 over P2 = [[0, 1], [0, 0]]: no local score above it, no candidate.
  const std::vector<double> p{0, 1, 0, 0};
  const auto view = mlr::make_view(p.data(), {2, 2});
  recording_engine<double> engine{{0.5, 0.5}, {}};
  SECTION("all-equal scores predict nothing") {
    const std::vector<double> local{0.3, 0.3};
    const auto r = mlr::tagclip_reidentify(view, mlr::make_view(local.data(), {2}), grid, 2, engine);
    CHECK(r.candidates.empty());
    CHECK(r.labels(0) == 0);
    CHECK(r.labels(1) == 0);
  }
  SECTION("strict, at min + mu (max - min)") {
    const std::vector<double> local{0.2, 0.4};
    const auto l = mlr::make_view(local.data(), {2});
    CHECK(mlr::tagclip_reidentify(view, l, grid, 2, engine).labels(1) == 1);
    CHECK(mlr::tagclip_reidentify(view, l, grid, 2, engine, {.mu = 1.0}).labels(1) == 0);  // 0.4 > 0.4 fails
    CHECK(mlr::tagclip_reidentify(view, l, grid, 2, engine, {.mu = 0.0}).labels(0) == 0);  // the minimum never passes
  }
  CHECK(engine.seen.empty());
}

TEST_CASE("CWR requests: candidate order, pixels, crop grid, strided inputs, workspace reuse", "[cwr]") {
  // 3 x 4 grid, K = 4 (C = 3): classes 0 and 2 respond in different places, class 1 is weak.
  const mlr::patch_grid grid{3, 4};
  const index_t N = 12, K = 4;
  std::vector<double> p(static_cast<std::size_t>(N * K) * 2, 0.0);  // every other column of an [N, 2K] buffer
  const mlr::strided_view<double, 2> pv(p.data(), {N, K}, {2 * K, 2});
  pv(0, 0) = pv(1, 0) = pv(4, 0) = 0.9;  // rows 0-1, columns 0-1
  pv(10, 2) = pv(6, 2) = 0.8;            // rows 1-2, columns 2
  pv(5, 1) = 0.1;
  pv(3, 3) = 0.2;
  const std::vector<double> local{0.9, 0.1, 0.8};
  recording_engine<double> engine{{0.1, 0.2, 0.3, 0.4}, {}};
  mlr::cwr_result<double> out;
  mlr::cwr_workspace ws;
  const mlr::cwr_options options{.patch_size = 32, .crop_grid = 7, .mask_value = -50, .mode = mlr::tagclip_mode::corrected};
  mlr::tagclip_reidentify(mlr::strided_view<const double, 2>(pv), mlr::make_view(local.data(), {3}), grid, 3, engine, out, ws,
                          options);
  CHECK(out.candidates == std::vector<index_t>{0, 2});
  CHECK(out.boxes == std::vector<patch_box>{{0, 0, 2, 2}, {2, 1, 3, 3}});
  REQUIRE(engine.seen.size() == 2);
  CHECK(engine.seen[0].class_index == 0);
  CHECK(engine.seen[1].class_index == 2);
  CHECK(engine.seen[1].pixels == patch_box{64, 32, 96, 96});
  CHECK(engine.seen[0].attention_rows == 50);
  CHECK(count_zeros(engine.seen[0].token_mask) == 9);  // [[1, 1], [1, 0]] to 7 x 7: sources 0,0,0,0,1,1,1, so 3 x 3 zeros
  CHECK(std::count(engine.seen[1].attention_row0.begin(), engine.seen[1].attention_row0.end(), -50.0) == 0);
  CHECK(out.final_scores(0) == 0.5 * 0.9 + 0.5 * 0.1);
  CHECK(out.final_scores(2) == 0.5 * 0.8 + 0.5 * 0.3);
  CHECK(out.final_scores(1) == 0.1);

  // The same workspace and result on another shape, then back: the same answers as fresh ones.
  const auto first = out.final_scores(0);
  std::vector<double> small{0, 1, 0, 0};
  const std::vector<double> small_local{0.3, 0.3};
  mlr::tagclip_reidentify(mlr::make_view(small.data(), {2, 2}), mlr::make_view(small_local.data(), {2}),
                          mlr::patch_grid{1, 2}, 2, engine, out, ws);
  CHECK(out.candidates.empty());
  CHECK(out.final_scores.extent(0) == 2);
  CHECK(out.global_scores.extent(0) == 0);
  mlr::tagclip_reidentify(mlr::strided_view<const double, 2>(pv), mlr::make_view(local.data(), {3}), grid, 3, engine, out, ws,
                          options);
  CHECK(out.final_scores(0) == first);
  CHECK(engine.seen.size() == 4);
  CHECK(engine.seen[2].token_mask == engine.seen[0].token_mask);
}

TEST_CASE("CWR checks what the engine writes", "[cwr][errors]") {
  const mlr::patch_grid grid{2, 3};
  const std::vector<double> p{0, .7, 0, .6, 0, .1, .2, .5, .9, .1, .8, .1};
  const std::vector<double> local{0.9, 0.7};
  const auto pv = mlr::make_view(p.data(), {6, 2});
  const auto l = mlr::make_view(local.data(), {2});
  const mlr::cwr_options corrected{.mode = mlr::tagclip_mode::corrected};
  recording_engine<double> above{{0.4, 1.5}, {}};
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, above, corrected), mlr::error,
                       message_contains("global_scores: expected probabilities in [0, 1] from the engine, found 1.5 at entry 1 for class 0"));
  recording_engine<double> negative{{-0.1, 0.2}, {}};
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, negative, corrected), mlr::error,
                       message_contains("found -0.10000000000000001 at entry 0 for class 0"));
  auto silent = [](const mlr::crop_request<double>&, mlr::strided_view<double, 1> out) { out(0) = 0.5; };
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, silent, corrected), mlr::error,
                       message_contains("found nan at entry 1 for class 0"));
}

TEST_CASE("CWR rejects bad input", "[cwr][errors]") {
  const mlr::patch_grid grid{2, 3};
  std::vector<double> p{0, .7, 0, .6, 0, .1, .2, .5, .9, .1, .8, .1};
  std::vector<double> local{0.9, 0.7};
  const auto pv = mlr::make_view(p.data(), {6, 2});
  const auto l = mlr::make_view(local.data(), {2});
  recording_engine<double> engine{{0.4, 0.2}, {}};
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, mlr::make_view(local.data(), {1}), grid, 2, engine), mlr::error,
                       message_contains("local: expected shape (2,) (num_foreground), found (1,)"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, mlr::patch_grid{3, 3}, 2, engine), mlr::error,
                       message_contains("grid: 3 x 3 = 9 patches, but refined has 6"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, mlr::patch_grid{0, 3}, 2, engine), mlr::error,
                       message_contains("grid: rows and cols must be positive"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 3, engine), mlr::error,
                       message_contains("num_foreground: expected a value in [1, K = 2] (K = refined columns), found 3"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 0, engine), mlr::error,
                       message_contains("num_foreground: expected a value in [1, K = 2]"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(mlr::make_view(p.data(), {0, 2}), l, grid, 2, engine), mlr::error,
                       message_contains("refined: expected a non-empty tensor"));
  p[7] = std::numeric_limits<double>::infinity();
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine), mlr::error,
                       message_contains("refined: expected finite scores, found inf at (3, 1)"));
  p[7] = 0.5;
  local[1] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine), mlr::error,
                       message_contains("local: expected finite scores, found nan at (1,)"));
  local[1] = 0.7;
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine, {.mu1 = 1.5}), mlr::error,
                       message_contains("mu1: expected a value in [0, 1], found 1.5"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine, {.mu2 = -0.5}), mlr::error,
                       message_contains("mu2: expected a value in [0, 1], found -0.5"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine, {.lambda = 2}), mlr::error,
                       message_contains("lambda: expected a value in [0, 1], found 2"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine, {.mu = std::nan("")}), mlr::error,
                       message_contains("mu: expected a value in [0, 1], found nan"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine, {.patch_size = 0}), mlr::error,
                       message_contains("patch_size: expected a positive value, found 0"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine, {.crop_grid = 0}), mlr::error,
                       message_contains("crop_grid: expected a positive value, found 0"));
  CHECK_THROWS_MATCHES(mlr::tagclip_reidentify(pv, l, grid, 2, engine, {.mask_value = -INFINITY}), mlr::error,
                       message_contains("mask_value: expected a finite value, found -inf"));
  CHECK(engine.seen.empty());
}
