// Steady state allocates nothing: every loss writing into the caller's gradient (the ranking
// loss with a reused workspace), single-threaded, is called twice and the second call is
// counted. A separate executable: it replaces the global operator new.
#include <catch2/catch.hpp>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <new>
#include <vector>

#include "loss/support.hpp"
#include "mlr/adapt/raw.hpp"
#include "mlr/loss.hpp"

namespace {
std::atomic<long> allocations{0};
}  // namespace

// Every non-aligned form is replaced, so that each allocation is released by its own family
// (AddressSanitizer reports a new/free mismatch otherwise, e.g. for Catch2's nothrow new).
void* operator new(std::size_t n) {
  ++allocations;
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  ++allocations;
  return std::malloc(n == 0 ? 1 : n);
}
void* operator new[](std::size_t n, const std::nothrow_t& tag) noexcept { return ::operator new(n, tag); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete[](void* p, std::size_t) noexcept { std::free(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { std::free(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { std::free(p); }

namespace {

// Allocations made by the second of two calls of f.
template <class F>
long steady_state_allocations(F f) {
  f();
  const long before = allocations.load();
  f();
  return allocations.load() - before;
}

}  // namespace

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
