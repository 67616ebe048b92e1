// TagCLIP DMAR and local scores: the worked vectors of METHOD.md 7.14, the quirk cases in both
// modes, a direct long-double transcription on structured inputs, layouts, thread counts,
// workspace reuse and bad input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/refine/dmar.hpp"
#include "mlr/refine/local.hpp"
#include "refine/box_printer.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using mlr::index_t;
using mlr::patch_box;
using mlr::patch_grid;
using mlr::tagclip_mode;
using mlr_test::message_contains;

namespace {

constexpr auto reference = tagclip_mode::reference;
constexpr auto corrected = tagclip_mode::corrected;

template <class T>
std::vector<T> cast(const std::vector<double>& v) {
  return std::vector<T>(v.begin(), v.end());
}

template <class E, std::size_t R>
std::vector<E> flat(const mlr::tensor<E, R>& t) {
  return std::vector<E>(t.data(), t.data() + t.size());
}

// METHOD.md 7.14: grid 2 x 3, K = 3, layers 0-7 equal U, layers 8-11 equal V.
const std::vector<double> U{.5, .1, .1, .1, .2, 0,   .1,  .6,  .1,  .05, .1, .05, .1,  .1, .6, .05, .05, .1,
                            .1, .05, .05, .6, .1, .1, .05, .1, .05, .1,  .6, .1,  .05, .05, .1, .1, .1, .6};
const std::vector<double> V{.3,  .3, .1,  .2, .05, .05, .2,  .3,  .3,  .05, .1, .05, .05, .2, .4, .05, .1, .2,
                            .3, .05, .05, .3, .2,  .1,  .05, .2, .05, .2,  .3, .2,  .05, .05, .2, .1, .2, .4};
const std::vector<double> P0{.7, .1, .2, .6, .2, .2, .1, .3, .6, .5, .1, .4, .2, .2, .6, .1, .7, .2};

std::vector<double> worked_attention() {
  std::vector<double> a;
  for (int l = 0; l < 12; ++l) a.insert(a.end(), l < 8 ? U.begin() : V.begin(), l < 8 ? U.end() : V.end());
  return a;
}

// Softmax rows with planted blocks: in every layer a patch attends more to the patches of its
// own 4 x 4 tile (and to itself); the class token (when present) is an ordinary extra column.
template <class T>
std::vector<T> structured_attention(index_t L, const patch_grid& grid, bool cls, unsigned seed) {
  const index_t N = grid.size(), S = N + (cls ? 1 : 0);
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<T> a(static_cast<std::size_t>(L * S * S));
  std::vector<double> z(static_cast<std::size_t>(S));
  auto tile = [&](index_t t) { return t < 0 ? -1 : (t / grid.cols / 4) * 100 + (t % grid.cols) / 4; };
  for (index_t l = 0; l < L; ++l)
    for (index_t i = 0; i < S; ++i) {
      const index_t pi = i - (S - N);
      double mx = -1e300, sum = 0;
      for (index_t j = 0; j < S; ++j) {
        const index_t pj = j - (S - N);
        auto& x = z[static_cast<std::size_t>(j)];
        x = noise(gen) + (pi >= 0 && pj >= 0 && tile(pi) == tile(pj) ? 2.5 + 0.1 * static_cast<double>(l) : 0.0) +
            (i == j ? 2.0 : 0.0);
        mx = std::max(mx, x);
      }
      for (auto& x : z) sum += (x = std::exp(x - mx));
      for (index_t j = 0; j < S; ++j) a[static_cast<std::size_t>((l * S + i) * S + j)] = static_cast<T>(z[static_cast<std::size_t>(j)] / sum);
    }
  return a;
}

// Softmax rows over K with planted class rectangles.
template <class T>
std::vector<T> structured_coarse(const patch_grid& grid, index_t K, unsigned seed) {
  const index_t N = grid.size();
  std::mt19937 gen(seed);
  std::normal_distribution<double> noise(0.0, 1.0);
  std::vector<T> p(static_cast<std::size_t>(N * K));
  std::vector<double> z(static_cast<std::size_t>(K));
  for (index_t i = 0; i < N; ++i) {
    const index_t y = i / grid.cols, x = i % grid.cols;
    double mx = -1e300, sum = 0;
    for (index_t k = 0; k < K; ++k) {
      const index_t y0 = (k * 7) % grid.rows, x0 = (k * 5) % grid.cols;
      const bool inside = k % 3 == 0 && y >= y0 && y < y0 + 5 && x >= x0 && x < x0 + 6;
      z[static_cast<std::size_t>(k)] = noise(gen) + (inside ? 4.0 : 0.0);
      mx = std::max(mx, z[static_cast<std::size_t>(k)]);
    }
    for (auto& v : z) sum += (v = std::exp(v - mx));
    for (index_t k = 0; k < K; ++k) p[static_cast<std::size_t>(i * K + k)] = static_cast<T>(z[static_cast<std::size_t>(k)] / sum);
  }
  return p;
}

// L identity maps: every layer votes for the diagonal only (tau = 1 / N), so A* = I and
// P1 = P2-before-masking = coarse: the class maps are the coarse columns themselves.
template <class T>
std::vector<T> identity_attention(index_t L, index_t N) {
  std::vector<T> a(static_cast<std::size_t>(L * N * N), T(0));
  for (index_t l = 0; l < L; ++l)
    for (index_t i = 0; i < N; ++i) a[static_cast<std::size_t>((l * N + i) * N + i)] = T(1);
  return a;
}

template <class T>
mlr::dmar_result<T> dmar_on_identity(const patch_grid& grid, const std::vector<double>& coarse, index_t K,
                                     tagclip_mode mode) {
  const index_t N = grid.size();
  const auto a = identity_attention<T>(12, N);
  const auto p = cast<T>(coarse);
  return mlr::tagclip_dmar(mlr::make_view(a.data(), {12, N, N}), mlr::make_view(p.data(), {N, K}), grid,
                           mlr::dmar_options{.mode = mode});
}

template <class T>
std::vector<double> column(const mlr::tensor<T, 2>& t, index_t k) {
  std::vector<double> c;
  for (index_t i = 0; i < t.extent(0); ++i) c.push_back(static_cast<double>(t(i, k)));
  return c;
}

std::vector<std::uint8_t> mask_row(const mlr::tensor<std::uint8_t, 2>& m, index_t k) {
  return {m.data() + k * m.extent(1), m.data() + (k + 1) * m.extent(1)};
}

}  // namespace

