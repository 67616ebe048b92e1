#pragma once
// DMAR's passes over the L attention maps (METHOD.md 2.2-2.3): the per-layer means tau_l, then,
// row by row, the strict vote over all layers and the fused mean over psi, masked. A row of the
// vote counts and of the fused sums stays in L1 while the L maps stream through once.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/config.hpp"
#include "mlr/core/detail/format.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/view.hpp"

namespace mlr::detail {

// Calls f(row pointer, stride) with the stride a compile-time 1 when it is, so that the common
// contiguous rows vectorise.
template <class T, class F>
MLR_FORCEINLINE void with_row(const T* row, index_t stride, F&& f) {
  if (stride == 1) f(row, std::integral_constant<index_t, 1>{});
  else f(row, stride);
}

// The largest T not above tau: for every T x, x > tau (in double) iff x > that bound.
template <class T>
T strict_bound(double tau) noexcept {
  T t = static_cast<T>(tau);
  if (static_cast<double>(t) > tau) t = std::nextafter(t, -std::numeric_limits<T>::infinity());
  return t;
}

// tau[l] = mean of the N x N entries of layer l, summed in double (each row in eight fixed
// partial sums, rows in order: independent of the thread count). Throws naming the first
// negative or non-finite entry, at its index in the caller's tensor (class token included:
// `offset` is 1 when the caller's maps are [1 + N, 1 + N]).
template <class T>
void layer_means(const strided_view<const T, 3>& a, index_t offset, double* tau, std::vector<std::uint8_t>& bad,
                 unsigned threads) {
  const index_t L = a.extent(0), N = a.extent(1);
  bad.assign(static_cast<std::size_t>(L), 0);
  parallel_for(static_cast<std::size_t>(L), L * N * N > 65536 ? threads : 1u, [&](std::size_t task, unsigned) {
    const auto l = static_cast<index_t>(task);
    double total = 0.0;
    T lowest = a(l, 0, 0);
    for (index_t i = 0; i < N; ++i) {
      with_row(&a(l, i, 0), a.stride(2), [&](const T* r, auto s) {
        // Eight partial sums and minima: independent chains that vectorise. NaN and inf reach
        // the sum; negatives the minimum.
        double part[8] = {};
        T low[8];
        for (int q = 0; q < 8; ++q) low[q] = r[0];
        index_t j = 0;
        for (; j + 8 <= N; j += 8)
          for (int q = 0; q < 8; ++q) {
            const T x = r[(j + q) * s];
            part[q] += static_cast<double>(x);
            low[q] = std::min(low[q], x);
          }
        for (; j < N; ++j) {
          part[0] += static_cast<double>(r[j * s]);
          low[0] = std::min(low[0], r[j * s]);
        }
        total += ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
        for (int q = 0; q < 8; ++q) lowest = std::min(lowest, low[q]);
      });
    }
    if (!(lowest >= T(0)) || !(total <= std::numeric_limits<double>::max())) bad[task] = 1;
    tau[l] = total / (static_cast<double>(N) * static_cast<double>(N));
  });
  for (index_t l = 0; l < L; ++l) {
    if (!bad[static_cast<std::size_t>(l)]) continue;
    for (index_t i = 0; i < N; ++i)
      for (index_t j = 0; j < N; ++j) {
        const T x = a(l, i, j);
        if (!(x >= T(0)) || !std::isfinite(x))
          throw error("attn: expected non-negative finite attention weights, found " + format_value(x) + " at " +
                      format_index(std::array<index_t, 3>{l, i + offset, j + offset}));
      }
    // No bad entry: finite entries whose sum overflowed, as in the caller's own mean.
  }
}

// The per-worker rows of the vote pass.
struct vote_rows {
  std::vector<std::uint32_t> counts;  // [workers, N]
  std::vector<double> fused;          // [workers, N]
};

// vote(i, j) = 1[#{l : a(l, i, j) > tau_l} >= vote_min]; masked[i * N + j] = vote(i, j) times
// the mean over the layers with fuse[l] of a(l, i, j), summed in double in layer order.
template <class T>
void vote_and_fuse(const strided_view<const T, 3>& a, const T* bounds, const std::uint8_t* fuse, index_t fuse_count,
                   index_t vote_min, std::uint8_t* vote, T* masked, vote_rows& rows, unsigned threads) {
  const index_t L = a.extent(0), N = a.extent(1);
  const unsigned workers = L * N * N > 65536 ? threads : 1u;
  rows.counts.resize(static_cast<std::size_t>(workers * N));
  rows.fused.resize(static_cast<std::size_t>(workers * N));
  const double divisor = static_cast<double>(fuse_count);
  const auto need = static_cast<std::uint32_t>(vote_min);
  constexpr index_t chunk = 8;  // rows per task
  parallel_for(static_cast<std::size_t>((N + chunk - 1) / chunk), workers, [&](std::size_t task, unsigned worker) {
    std::uint32_t* c = rows.counts.data() + worker * N;
    double* f = rows.fused.data() + worker * N;
    const index_t begin = static_cast<index_t>(task) * chunk, end = std::min(N, begin + chunk);
    for (index_t i = begin; i < end; ++i) {
      std::fill(c, c + N, std::uint32_t{0});
      std::fill(f, f + N, 0.0);
      for (index_t l = 0; l < L; ++l) {
        const T t = bounds[l];
        with_row(&a(l, i, 0), a.stride(2), [&](const T* r, auto s) {
          if (fuse[l]) {
            for (index_t j = 0; j < N; ++j) {
              const T x = r[j * s];
              c[j] = static_cast<std::uint32_t>(c[j] + (x > t));
              f[j] += static_cast<double>(x);
            }
          } else {
            for (index_t j = 0; j < N; ++j) c[j] = static_cast<std::uint32_t>(c[j] + (r[j * s] > t));
          }
        });
      }
      std::uint8_t* v = vote + i * N;
      T* m = masked + i * N;
      for (index_t j = 0; j < N; ++j) {
        v[j] = c[j] >= need;
        m[j] = v[j] ? static_cast<T>(f[j] / divisor) : T(0);
      }
    }
  });
}

}  // namespace mlr::detail
