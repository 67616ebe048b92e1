// tagclip_classify (METHOD.md 8.3): equal to its pieces called one by one, the global scores the
// softmax of the engine's feature against the text, a batch equal to its images one at a time
// at 1 and 2 threads, the engine called on the calling thread in (image, candidate) order,
// tokens and attention maps with or without the class token, workspace reuse, bad input.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <thread>
#include <utility>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/refine/tagclip.hpp"
#include "refine/tagclip_scene.hpp"
#include "scoring/support.hpp"
#include "support/matchers.hpp"

using Catch::Matchers::WithinAbs;
using mlr::index_t;
using mlr_test::message_contains;

namespace {

// Bitwise equality (NaN equals NaN) of two tensors or vectors of trivially copyable entries.
template <class A>
bool same_bits(const A& a, const A& b) {
  if constexpr (requires { a.extents(); }) {
    return a.extents() == b.extents() &&
           (a.size() == 0 || std::memcmp(a.data(), b.data(), sizeof(*a.data()) * static_cast<std::size_t>(a.size())) == 0);
  } else {
    return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), sizeof(a[0]) * a.size()) == 0);
  }
}

template <class T>
void require_same(const mlr::tagclip_result<T>& a, const mlr::tagclip_result<T>& b) {
  REQUIRE(same_bits(a.coarse, b.coarse));
  REQUIRE(same_bits(a.dmar.vote_mask, b.dmar.vote_mask));
  REQUIRE(same_bits(a.dmar.masked_attention, b.dmar.masked_attention));
  REQUIRE(same_bits(a.dmar.first_refinement, b.dmar.first_refinement));
  REQUIRE(same_bits(a.dmar.box_masks, b.dmar.box_masks));
  REQUIRE(a.dmar.boxes == b.dmar.boxes);
  REQUIRE(a.dmar.box_offsets == b.dmar.box_offsets);
  REQUIRE(same_bits(a.dmar.refined, b.dmar.refined));
  REQUIRE(same_bits(a.local, b.local));
  REQUIRE(a.cwr.candidates == b.cwr.candidates);
  REQUIRE(a.cwr.boxes == b.cwr.boxes);
  REQUIRE(a.cwr.reidentified == b.cwr.reidentified);
  REQUIRE(same_bits(a.cwr.global_scores, b.cwr.global_scores));
  REQUIRE(same_bits(a.cwr.final_scores, b.cwr.final_scores));
  REQUIRE(same_bits(a.cwr.labels, b.cwr.labels));
}

// A stub engine that records who called it, from which thread, with which token mask.
template <class T>
struct stub_engine {
  const mlr_test::tagclip_scene<T>* scene;
  std::vector<std::pair<index_t, index_t>> calls;  // (image, class)
  std::vector<std::vector<std::uint8_t>> masks;
  std::vector<std::thread::id> threads;

  void operator()(const mlr::crop_request<T>& r, mlr::strided_view<T, 1> feature) {
    calls.emplace_back(r.image, r.class_index);
    threads.push_back(std::this_thread::get_id());
    std::vector<std::uint8_t> m;
    for (index_t y = 0; y < r.token_mask.extent(0); ++y)
      for (index_t x = 0; x < r.token_mask.extent(1); ++x) m.push_back(r.token_mask(y, x));
    masks.push_back(std::move(m));
    mlr_test::stub_feature(*scene, r, feature);
  }
};

// The scene of most tests: 5 images on a 6 x 8 grid, K = 9 (5 foreground), D = 16, L = 12.
template <class T>
mlr_test::tagclip_scene<T> scene() {
  return mlr_test::make_tagclip_scene<T>(5, mlr::patch_grid{6, 8}, 9, 5, 16, 12, 2024);
}

}  // namespace

