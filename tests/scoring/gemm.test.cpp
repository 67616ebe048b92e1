// The packed GEMM of mlr/core/detail/gemm.hpp against a naive triple loop: odd shapes around
// every blocking size, strided / transposed / grouped operands and outputs, scales,
// accumulation, and bit-identical results for every thread count.
#include <catch2/catch.hpp>

#include <cmath>
#include <cstddef>
#include <random>
#include <vector>

#include "mlr/core/detail/gemm.hpp"

namespace {

using mlr::index_t;
using namespace mlr::detail;

template <class T>
std::vector<T> random_values(std::size_t n, unsigned seed) {
  std::mt19937 gen(seed);
  std::uniform_real_distribution<double> u(-1.0, 1.0);
  std::vector<T> v(n);
  for (auto& x : v) x = static_cast<T>(u(gen));
  return v;
}

template <class T>
T at(const gemm_matrix<T>& m, index_t i, index_t j) {
  return m.data[m.row.offset(i) + m.col.offset(j)];
}

// C (+)= diag(a.scale) A B diag(b.scale), in long double, compared entry by entry.
template <class T>
void check_against_naive(const gemm_matrix<T>& a, const gemm_matrix<T>& b, const gemm_output<T>& c,
                         const std::vector<T>& before, bool accumulate, double tolerance) {
  const index_t m = a.row.extent, k = a.col.extent, n = b.col.extent;
  for (index_t i = 0; i < m; ++i)
    for (index_t j = 0; j < n; ++j) {
      long double sum = 0;
      for (index_t q = 0; q < k; ++q)
        sum += static_cast<long double>(at(a, i, q)) * (a.scale ? a.scale[i] : T(1)) * at(b, q, j) *
               (b.scale ? b.scale[j] : T(1));
      const index_t off = c.row.offset(i) + c.col.offset(j);
      if (accumulate) sum += before[static_cast<std::size_t>(off)];
      INFO("entry (" << i << ", " << j << ") of " << m << " x " << n << " x " << k);
      REQUIRE(std::abs(static_cast<double>(c.data[off]) - static_cast<double>(sum)) <=
              tolerance * (1.0 + static_cast<double>(k)));
    }
}

template <class T>
void run_case(index_t m, index_t n, index_t k, bool a_transposed, bool b_transposed, bool scaled, bool accumulate,
              unsigned threads) {
  const double tolerance = sizeof(T) == 4 ? 1e-6 : 1e-15;
  const auto a_data = random_values<T>(static_cast<std::size_t>(m * k), 1);
  const auto b_data = random_values<T>(static_cast<std::size_t>(k * n), 2);
  const auto a_scale = random_values<T>(static_cast<std::size_t>(m), 3);
  const auto b_scale = random_values<T>(static_cast<std::size_t>(n), 4);
  gemm_matrix<T> a{a_data.data(), {m, a_transposed ? 1 : k}, {k, a_transposed ? m : 1}, scaled ? a_scale.data() : nullptr};
  gemm_matrix<T> b{b_data.data(), {k, b_transposed ? 1 : n}, {n, b_transposed ? k : 1}, scaled ? b_scale.data() : nullptr};
  // Output with padded rows (row stride n + 3), so that strides are not the extents.
  std::vector<T> c_data = random_values<T>(static_cast<std::size_t>(m * (n + 3)), 5);
  const std::vector<T> before = c_data;
  const gemm_output<T> c{c_data.data(), {m, n + 3}, {n, 1}};
  gemm_workspace<T> ws;
  gemm(a, b, c, accumulate, ws, threads);
  check_against_naive(a, b, c, before, accumulate, tolerance);
  for (index_t i = 0; i < m; ++i)  // the padding is untouched
    for (index_t j = n; j < n + 3; ++j)
      REQUIRE(c_data[static_cast<std::size_t>(i * (n + 3) + j)] == before[static_cast<std::size_t>(i * (n + 3) + j)]);
}

}  // namespace

TEMPLATE_TEST_CASE("gemm equals the naive triple loop on odd shapes", "[gemm]", float, double) {
  const index_t sizes[] = {1, 3, 17, 33, 97, 257, 513};
  unsigned seed = 0;
  for (index_t m : sizes)
    for (index_t n : {index_t{1}, index_t{3}, index_t{17}, index_t{65}})
      for (index_t k : {index_t{1}, index_t{3}, index_t{17}, index_t{513}}) {
        ++seed;
        run_case<TestType>(m, n, k, seed % 2 == 0, seed % 3 == 0, seed % 5 != 0, seed % 7 == 0, 1 + seed % 2);
      }
  // The transposed orientation (A smaller than B), and long K spanning several slices.
  run_case<TestType>(5, 300, 700, false, true, true, false, 2);
  run_case<TestType>(40, 130, 1100, true, false, false, true, 2);
}

