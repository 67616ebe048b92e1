// Steady state allocates nothing: tagclip_classify on one image and on a batch, with a reused
// result and workspace, single-threaded (more threads start their workers on each call), is
// called twice and the second call is counted. Linked with the allocation counter
// (tests/support/allocation_counter.hpp).
#include <catch2/catch.hpp>

#include <vector>

#include "mlr/refine/tagclip.hpp"
#include "refine/tagclip_scene.hpp"
#include "support/allocation_counter.hpp"

using mlr_test::steady_state_allocations;

TEMPLATE_TEST_CASE("tagclip_classify: no allocation in steady state", "[tagclip][allocations]", float, double) {
  using T = TestType;
  const auto s = mlr_test::make_tagclip_scene<T>(4, mlr::patch_grid{6, 8}, 9, 5, 16, 12, 99);
  const mlr::execution_env one{.threads = 1};
  long calls = 0;
  auto engine = [&](const mlr::crop_request<T>& r, mlr::strided_view<T, 1> feature) {
    ++calls;
    mlr_test::stub_feature(s, r, feature);
  };
  mlr::tagclip_workspace ws;
  std::vector<mlr::tagclip_result<T>> batch;
  CHECK(steady_state_allocations([&] {
          mlr::tagclip_classify(s.attn_view(), s.tokens_view(), s.text_view(), s.grid, s.C, engine, batch, ws, {}, one);
        }) == 0);
  mlr::tagclip_result<T> single;
  for (auto mode : {mlr::tagclip_mode::reference, mlr::tagclip_mode::corrected})
    CHECK(steady_state_allocations([&] {
            mlr::tagclip_classify(s.attn_of(1), s.tokens_of(1), s.text_view(), s.grid, s.C, engine, single, ws,
                                  {.dmar = {.mode = mode}, .cwr = {.mode = mode}}, one);
          }) == 0);
  CHECK(calls > 0);  // the engine was asked
}