TEMPLATE_TEST_CASE("tagclip_classify equals its pieces, global scores the softmax of the engine's feature", "[tagclip]",
                   float, double) {
  using T = TestType;
  const auto s = scene<T>();
  index_t reidentified = 0;
  for (auto mode : {mlr::tagclip_mode::reference, mlr::tagclip_mode::corrected}) {
    const mlr::tagclip_classify_options options{.dmar = {.mode = mode}, .cwr = {.mode = mode}};
    for (index_t b = 0; b < s.B; ++b) {
      stub_engine<T> engine{&s, {}, {}, {}};
      const auto r = mlr::tagclip_classify(s.attn_of(b), s.tokens_of(b), s.text_view(), s.grid, s.C, engine, options);

      // The pieces, one by one.
      const mlr::strided_view<const T, 2> patches(s.tokens_of(b).data_handle() + s.D, {s.N, s.D});
      const auto coarse = mlr::tagclip_coarse(patches, s.text_view());
      const auto dmar = mlr::tagclip_dmar(s.attn_of(b), coarse, s.grid, options.dmar);
      const auto local = mlr::tagclip_local(dmar.refined, s.C);
      std::vector<std::vector<std::uint8_t>> masks;
      auto probabilities = [&](const mlr::crop_request<T>& q, mlr::strided_view<T, 1> out) {
        // The naive softmax over K of 100 cos(feature, text row), in long double.
        std::vector<T> f(static_cast<std::size_t>(s.D));
        mlr_test::stub_feature(s, q, mlr::make_view(f.data(), {s.D}));
        std::vector<long double> logit(static_cast<std::size_t>(s.K));
        long double mx = -1e30L, z = 0;
        for (index_t k = 0; k < s.K; ++k) {
          logit[static_cast<std::size_t>(k)] = 100 * mlr_test::naive_cosine(f.data(), s.text.data() + k * s.D, s.D);
          mx = std::max(mx, logit[static_cast<std::size_t>(k)]);
        }
        for (auto x : logit) z += std::exp(x - mx);
        for (index_t k = 0; k < s.K; ++k) out(k) = static_cast<T>(std::exp(logit[static_cast<std::size_t>(k)] - mx) / z);
        std::vector<std::uint8_t> m;
        for (index_t y = 0; y < 14; ++y)
          for (index_t x = 0; x < 14; ++x) m.push_back(q.token_mask(y, x));
        masks.push_back(std::move(m));
      };
      const auto cwr = mlr::tagclip_reidentify(dmar.refined, local, s.grid, s.C, probabilities, options.cwr);

      REQUIRE(same_bits(r.coarse, coarse));
      REQUIRE(same_bits(r.dmar.refined, dmar.refined));
      REQUIRE(r.dmar.boxes == dmar.boxes);
      REQUIRE(same_bits(r.local, local));
      REQUIRE(r.cwr.candidates == cwr.candidates);
      REQUIRE(r.cwr.boxes == cwr.boxes);
      REQUIRE(r.cwr.reidentified == cwr.reidentified);
      REQUIRE(engine.masks == masks);
      const double tolerance = sizeof(T) == 4 ? 2e-6 : 1e-13;
      for (index_t i = 0; i < cwr.global_scores.extent(0); ++i)
        for (index_t k = 0; k < s.K; ++k) {
          if (std::isnan(cwr.global_scores(i, k))) {
            REQUIRE(std::isnan(r.cwr.global_scores(i, k)));
            continue;
          }
          REQUIRE_THAT(r.cwr.global_scores(i, k), WithinAbs(cwr.global_scores(i, k), tolerance));
        }
      for (index_t k = 0; k < s.C; ++k) REQUIRE_THAT(r.cwr.final_scores(k), WithinAbs(cwr.final_scores(k), tolerance));
      for (auto x : r.cwr.reidentified) reidentified += x;
    }
  }
  CHECK(reidentified >= 5);  // the scene exercises the fusion, not only the early exits
}

TEMPLATE_TEST_CASE("a batch equals its images one at a time, at 1 and 2 threads; the engine runs on the calling thread "
                   "in (image, candidate) order", "[tagclip]", float, double) {
  using T = TestType;
  const auto s = scene<T>();
  for (auto mode : {mlr::tagclip_mode::reference, mlr::tagclip_mode::corrected}) {
    const mlr::tagclip_classify_options options{.dmar = {.mode = mode}, .cwr = {.mode = mode}};
    std::vector<mlr::tagclip_result<T>> single;
    std::vector<std::pair<index_t, index_t>> expected_calls;
    for (index_t b = 0; b < s.B; ++b) {
      stub_engine<T> engine{&s, {}, {}, {}};
      single.push_back(mlr::tagclip_classify(s.attn_of(b), s.tokens_of(b), s.text_view(), s.grid, s.C, engine, options));
      const auto& c = single.back().cwr;
      for (std::size_t i = 0; i < c.boxes.size(); ++i)
        if (!c.boxes[i].empty()) expected_calls.emplace_back(b, c.candidates[i]);
      REQUIRE(engine.calls.size() == static_cast<std::size_t>(std::count(c.reidentified.begin(), c.reidentified.end(), 1)));
    }
    for (unsigned threads : {1u, 2u}) {
      stub_engine<T> engine{&s, {}, {}, {}};
      const auto batch = mlr::tagclip_classify(s.attn_view(), s.tokens_view(), s.text_view(), s.grid, s.C, engine, options,
                                               {.threads = threads});
      REQUIRE(batch.size() == single.size());
      for (std::size_t b = 0; b < batch.size(); ++b) require_same(batch[b], single[b]);
      CHECK(engine.calls == expected_calls);
      for (const auto& id : engine.threads) CHECK(id == std::this_thread::get_id());
    }
  }
}