TEMPLATE_TEST_CASE("METHOD 7.14: DMAR on the constructed maps, both modes", "[refine][dmar]", float, double) {
  using T = TestType;
  const double tol = sizeof(T) == 4 ? 2e-7 : 1e-12;
  const auto a = cast<T>(worked_attention());
  const auto p = cast<T>(P0);
  const patch_grid grid{2, 3};
  const std::vector<std::uint8_t> vote{1, 1, 0, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 0, 0, 1,
                                       1, 0, 0, 1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 1};
  const std::vector<double> p1{.5, .12, .23, .35, .17, .28, .18, .3, .32, .4, .1, .3, .3, .26, .34, .1, .38, .32};
  const std::vector<std::uint8_t> binary{1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, 0, 0, 1, 1, 1, 1};
  struct expected_mode {
    tagclip_mode mode;
    std::vector<patch_box> boxes;
    std::vector<std::uint8_t> masks;
    std::vector<double> p2, local;
  };
  const std::vector<expected_mode> cases{
      {reference,
       {{0, 0, 2, 1}, {1, 0, 2, 1}, {0, 0, 2, 1}},
       {1, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0},
       {.39, .06, .12, .32, .06, .1, .12, .04, .04, .21, 0, .06, .12, .04, .04, 0, 0, 0},
       {.39, .06}},
      {corrected,
       {{0, 0, 2, 2}, {1, 0, 3, 2}, {0, 0, 3, 2}},
       {1, 1, 0, 1, 1, 0, 0, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1},
       {.5, .07, .23, .32, .15, .28, .12, .3, .32, .4, .04, .3, .28, .24, .34, .04, .38, .32},
       {.5, .38}},
  };
  for (const auto& c : cases) {
    mlr::dmar_workspace ws;
    mlr::dmar_result<T> r;
    mlr::tagclip_dmar(mlr::make_view(a.data(), {12, 6, 6}), mlr::make_view(p.data(), {6, 3}), grid, r, ws,
                      {.mode = c.mode});
    CHECK(flat(r.vote_mask) == vote);
    for (std::size_t e = 0; e < 36; ++e)
      REQUIRE_THAT(static_cast<double>(r.masked_attention.data()[e]), WithinAbs(vote[e] ? V[e] : 0.0, tol));
    for (std::size_t e = 0; e < 18; ++e) {
      REQUIRE_THAT(static_cast<double>(r.first_refinement.data()[e]), WithinAbs(p1[e], tol));
      REQUIRE_THAT(static_cast<double>(r.refined.data()[e]), WithinAbs(c.p2[e], tol));
    }
    const auto b = ws.binary_maps();
    REQUIRE(b.extents() == std::array<index_t, 2>{3, 6});
    CHECK(std::vector<std::uint8_t>(b.data_handle(), b.data_handle() + 18) == binary);
    CHECK(r.boxes == c.boxes);
    CHECK(r.box_offsets == std::vector<index_t>{0, 1, 2, 3});
    CHECK(flat(r.box_masks) == c.masks);
    const auto local = mlr::tagclip_local(r.refined, 2);
    REQUIRE(local.extent(0) == 2);
    CHECK_THAT(static_cast<double>(local(0)), WithinAbs(c.local[0], tol));
    CHECK_THAT(static_cast<double>(local(1)), WithinAbs(c.local[1], tol));
  }
}

