// Steady state allocates nothing: tagclip_dmar with a reused result and workspace, tagclip_local
// into a caller's tensor and region_boxes with a reused workspace and list, single-threaded, are
// called twice and the second call is counted. Linked with the allocation counter
// (tests/support/allocation_counter.hpp).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/refine/boxes.hpp"
#include "mlr/refine/dmar.hpp"
#include "mlr/refine/local.hpp"
#include "support/allocation_counter.hpp"

using mlr_test::steady_state_allocations;

TEMPLATE_TEST_CASE("refine: no allocation in steady state", "[refine][allocations]", float, double) {
  using T = TestType;
  const mlr::patch_grid grid{6, 8};
  const mlr::index_t L = 12, N = grid.size(), S = N + 1, K = 10;
  // Attention: every query attends to its own row of the grid and to itself; coarse: a ramp per class.
  std::vector<T> a(static_cast<std::size_t>(L * S * S), T(0.001));
  for (mlr::index_t l = 0; l < L; ++l)
    for (mlr::index_t i = 1; i < S; ++i)
      for (mlr::index_t j = 1; j < S; ++j)
        if ((i - 1) / grid.cols == (j - 1) / grid.cols) a[static_cast<std::size_t>((l * S + i) * S + j)] = T(i == j ? 0.3 : 0.05);
  std::vector<T> p(static_cast<std::size_t>(N * K));
  for (mlr::index_t i = 0; i < N; ++i)
    for (mlr::index_t k = 0; k < K; ++k) p[static_cast<std::size_t>(i * K + k)] = T(((i * (k + 3)) % 17) + 1) / T(20);
  const mlr::execution_env one{.threads = 1};
  for (auto mode : {mlr::tagclip_mode::reference, mlr::tagclip_mode::corrected}) {
    mlr::dmar_workspace ws;
    mlr::dmar_result<T> r;
    CHECK(steady_state_allocations([&] {
            mlr::tagclip_dmar(mlr::make_view(a.data(), {L, S, S}), mlr::make_view(p.data(), {N, K}), grid, r, ws,
                              {.mode = mode}, one);
          }) == 0);
    CHECK(r.boxes.size() > 0);
    mlr::tensor<T, 1> local({4});
    CHECK(steady_state_allocations([&] { mlr::tagclip_local(r.refined, 4, local); }) == 0);
    mlr::region_workspace rws;
    std::vector<mlr::patch_box> boxes;
    CHECK(steady_state_allocations([&] {
            mlr::region_boxes(mlr::make_view(r.box_masks.data(), {N}), grid, mode, boxes, rws);
          }) == 0);
  }
}