TEST_CASE("tokens and attention maps with or without the class token give the same result", "[tagclip]") {
  const auto s = scene<double>();
  const index_t b = 2;
  const auto attn = s.attn_of(b);
  const auto tokens = s.tokens_of(b);
  // Copies without the class token (contiguous [L, N, N] and [N, D]).
  std::vector<double> attn_n(static_cast<std::size_t>(s.L * s.N * s.N)), tokens_n(static_cast<std::size_t>(s.N * s.D));
  for (index_t l = 0; l < s.L; ++l)
    for (index_t i = 0; i < s.N; ++i)
      for (index_t j = 0; j < s.N; ++j) attn_n[static_cast<std::size_t>((l * s.N + i) * s.N + j)] = attn(l, i + 1, j + 1);
  for (index_t i = 0; i < s.N; ++i)
    for (index_t d = 0; d < s.D; ++d) tokens_n[static_cast<std::size_t>(i * s.D + d)] = tokens(i + 1, d);
  const auto attn_v = mlr::make_view(attn_n.data(), {s.L, s.N, s.N});
  const auto tokens_v = mlr::make_view(tokens_n.data(), {s.N, s.D});
  stub_engine<double> engine{&s, {}, {}, {}};
  const auto reference = mlr::tagclip_classify(attn, tokens, s.text_view(), s.grid, s.C, engine);
  REQUIRE(!reference.cwr.candidates.empty());
  require_same(mlr::tagclip_classify(attn_v, tokens, s.text_view(), s.grid, s.C, engine), reference);
  require_same(mlr::tagclip_classify(attn, tokens_v, s.text_view(), s.grid, s.C, engine), reference);
  require_same(mlr::tagclip_classify(attn_v, tokens_v, s.text_view(), s.grid, s.C, engine), reference);
  // A batch without class tokens: [B L, N, N] and [B, N, D], here with one image.
  const auto batch = mlr::tagclip_classify(attn_v, mlr::make_view(tokens_n.data(), {1, s.N, s.D}), s.text_view(), s.grid,
                                           s.C, engine);
  REQUIRE(batch.size() == 1);
  require_same(batch[0], reference);
}

TEST_CASE("tagclip_classify reuses its result and workspace across batches and shapes", "[tagclip]") {
  const auto big = scene<float>();
  const auto small = mlr_test::make_tagclip_scene<float>(2, mlr::patch_grid{3, 5}, 4, 2, 8, 12, 7);
  stub_engine<float> engine_big{&big, {}, {}, {}}, engine_small{&small, {}, {}, {}};
  std::vector<mlr::tagclip_result<float>> out;
  mlr::tagclip_workspace ws;
  const mlr::execution_env two{.threads = 2};
  mlr::tagclip_classify(big.attn_view(), big.tokens_view(), big.text_view(), big.grid, big.C, engine_big, out, ws, {}, two);
  mlr::tagclip_classify(small.attn_view(), small.tokens_view(), small.text_view(), small.grid, small.C, engine_small, out, ws,
                        {.dmar = {.vote_min = 2}}, two);
  REQUIRE(out.size() == 2);
  const auto fresh = mlr::tagclip_classify(small.attn_view(), small.tokens_view(), small.text_view(), small.grid, small.C,
                                           engine_small, {.dmar = {.vote_min = 2}});
  for (std::size_t b = 0; b < 2; ++b) require_same(out[b], fresh[b]);
  mlr::tagclip_classify(big.attn_view(), big.tokens_view(), big.text_view(), big.grid, big.C, engine_big, out, ws);
  const auto fresh_big = mlr::tagclip_classify(big.attn_view(), big.tokens_view(), big.text_view(), big.grid, big.C, engine_big);
  REQUIRE(out.size() == fresh_big.size());
  for (std::size_t b = 0; b < out.size(); ++b) require_same(out[b], fresh_big[b]);
}