TEMPLATE_TEST_CASE("gemm reads grouped operands and writes grouped outputs", "[gemm]", float, double) {
  using T = TestType;
  // A is a [B, L, D] tensor stored as [B, D, L] (DualCoOp's layout) read as (B L) x D.
  const index_t B = 3, L = 13, D = 37, N = 19;
  const auto x = random_values<T>(static_cast<std::size_t>(B * D * L), 6);
  const auto y = random_values<T>(static_cast<std::size_t>(N * D), 7);
  const mlr::strided_view<const T, 3> v(x.data(), {B, L, D}, {D * L, 1, L});
  const gemm_matrix<T> a = gemm_operand(v);
  REQUIRE(a.row.group == L);
  const gemm_matrix<T> b = gemm_operand(mlr::transpose(mlr::strided_view<const T, 2>(y.data(), {N, D})));
  // Output [B, N, L]-stored, written as (B L) x N.
  std::vector<T> out(static_cast<std::size_t>(B * L * N));
  const mlr::strided_view<T, 3> o(out.data(), {B, L, N}, {N * L, 1, L});
  gemm_workspace<T> ws;
  gemm(a, b, gemm_result(o), false, ws, 2);
  check_against_naive(a, b, gemm_result(o), out, false, sizeof(T) == 4 ? 1e-6 : 1e-15);
  // The grouped axis as the depth: W^T (N x (B L)) times A ((B L) x D), as in dL/d text.
  std::vector<T> out_t(static_cast<std::size_t>(N * D));
  const auto w = random_values<T>(static_cast<std::size_t>(B * L * N), 8);
  const gemm_matrix<T> wt{w.data(), {N, 1}, {B * L, N}, nullptr};
  gemm(wt, a, gemm_output<T>{out_t.data(), {N, D}, {D, 1}}, false, ws, 2);
  check_against_naive(wt, a, gemm_output<T>{out_t.data(), {N, D}, {D, 1}}, out_t, false, sizeof(T) == 4 ? 1e-6 : 1e-15);
}

TEMPLATE_TEST_CASE("gemm takes B with grouped columns, by row or by column tasks", "[gemm]", float, double) {
  using T = TestType;
  // C (N x (B L)) = text (N x D) visual^T, visual [B, L, D] stored [B, D, L]; few rows, so that
  // one thread takes column tasks and two threads row tasks (on AVX-512 builds).
  const index_t B = 3, L = 40, D = 29, N = 21;
  const auto x = random_values<T>(static_cast<std::size_t>(B * D * L), 11);
  const auto y = random_values<T>(static_cast<std::size_t>(N * D), 12);
  const auto scale = random_values<T>(static_cast<std::size_t>(B * L), 13);
  gemm_matrix<T> vt = gemm_operand(mlr::strided_view<const T, 3>(x.data(), {B, L, D}, {D * L, 1, L})).transposed();
  vt.scale = scale.data();
  const gemm_matrix<T> text = gemm_operand(mlr::strided_view<const T, 2>(y.data(), {N, D}));
  for (unsigned threads : {1u, 2u}) {
    std::vector<T> out(static_cast<std::size_t>(N * B * L));
    const gemm_output<T> o{out.data(), {N, B * L}, {B * L, 1}};
    gemm_workspace<T> ws;
    gemm(text, vt, o, false, ws, threads);
    check_against_naive(text, vt, o, out, false, sizeof(T) == 4 ? 1e-6 : 1e-15);
  }
}

TEMPLATE_TEST_CASE("gemm results do not depend on the thread count", "[gemm]", float, double) {
  using T = TestType;
  const index_t m = 700, n = 90, k = 600;
  const auto x = random_values<T>(static_cast<std::size_t>(m * k), 9);
  const auto y = random_values<T>(static_cast<std::size_t>(k * n), 10);
  const gemm_matrix<T> a{x.data(), {m, k}, {k, 1}, nullptr};
  const gemm_matrix<T> b{y.data(), {k, n}, {n, 1}, nullptr};
  std::vector<T> one(static_cast<std::size_t>(m * n)), three(one.size());
  gemm_workspace<T> ws;
  gemm(a, b, gemm_output<T>{one.data(), {m, n}, {n, 1}}, false, ws, 1);
  gemm(a, b, gemm_output<T>{three.data(), {m, n}, {n, 1}}, false, ws, 3);
  REQUIRE(one == three);
}
