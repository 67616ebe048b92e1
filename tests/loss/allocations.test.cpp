// Steady state allocates nothing: every loss writing into the caller's gradient (the ranking
// loss with a reused workspace), single-threaded, is called twice and the second call is
// counted. Linked with the allocation counter (tests/support/allocation_counter.hpp).
#include <catch2/catch.hpp>

#include <cstdint>
#include <vector>

#include "loss/support.hpp"
#include "mlr/adapt/raw.hpp"
#include "mlr/loss.hpp"
#include "support/allocation_counter.hpp"

using mlr_test::steady_state_allocations;

TEST_CASE("losses: no allocation in steady state", "[loss][allocations]") {
  const mlr::index_t B = 16, C = 80;
  const auto x = mlr_test::uniform(B * 2 * C, -20, 20, 1);
  const auto y = mlr_test::labels(B * C, {1, 0, -1}, {1, 8, 1}, 2);
  const auto ys = mlr_test::labels(B * C, {1, -1, 0}, {1, 8, 1}, 3);
  std::vector<double> g(x.size());
  const mlr::execution_env one{.threads = 1};
  const auto x2 = mlr::make_view(x.data(), {B, C});
  const auto g2 = mlr::make_view(g.data(), {B, C});
  const auto yv = mlr::make_view(y.data(), {B, C});
  CHECK(steady_state_allocations([&] { return mlr::asl_loss(x2, yv, g2, {.reduction = mlr::reduction::mean}, one); }) == 0);
  CHECK(steady_state_allocations([&] {
          return mlr::asl_dual_loss(mlr::make_view(x.data(), {B, 2, C}), yv, mlr::make_view(g.data(), {B, 2, C}), {}, one);
        }) == 0);
  mlr::ranking_workspace ws;
  CHECK(steady_state_allocations([&] { return mlr::ranking_loss(x2, mlr::make_view(ys.data(), {B, C}), g2, ws, {}, one); }) == 0);
  CHECK(steady_state_allocations([&] {
          return mlr::l1_distillation(x2, mlr::make_view(x.data() + B * C, {B, C}), g2, {}, one);
        }) == 0);
}
