#pragma once
// DMAR's passes over the L attention maps (METHOD.md 2.2-2.3): the per-layer means tau_l, then,
// row by row, the strict vote over all layers and the fused mean over psi, masked. A row of the
// vote counts and of the fused sums stays in L1 while the L maps stream through once.
#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
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

// Eight values as one GCC vector (two AVX registers of doubles, one of floats).
constexpr int lane_count = 8;
template <class T>
using lanes [[gnu::vector_size(lane_count * sizeof(T))]] = T;

// x = entries j .. j + 7 of a row with stride s. (An out parameter: a vector returned by value
// changes the ABI with the instruction set, which g++ warns about.)
template <class T, class S>
MLR_FORCEINLINE void load_lanes(lanes<T>& x, const T* r, S s, index_t j) noexcept {
  if constexpr (std::is_same_v<S, std::integral_constant<index_t, 1>>) {
    std::memcpy(&x, r + j, sizeof(x));
  } else {
    for (int q = 0; q < lane_count; ++q) x[q] = r[(j + q) * s];
  }
}

// The largest T not above tau: for every T x, x > tau (in double) iff x > that bound.
template <class T>
T strict_bound(double tau) noexcept {
  T t = static_cast<T>(tau);
  if (static_cast<double>(t) > tau) t = std::nextafter(t, -std::numeric_limits<T>::infinity());
  return t;
}

// Rows per task of the passes below: a fixed split, so that sums never depend on the thread count.
constexpr index_t attention_chunk = 32;

// tau_l = mean of the N x N entries of layer l, summed in double: each row in eight lanes
// (entries j = q mod 8), rows in order within a chunk, chunks in order. Throws naming the first
// negative or non-finite entry at its index in the caller's tensor (class token included:
// `offset` is 1 when the caller's maps are [1 + N, 1 + N]). `chunk_sums` holds a sum per chunk.
template <class T>
double layer_mean(const strided_view<const T, 3>& a, index_t l, index_t offset, std::vector<double>& chunk_sums,
                  std::vector<std::uint8_t>& chunk_bad, unsigned workers) {
  const index_t N = a.extent(1);
  const auto chunks = static_cast<std::size_t>((N + attention_chunk - 1) / attention_chunk);
  chunk_sums.resize(chunks);
  chunk_bad.resize(chunks);
  parallel_for(chunks, workers, [&](std::size_t task, unsigned) {
    const index_t begin = static_cast<index_t>(task) * attention_chunk, end = std::min(N, begin + attention_chunk);
    double total = 0.0;
    T lowest = a(l, begin, 0);
    for (index_t i = begin; i < end; ++i) {
      with_row(&a(l, i, 0), a.stride(2), [&](const T* r, auto s) {
        // Independent chains as GCC vectors. NaN and inf reach the sum; negatives the minimum.
        lanes<double> part{};
        lanes<T> low = lanes<T>{} + r[0];
        index_t j = 0;
        for (; j + lane_count <= N; j += lane_count) {
          lanes<T> x;
          load_lanes<T>(x, r, s, j);
          part += __builtin_convertvector(x, lanes<double>);
          low = x < low ? x : low;
        }
        for (; j < N; ++j) {
          part[0] += static_cast<double>(r[j * s]);
          low[0] = std::min(low[0], r[j * s]);
        }
        total += ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
        for (int q = 0; q < lane_count; ++q) lowest = std::min(lowest, low[q]);
      });
    }
    chunk_sums[task] = total;
    chunk_bad[task] = !(lowest >= T(0)) || !(total <= std::numeric_limits<double>::max());
  });
  double total = 0.0;
  bool bad = false;
  for (std::size_t c = 0; c < chunks; ++c) {
    total += chunk_sums[c];
    bad = bad || chunk_bad[c];
  }
  if (bad) {
    for (index_t i = 0; i < N; ++i)
      for (index_t j = 0; j < N; ++j) {
        const T x = a(l, i, j);
        if (!(x >= T(0)) || !std::isfinite(x))
          throw error("attn: expected non-negative finite attention weights, found " + format_value(x) + " at " +
                      format_index(std::array<index_t, 3>{l, i + offset, j + offset}));
      }
    // No bad entry: finite entries whose sum overflowed, as in the caller's own mean.
  }
  return total / (static_cast<double>(N) * static_cast<double>(N));
}

// The per-chunk scratch of the passes.
struct vote_scratch {
  std::vector<double> chunk_sums;
  std::vector<std::uint8_t> chunk_bad;
  std::vector<double> fused_rows;  // [workers, N]
};

// vote[i * N + j] = 1[#{l : a(l, i, j) > tau_l} >= vote_min]; masked[i * N + j] = that vote times
// the mean over the layers with fuse[l] of a(l, i, j), summed in double in layer order.
// Layer after layer: its mean, then its votes while the layer is still in the L2 cache (a VOC
// layer is 2.4 MB in float), so each layer comes from memory once; the fuse layers once more.
// The vote counts live in `vote` until the end (L <= 255).
template <class T>
void vote_and_fuse(const strided_view<const T, 3>& a, index_t offset, const std::uint8_t* fuse, index_t fuse_count,
                   index_t vote_min, std::uint8_t* vote, T* masked, vote_scratch& scratch, unsigned threads) {
  const index_t L = a.extent(0), N = a.extent(1);
  const unsigned workers = N * N > 65536 ? threads : 1u;
  const auto chunks = static_cast<std::size_t>((N + attention_chunk - 1) / attention_chunk);
  std::fill(vote, vote + N * N, std::uint8_t{0});
  for (index_t l = 0; l < L; ++l) {
    const T t = strict_bound<T>(layer_mean(a, l, offset, scratch.chunk_sums, scratch.chunk_bad, workers));
    parallel_for(chunks, workers, [&](std::size_t task, unsigned) {
      const index_t begin = static_cast<index_t>(task) * attention_chunk, end = std::min(N, begin + attention_chunk);
      for (index_t i = begin; i < end; ++i) {
        std::uint8_t* c = vote + i * N;
        with_row(&a(l, i, 0), a.stride(2), [c, n = N, bound = t](const T* r, auto s) {
          // by value: stores through the uint8_t pointer may alias anything captured by reference
          for (index_t j = 0; j < n; ++j) c[j] = static_cast<std::uint8_t>(c[j] + (r[j * s] > bound));
        });
      }
    });
  }
  scratch.fused_rows.resize(static_cast<std::size_t>(workers * N));
  parallel_for(chunks, workers, [&](std::size_t task, unsigned worker) {
    const index_t begin = static_cast<index_t>(task) * attention_chunk, end = std::min(N, begin + attention_chunk);
    double* f = scratch.fused_rows.data() + worker * N;
    // locals, not captures: stores through uint8_t pointers may alias what is captured by reference
    const double divisor = static_cast<double>(fuse_count);
    const auto need = static_cast<std::uint8_t>(vote_min);
    for (index_t i = begin; i < end; ++i) {
      std::fill(f, f + N, 0.0);
      for (index_t l = 0; l < L; ++l) {
        if (!fuse[l]) continue;
        with_row(&a(l, i, 0), a.stride(2), [&](const T* r, auto s) {
          for (index_t j = 0; j < N; ++j) f[j] += static_cast<double>(r[j * s]);
        });
      }
      std::uint8_t* v = vote + i * N;
      T* m = masked + i * N;
      for (index_t j = 0, n = N; j < n; ++j) {
        v[j] = v[j] >= need;
        const T mean = static_cast<T>(f[j] / divisor);
        m[j] = v[j] ? mean : T(0);
      }
    }
  });
}

}  // namespace mlr::detail
