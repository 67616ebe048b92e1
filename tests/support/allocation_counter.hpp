#pragma once
// Counting allocations: an executable that links tests/support/allocation_counter.cpp (see
// mlr_add_allocation_test in tests/CMakeLists.txt) replaces the global operator new, and
// steady_state_allocations(f) says how many allocations the second of two calls of f made.

namespace mlr_test {

long allocation_count() noexcept;

template <class F>
long steady_state_allocations(F f) {
  f();
  const long before = allocation_count();
  f();
  return allocation_count() - before;
}

}  // namespace mlr_test