TEMPLATE_TEST_CASE("DMAR quirk: a region in the last row or column", "[refine][dmar]", float, double) {
  using T = TestType;
  // Grid 3 x 4; class 0 lives in the last column (rows 0-1), class 1 in the last row (cols 1-2),
  // class 2 in the interior; values 1 on the region, 0.25 elsewhere.
  const patch_grid grid{3, 4};
  std::vector<double> p(12 * 3, 0.25);
  for (index_t i : {3, 7}) p[static_cast<std::size_t>(i * 3 + 0)] = 1;
  for (index_t i : {9, 10}) p[static_cast<std::size_t>(i * 3 + 1)] = 1;
  for (index_t i : {1, 5}) p[static_cast<std::size_t>(i * 3 + 2)] = 1;
  const auto ref = dmar_on_identity<T>(grid, p, 3, reference);
  const auto cor = dmar_on_identity<T>(grid, p, 3, corrected);
  CHECK(ref.boxes == std::vector<patch_box>{{3, 0, 3, 2}, {1, 2, 3, 2}, {1, 0, 2, 2}});
  CHECK(cor.boxes == std::vector<patch_box>{{3, 0, 4, 2}, {1, 2, 3, 3}, {1, 0, 2, 2}});
  // Reference: the empty boxes mask nothing, the refined columns are 0.
  CHECK(mask_row(ref.box_masks, 0) == std::vector<std::uint8_t>(12, 0));
  CHECK(mask_row(ref.box_masks, 1) == std::vector<std::uint8_t>(12, 0));
  CHECK(column(ref.refined, 0) == std::vector<double>(12, 0.0));
  CHECK(column(ref.refined, 1) == std::vector<double>(12, 0.0));
  // Corrected: the masks are the regions, the refined columns the coarse ones there.
  CHECK(mask_row(cor.box_masks, 0) == std::vector<std::uint8_t>{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  CHECK(mask_row(cor.box_masks, 1) == std::vector<std::uint8_t>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0});
  CHECK(column(cor.refined, 0) == std::vector<double>{0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0});
  CHECK(column(cor.refined, 1) == std::vector<double>{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0});
  // The interior region is the same in both modes.
  for (const auto* r : {&ref, &cor}) {
    CHECK(mask_row(r->box_masks, 2) == std::vector<std::uint8_t>{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
    CHECK(column(r->refined, 2) == std::vector<double>{0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0});
  }
}

TEMPLATE_TEST_CASE("DMAR quirk: constant columns and no contour give an empty mask", "[refine][dmar]", float, double) {
  using T = TestType;
  // Class 0 constant, class 1 all zero (the official candidate test max > 0 fails), class 2 varies.
  const patch_grid grid{2, 3};
  std::vector<double> p(6 * 3, 0.5);
  for (index_t i = 0; i < 6; ++i) p[static_cast<std::size_t>(i * 3 + 1)] = 0;
  p[2] = 0.9;
  for (auto mode : {reference, corrected}) {
    const auto r = dmar_on_identity<T>(grid, p, 3, mode);
    CHECK(r.box_offsets == std::vector<index_t>{0, 0, 0, 1});
    CHECK(mask_row(r.box_masks, 0) == std::vector<std::uint8_t>(6, 0));
    CHECK(mask_row(r.box_masks, 1) == std::vector<std::uint8_t>(6, 0));
    CHECK(column(r.refined, 0) == std::vector<double>(6, 0.0));
    CHECK(column(r.refined, 1) == std::vector<double>(6, 0.0));
    CHECK(r.boxes == std::vector<patch_box>{{0, 0, 1, 1}});
  }
}

TEMPLATE_TEST_CASE("DMAR quirk: a single patch", "[refine][dmar]", float, double) {
  using T = TestType;
  // N = 1: tau = the one entry, so no vote passes (strict), A* = 0, P1 = 0: a constant column.
  const std::vector<T> small{T(0.7), T(0.1), T(0.2), T(0.7)};  // [1 + N, 1 + N] per layer
  std::vector<T> with_cls, without;
  for (int l = 0; l < 12; ++l) {
    with_cls.insert(with_cls.end(), small.begin(), small.end());
    without.push_back(small[3]);
  }
  const std::vector<T> p{T(0.2), T(0.3), T(0.5)};
  for (auto mode : {reference, corrected}) {
    for (const auto* a : {&with_cls, &without}) {
      const index_t S = a == &with_cls ? 2 : 1;
      const auto r = mlr::tagclip_dmar(mlr::make_view(a->data(), {12, S, S}), mlr::make_view(p.data(), {1, 3}),
                                       patch_grid{1, 1}, {.mode = mode});
      CHECK(flat(r.vote_mask) == std::vector<std::uint8_t>{0});
      CHECK(flat(r.refined) == std::vector<T>(3, T(0)));
      CHECK(flat(r.box_masks) == std::vector<std::uint8_t>(3, 0));
      CHECK(r.boxes.empty());
      CHECK(r.box_offsets == std::vector<index_t>{0, 0, 0, 0});
    }
  }
}

TEMPLATE_TEST_CASE("DMAR quirk: a region in a hole of another is dropped, the mask unchanged", "[refine][dmar]", float,
                   double) {
  using T = TestType;
  // Class 0: a ring with one patch inside; class 1: the ring alone.
  const patch_grid grid{7, 7};
  std::string ring;
  for (const char* row : {".......", ".#####.", ".#...#.", ".#...#.", ".#...#.", ".#####.", "......."}) ring += row;
  std::vector<double> p(49 * 2, 0.0);
  for (index_t i = 0; i < 49; ++i) p[static_cast<std::size_t>(i * 2)] = p[static_cast<std::size_t>(i * 2 + 1)] = ring[static_cast<std::size_t>(i)] == '#';
  p[(3 * 7 + 3) * 2] = 1;
  for (auto mode : {reference, corrected}) {
    const auto r = dmar_on_identity<T>(grid, p, 2, mode);
    const std::vector<patch_box> ring_box{{1, 1, 6, 6}};
    CHECK(std::vector<patch_box>(r.boxes.begin(), r.boxes.begin() + r.box_offsets[1]) == ring_box);
    CHECK(std::vector<patch_box>(r.boxes.begin() + r.box_offsets[1], r.boxes.end()) == ring_box);
    CHECK(mask_row(r.box_masks, 0) == mask_row(r.box_masks, 1));
    CHECK(r.refined(3 * 7 + 3, 0) == T(1));
  }
}

TEMPLATE_TEST_CASE("DMAR equals a direct transcription on structured maps", "[refine][dmar]", float, double) {
  using T = TestType;
  const patch_grid grid{12, 16};
  const index_t L = 12, N = grid.size(), K = 45;
  const auto a = structured_attention<T>(L, grid, false, 5);
  const auto p = structured_coarse<T>(grid, K, 6);
  for (auto mode : {reference, corrected}) {
    mlr::dmar_workspace ws;
    mlr::dmar_result<T> r;
    mlr::tagclip_dmar(mlr::make_view(a.data(), {L, N, N}), mlr::make_view(p.data(), {N, K}), grid, r, ws,
                      {.mode = mode}, {.threads = 1});
    // tau, votes and A* in long double; strict > on the exact entries.
    std::vector<long double> tau(static_cast<std::size_t>(L));
    for (index_t l = 0; l < L; ++l) {
      long double s = 0;
      for (index_t e = 0; e < N * N; ++e) s += a[static_cast<std::size_t>(l * N * N + e)];
      tau[static_cast<std::size_t>(l)] = s / static_cast<long double>(N * N);
    }
    index_t votes_total = 0;
    for (index_t i = 0; i < N; ++i)
      for (index_t j = 0; j < N; ++j) {
        int votes = 0;
        long double fused = 0;
        for (index_t l = 0; l < L; ++l) {
          const T x = a[static_cast<std::size_t>((l * N + i) * N + j)];
          votes += static_cast<long double>(x) > tau[static_cast<std::size_t>(l)];
          if (l >= 8 && l <= 10) fused += x;
        }
        REQUIRE(r.vote_mask(i, j) == (votes >= 4));
        votes_total += votes >= 4;
        REQUIRE_THAT(static_cast<double>(r.masked_attention(i, j)),
                     WithinAbs(votes >= 4 ? static_cast<double>(fused / 3) : 0.0, sizeof(T) == 4 ? 1e-7 : 2e-16));
      }
    CHECK(votes_total > N);        // more than the diagonal
    CHECK(votes_total < N * N / 2);  // far from everything
    // P1 = A* P; P2 = A* (m . P), m the union of the reported boxes.
    const double tol = sizeof(T) == 4 ? 1e-6 : 1e-14;
    std::vector<std::uint8_t> m(static_cast<std::size_t>(K * N), 0);
    for (index_t k = 0; k < K; ++k)
      for (auto e = r.box_offsets[static_cast<std::size_t>(k)]; e < r.box_offsets[static_cast<std::size_t>(k + 1)]; ++e) {
        const patch_box& b = r.boxes[static_cast<std::size_t>(e)];
        for (index_t y = b.y0; y < b.y1; ++y)
          for (index_t x = b.x0; x < b.x1; ++x) m[static_cast<std::size_t>(k * N + y * grid.cols + x)] = 1;
      }
    CHECK(flat(r.box_masks) == m);
    index_t masked_total = 0;
    for (auto x : m) masked_total += x;
    CHECK(masked_total > 0);
    CHECK(masked_total < K * N);
    for (index_t i = 0; i < N; ++i)
      for (index_t k = 0; k < K; ++k) {
        long double p1 = 0, p2 = 0;
        for (index_t j = 0; j < N; ++j) {
          const long double w = r.masked_attention(i, j) * static_cast<long double>(p[static_cast<std::size_t>(j * K + k)]);
          p1 += w;
          if (m[static_cast<std::size_t>(k * N + j)]) p2 += w;
        }
        REQUIRE_THAT(static_cast<double>(r.first_refinement(i, k)), WithinAbs(static_cast<double>(p1), tol));
        REQUIRE_THAT(static_cast<double>(r.refined(i, k)), WithinAbs(static_cast<double>(p2), tol));
      }
    // The binary maps are METHOD 2.5 steps 1-3 of the library's P1 columns.
    const auto b = ws.binary_maps();
    for (index_t k = 0; k < K; ++k) {
      long double lo = 1e30L, hi = -1e30L, sum = 0;
      for (index_t j = 0; j < N; ++j) {
        lo = std::min<long double>(lo, r.first_refinement(j, k));
        hi = std::max<long double>(hi, r.first_refinement(j, k));
      }
      std::vector<double> s(static_cast<std::size_t>(N));
      for (index_t j = 0; j < N; ++j) sum += s[static_cast<std::size_t>(j)] = static_cast<double>((r.first_refinement(j, k) - lo) / (hi - lo));
      const double mean = static_cast<double>(sum / static_cast<long double>(N));
      for (index_t j = 0; j < N; ++j) {
        const double sj = s[static_cast<std::size_t>(j)];
        const bool expected = mode == reference ? std::floor(255 * sj) > std::floor(mean * 255) : sj > mean;
        REQUIRE(b(k, j) == expected);
      }
    }
  }
}

TEMPLATE_TEST_CASE("DMAR: [L, 1 + N, 1 + N] and [L, N, N], threads 1 and 2, reused workspace agree exactly",
                   "[refine][dmar]", float, double) {
  using T = TestType;
  const patch_grid grid{16, 24};  // K N large enough for the classes to be shared between threads
  const index_t L = 12, N = grid.size(), S = N + 1, K = 45;
  const auto full = structured_attention<T>(L, grid, true, 7);
  std::vector<T> patches(static_cast<std::size_t>(L * N * N));
  for (index_t l = 0; l < L; ++l)
    for (index_t i = 0; i < N; ++i)
      for (index_t j = 0; j < N; ++j)
        patches[static_cast<std::size_t>((l * N + i) * N + j)] = full[static_cast<std::size_t>((l * S + i + 1) * S + j + 1)];
  const auto p = structured_coarse<T>(grid, K, 8);
  const auto pv = mlr::make_view(p.data(), {N, K});
  for (auto mode : {reference, corrected}) {
    const mlr::dmar_options options{.mode = mode};
    const auto base = mlr::tagclip_dmar(mlr::make_view(patches.data(), {L, N, N}), pv, grid, options, {.threads = 1});
    auto same = [&](const mlr::dmar_result<T>& r) {
      CHECK(flat(r.vote_mask) == flat(base.vote_mask));
      CHECK(flat(r.masked_attention) == flat(base.masked_attention));
      CHECK(flat(r.first_refinement) == flat(base.first_refinement));
      CHECK(flat(r.box_masks) == flat(base.box_masks));
      CHECK(r.boxes == base.boxes);
      CHECK(r.box_offsets == base.box_offsets);
      CHECK(flat(r.refined) == flat(base.refined));
    };
    same(mlr::tagclip_dmar(mlr::make_view(full.data(), {L, S, S}), pv, grid, options, {.threads = 1}));
    same(mlr::tagclip_dmar(mlr::make_view(full.data(), {L, S, S}), pv, grid, options, {.threads = 2}));
    same(mlr::tagclip_dmar(mlr::make_view(patches.data(), {L, N, N}), pv, grid, options, {.threads = 2}));
    // Coarse scores through a column-major copy, and a workspace that saw another shape first.
    std::vector<T> pt(p.size());
    for (index_t i = 0; i < N; ++i)
      for (index_t k = 0; k < K; ++k) pt[static_cast<std::size_t>(k * N + i)] = p[static_cast<std::size_t>(i * K + k)];
    mlr::dmar_workspace ws;
    mlr::dmar_result<T> r;
    const auto small = cast<T>(worked_attention());
    const auto small_p = cast<T>(P0);
    mlr::tagclip_dmar(mlr::make_view(small.data(), {12, 6, 6}), mlr::make_view(small_p.data(), {6, 3}), patch_grid{2, 3},
                      r, ws, options);
    mlr::tagclip_dmar(mlr::make_view(full.data(), {L, S, S}), mlr::make_view(pt.data(), {N, K}, mlr::column_major), grid,
                      r, ws, options, {.threads = 2});
    same(r);
  }
}

TEST_CASE("tagclip_dmar rejects bad input", "[refine][dmar][errors]") {
  auto a = worked_attention();
  auto p = P0;
  const patch_grid grid{2, 3};
  auto run = [&](const mlr::dmar_options& options = {}, const patch_grid& g = {2, 3}, index_t rows = 6) {
    return mlr::tagclip_dmar(mlr::make_view(a.data(), {12, 6, 6}), mlr::make_view(p.data(), {rows, 18 / rows}), g,
                             options);
  };
  CHECK_THROWS_MATCHES(mlr::tagclip_dmar(mlr::make_view(a.data(), {12, 3, 12}), mlr::make_view(p.data(), {6, 3}), grid),
                       mlr::error,
                       message_contains("attn: expected shape (L, 1 + N, 1 + N) or (L, N, N) with N = 6 patches of the "
                                        "2 x 3 grid, found (12, 3, 12)"));
  CHECK_THROWS_MATCHES(mlr::tagclip_dmar(mlr::make_view(a.data(), {12, 6, 6}), mlr::make_view(p.data(), {6, 3}),
                                         patch_grid{3, 3}),
                       mlr::error, message_contains("with N = 9 patches of the 3 x 3 grid, found (12, 6, 6)"));
  CHECK_THROWS_MATCHES(run({}, {0, 3}), mlr::error, message_contains("grid: rows and cols must be positive, got 0 x 3"));
  CHECK_THROWS_MATCHES(run({}, {2, 3}, 9), mlr::error,
                       message_contains("coarse: expected shape (6, 2) (N = 6 patches of the 2 x 3 grid), found (9, 2)"));
  const std::vector<index_t> out_of_range{8, 12}, negative{-1}, twice{9, 8, 9}, none{};
  CHECK_THROWS_MATCHES(run({.fuse_layers = out_of_range}), mlr::error,
                       message_contains("fuse_layers: expected layers in [0, 12) (attn has 12 layers), found 12"));
  CHECK_THROWS_MATCHES(run({.fuse_layers = negative}), mlr::error,
                       message_contains("fuse_layers: expected layers in [0, 12) (attn has 12 layers), found -1"));
  CHECK_THROWS_MATCHES(run({.fuse_layers = twice}), mlr::error,
                       message_contains("fuse_layers: expected distinct layers, found 9 twice"));
  CHECK_THROWS_MATCHES(run({.fuse_layers = none}), mlr::error,
                       message_contains("fuse_layers: expected at least one layer, found none"));
  CHECK_THROWS_MATCHES(run({.vote_min = 0}), mlr::error,
                       message_contains("vote_min: expected a value in [1, 12] (attn has 12 layers), found 0"));
  CHECK_THROWS_MATCHES(run({.vote_min = 13}), mlr::error,
                       message_contains("vote_min: expected a value in [1, 12] (attn has 12 layers), found 13"));
  CHECK_NOTHROW(run({.vote_min = 12, .fuse_layers = std::vector<index_t>{11, 0}}));

  p[5] = -0.5;
  CHECK_THROWS_MATCHES(run(), mlr::error, message_contains("coarse: expected non-negative finite scores, found -0.5 at (1, 2)"));
  p[5] = NAN;
  CHECK_THROWS_MATCHES(run(), mlr::error, message_contains("coarse: expected non-negative finite scores, found nan at (1, 2)"));
  p = P0;

  // Entries are named at their index in the caller's tensor.
  a[static_cast<std::size_t>(7 * 36 + 2 * 6 + 4)] = -0.25;
  CHECK_THROWS_MATCHES(run(), mlr::error,
                       message_contains("attn: expected non-negative finite attention weights, found -0.25 at (7, 2, 4)"));
  a[static_cast<std::size_t>(3 * 36 + 5 * 6 + 1)] = NAN;
  CHECK_THROWS_MATCHES(run(), mlr::error,
                       message_contains("attn: expected non-negative finite attention weights, found nan at (3, 5, 1)"));
  a[static_cast<std::size_t>(3 * 36 + 5 * 6 + 1)] = INFINITY;
  CHECK_THROWS_MATCHES(run(), mlr::error, message_contains("found inf at (3, 5, 1)"));
  // With the class token: the same patch entry is at (l, 1 + i, 1 + j); the class token's own row
  // and column are never read.
  std::vector<double> full(static_cast<std::size_t>(12 * 49), 0.0);
  for (index_t l = 0; l < 12; ++l)
    for (index_t i = 0; i < 6; ++i)
      for (index_t j = 0; j < 6; ++j)
        full[static_cast<std::size_t>(l * 49 + (i + 1) * 7 + j + 1)] = a[static_cast<std::size_t>(l * 36 + i * 6 + j)];
  full[0] = -1;
  full[3] = NAN;
  CHECK_THROWS_MATCHES(mlr::tagclip_dmar(mlr::make_view(full.data(), {12, 7, 7}), mlr::make_view(p.data(), {6, 3}), grid),
                       mlr::error, message_contains("found inf at (3, 6, 2)"));
}

TEST_CASE("tagclip_local: the max over patches of the foreground columns, and bad input", "[refine][local]") {
  const std::vector<double> r{.1, .5, .9, .4, .2, .95, .3, .3, 0};
  const auto local = mlr::tagclip_local(mlr::make_view(r.data(), {3, 3}), 2);
  CHECK(local.extent(0) == 2);
  CHECK(local(0) == .4);
  CHECK(local(1) == .5);
  CHECK(mlr::tagclip_local(mlr::make_view(r.data(), {3, 3}), 3)(2) == .95);
  mlr::tensor<float, 1> wrong({2});
  const std::vector<float> rf(r.begin(), r.end());
  CHECK_THROWS_MATCHES(mlr::tagclip_local(mlr::make_view(rf.data(), {3, 3}), 3, wrong), mlr::error,
                       message_contains("out: expected shape (3,), found (2,)"));
  CHECK_THROWS_MATCHES(mlr::tagclip_local(mlr::make_view(r.data(), {3, 3}), 4), mlr::error,
                       message_contains("num_foreground: expected a value in [1, K] = [1, 3], found 4"));
  CHECK_THROWS_MATCHES(mlr::tagclip_local(mlr::make_view(r.data(), {3, 3}), 0), mlr::error,
                       message_contains("num_foreground: expected a value in [1, K] = [1, 3], found 0"));
  auto bad = r;
  bad[7] = NAN;
  CHECK_THROWS_MATCHES(mlr::tagclip_local(mlr::make_view(bad.data(), {3, 3}), 2), mlr::error,
                       message_contains("refined: expected finite scores, found nan at (2, 1)"));
}