TEST_CASE("tagclip_classify rejects bad input and bad engine output", "[tagclip][errors]") {
  auto s = scene<double>();
  stub_engine<double> engine{&s, {}, {}, {}};
  const auto attn = s.attn_of(0);
  const auto tokens = s.tokens_of(0);
  const auto text = s.text_view();
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(mlr::make_view(s.attn.data(), {s.L, 40, 40}), tokens, text, s.grid, s.C, engine),
                       mlr::error, message_contains("attn: expected shape (L, 1 + N, 1 + N) or (L, N, N) with N = 48"));
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(attn, tokens, text, mlr::patch_grid{7, 8}, s.C, engine), mlr::error,
                       message_contains("tokens: expected shape (1 + N, D) or (N, D) with N = 56 patches of the 7 x 8 grid, found (49, 16)"));
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(attn, tokens, text, mlr::patch_grid{0, 8}, s.C, engine), mlr::error,
                       message_contains("grid: rows and cols must be positive"));
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(attn, tokens, text, s.grid, 10, engine), mlr::error,
                       message_contains("num_foreground: expected a value in [1, K = 9] (K = text rows), found 10"));
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(attn, tokens, mlr::make_view(s.text.data(), {18, 8}), s.grid, s.C, engine),
                       mlr::error, message_contains("text: expected shape (18, 16)"));
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(attn, tokens, text, s.grid, s.C, engine, {.cwr = {.mu1 = 2}}), mlr::error,
                       message_contains("mu1: expected a value in [0, 1], found 2"));
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(attn, tokens, text, s.grid, s.C, engine, {.dmar = {.vote_min = 13}}), mlr::error,
                       message_contains("vote_min: expected a value in [1, 12]"));
  // A batch: the maps must be B L, and errors name the image.
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(mlr::make_view(s.attn.data(), {s.B * s.L - 1, s.N + 1, s.N + 1}), s.tokens_view(),
                                             text, s.grid, s.C, engine),
                       mlr::error, message_contains("attn: expected B L maps (the L maps of each of the B = 5 images of tokens, "
                                                    "image after image), found 59 maps"));
  s.attn[static_cast<std::size_t>(((3 * s.L + 4) * (s.N + 1) + 2) * (s.N + 1) + 5)] = -1.0;
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(s.attn_view(), s.tokens_view(), text, s.grid, s.C, engine, {}, {.threads = 2}),
                       mlr::error, message_contains("image 3: attn: expected non-negative finite attention weights, found -1 at (4, 2, 5)"));
  s.tokens[static_cast<std::size_t>((1 * (s.N + 1) + 7) * s.D + 3)] = std::numeric_limits<double>::quiet_NaN();
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(s.attn_view(), s.tokens_view(), text, s.grid, s.C, engine, {}, {.threads = 2}),
                       mlr::error, message_contains("image 1: patches: expected finite values, found nan at (6, 3)"));

  // The engine's feature: finite, non-zero, every entry written.
  const auto clean = scene<double>();
  auto nan_feature = [](const mlr::crop_request<double>&, mlr::strided_view<double, 1> f) { f(0) = 1.0; };
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(clean.attn_of(0), clean.tokens_of(0), clean.text_view(), clean.grid, clean.C,
                                             nan_feature),
                       mlr::error, message_contains("global_feature: expected finite values from the engine, found nan at entry 1 for class"));
  auto zero_feature = [](const mlr::crop_request<double>&, mlr::strided_view<double, 1> f) {
    for (index_t d = 0; d < f.extent(0); ++d) f(d) = 0.0;
  };
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(clean.attn_of(0), clean.tokens_of(0), clean.text_view(), clean.grid, clean.C,
                                             zero_feature),
                       mlr::error, message_contains("global_feature: expected a feature of non-zero norm (cosine normalisation) from the engine, found a zero vector for class"));
  CHECK_THROWS_MATCHES(mlr::tagclip_classify(clean.attn_view(), clean.tokens_view(), clean.text_view(), clean.grid, clean.C,
                                             zero_feature),
                       mlr::error, message_contains("image 0: global_feature: expected a feature of non-zero norm"));
}
