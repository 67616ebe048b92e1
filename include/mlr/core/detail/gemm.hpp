#pragma once
// C = diag(ra) A B diag(cb) (or C += ...): a packed, cache-blocked, register-blocked GEMM on
// float or double, so that mlr needs no BLAS or Eigen. Goto's scheme: B is packed once into
// NR-column slivers, row blocks of A (at most MC rows) are packed per KC-deep slice into MR-row
// slivers -- or read in place when their depth is contiguous -- and an MR x NR micro-kernel keeps
// its tile in vector registers (GCC vector extensions: AVX2/AVX-512 with FMA under
// -march=native, SSE otherwise).
// Threads take row blocks; every output element is summed by one thread in one fixed k order,
// so results do not depend on the thread count. Operands are strided, and an axis may be
// "grouped" (index i at (i / group) * group_stride + (i % group) * stride), so a [B, L, D]
// tensor is a (B L) x D matrix whatever its strides.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <type_traits>
#include <vector>

#include "mlr/config.hpp"
#include "mlr/core/detail/parallel.hpp"
#include "mlr/core/view.hpp"

#if defined(__AVX__)
#include <immintrin.h>
#endif

namespace mlr::detail {

// One axis of a matrix operand: extent, stride, and optional grouping (see above).
struct gemm_axis {
  index_t extent = 0, stride = 1, group = 0, group_stride = 0;
  index_t offset(index_t i) const noexcept {
    return group != 0 ? (i / group) * group_stride + (i % group) * stride : i * stride;
  }
  bool unit() const noexcept { return group == 0 && stride == 1; }
};

// A read-only matrix operand and its optional scale vector (per row of A, per column of B;
// nullptr: 1). Element (i, j) lives at data[row.offset(i) + col.offset(j)].
template <class T>
struct gemm_matrix {
  const T* data = nullptr;
  gemm_axis row, col;
  const T* scale = nullptr;

  gemm_matrix transposed() const noexcept { return {data, col, row, scale}; }
};

template <class T, std::size_t R>
gemm_matrix<T> gemm_operand(const strided_view<const T, R>& v, const T* scale = nullptr) {
  if constexpr (R == 2) {
    return {v.data_handle(), {v.extent(0), v.stride(0)}, {v.extent(1), v.stride(1)}, scale};
  } else {  // [B, L, D] as (B L) x D
    static_assert(R == 3);
    const index_t rows = v.extent(0) * v.extent(1);
    gemm_axis row{rows, v.stride(1), v.extent(1), v.stride(0)};
    if (v.stride(0) == v.extent(1) * v.stride(1)) row = {rows, v.stride(1)};  // plain when mergeable
    return {v.data_handle(), row, {v.extent(2), v.stride(2)}, scale};
  }
}

// The writable result: element (i, j) at data[row.offset(i) + col.offset(j)].
template <class T>
struct gemm_output {
  T* data = nullptr;
  gemm_axis row, col;
  gemm_output transposed() const noexcept { return {data, col, row}; }
};

template <class T, std::size_t R>
gemm_output<T> gemm_result(const strided_view<T, R>& v) {
  const gemm_matrix<T> m = gemm_operand(strided_view<const T, R>(v));
  return {v.data_handle(), m.row, m.col};
}

// Vector width: the widest the build enables (AVX-512, AVX, else 16 bytes: SSE2 / NEON).
#if defined(__AVX512F__)
inline constexpr int gemm_vector_bytes = 64;
#elif defined(__AVX__)
inline constexpr int gemm_vector_bytes = 32;
#else
inline constexpr int gemm_vector_bytes = 16;
#endif

template <class T>
struct gemm_shape {
  using vec [[gnu::vector_size(gemm_vector_bytes)]] = T;
  static constexpr int width = gemm_vector_bytes / static_cast<int>(sizeof(T));
  static constexpr int vectors = 2;                   // NR = 2 vectors per row of the tile
  static constexpr int nr = vectors * width;
  static constexpr int mr = gemm_vector_bytes == 64 ? 12 : 6;  // accumulators: 24 of 32 / 12 of 16 registers
  static constexpr index_t kc = 256;                  // depth of a packed slice
  static constexpr index_t mc = 96;                   // rows per block (a task)
};

template <class T, class V>
MLR_FORCEINLINE V gemm_fma(V a, V b, V c) noexcept {
  // Spelled out because -std=c++20 turns off GCC's contraction of a * b + c.
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64 && std::is_same_v<T, float>) return _mm512_fmadd_ps(a, b, c);
  else if constexpr (sizeof(V) == 64) return _mm512_fmadd_pd(a, b, c);
  else return a * b + c;
#elif defined(__FMA__)
  if constexpr (sizeof(V) == 32 && std::is_same_v<T, float>) return _mm256_fmadd_ps(a, b, c);
  else if constexpr (sizeof(V) == 32) return _mm256_fmadd_pd(a, b, c);
  else return a * b + c;
#else
  return a * b + c;
#endif
}

template <class T, class V>
MLR_FORCEINLINE V gemm_broadcast(T x) noexcept {
#if defined(__AVX512F__)
  if constexpr (sizeof(V) == 64 && std::is_same_v<T, float>) return _mm512_set1_ps(x);
  else if constexpr (sizeof(V) == 64) return _mm512_set1_pd(x);
#elif defined(__AVX__)
  if constexpr (sizeof(V) == 32 && std::is_same_v<T, float>) return _mm256_set1_ps(x);
  else if constexpr (sizeof(V) == 32) return _mm256_set1_pd(x);
#endif
  V v;
  for (std::size_t w = 0; w < sizeof(V) / sizeof(T); ++w) v[w] = x;
  return v;
}

// The A side of a micro-kernel call: a packed sliver (k-major, MR per k), or MR row pointers into
// an A whose depth is contiguous (read in place, no packing: it stays in cache across the tile's
// column slivers anyway).
template <class T>
struct packed_sliver {
  const T* p;
  MLR_FORCEINLINE T operator()(index_t k, int i) const noexcept { return p[k * gemm_shape<T>::mr + i]; }
};
template <class T>
struct row_sliver {
  std::array<const T*, gemm_shape<T>::mr> rows;
  MLR_FORCEINLINE T operator()(index_t k, int i) const noexcept { return rows[static_cast<std::size_t>(i)][k]; }
};

// The MR x NR tile of A (kc deep) times packed B (kc x NR, k-major), each row times
// row_scale[i] (nullptr: 1), written (or added) into the first m x n entries of C at c with
// row/column strides rs, cs.
template <class T, class A>
void gemm_micro_kernel(index_t kc, const A& a, const T* __restrict b, T* c, index_t rs, index_t cs, int m, int n,
                       bool accumulate, const T* row_scale) noexcept {
  using S = gemm_shape<T>;
  using V = typename S::vec;
  constexpr int MR = S::mr, NV = S::vectors, W = S::width;
  V acc[MR][NV];
#pragma GCC unroll 16
  for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) acc[i][j] = V{};
  for (index_t k = 0; k < kc; ++k) {
    V bv[NV];
#pragma GCC unroll 4
    for (int j = 0; j < NV; ++j) std::memcpy(&bv[j], b + j * W, sizeof(V));
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i) {
      const V ai = gemm_broadcast<T, V>(a(k, i));
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] = gemm_fma<T>(ai, bv[j], acc[i][j]);
    }
    b += S::nr;
  }
  if (row_scale)
    for (int i = 0; i < m; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) acc[i][j] *= gemm_broadcast<T, V>(row_scale[i]);
  if (cs == 1 && m == MR && n == S::nr) {
#pragma GCC unroll 16
    for (int i = 0; i < MR; ++i)
#pragma GCC unroll 4
      for (int j = 0; j < NV; ++j) {
        T* p = c + i * rs + j * W;
        if (accumulate) {
          V old;
          std::memcpy(&old, p, sizeof(V));
          acc[i][j] += old;
        }
        std::memcpy(p, &acc[i][j], sizeof(V));
      }
    return;
  }
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      T& out = c[i * rs + j * cs];
      const T v = acc[i][j / W][j % W];
      out = accumulate ? out + v : v;
    }
}

// Scratch of one gemm call, reusable: the packed B and one packed A block per worker.
template <class T>
struct gemm_workspace {
  std::vector<T> packed_b;
  std::vector<std::vector<T>> packed_a;
};

// Packs `lanes` vectors of `depth` elements into a k-major sliver of P lanes (zero lanes from
// `lanes` on): dst[k * P + l] = x_l[k] * scale_l. Lane l starts at base + lane_off[l]; element k
// of a lane is at depth_off[k] (relative), or k * depth_stride when depth_off is null.
template <int P, class T>
MLR_FORCEINLINE void gemm_pack_sliver(const T* base, const index_t* lane_off, const T* lane_scale, int lanes,
                                      index_t depth, const index_t* depth_off, index_t depth_stride, T* dst) {
  std::array<const T*, P> src{};
  std::array<T, P> scale{};
  for (int l = 0; l < P; ++l) {
    src[static_cast<std::size_t>(l)] = l < lanes ? base + lane_off[l] : base;
    scale[static_cast<std::size_t>(l)] = l < lanes ? (lane_scale ? lane_scale[l] : T(1)) : T(0);
  }
  if (depth_off == nullptr && lanes == P && lane_off[P - 1] - lane_off[0] == P - 1 && lane_scale == nullptr) {
    for (index_t k = 0; k < depth; ++k)  // lanes side by side: a contiguous copy per k
#pragma GCC unroll 32
      for (int l = 0; l < P; ++l) dst[k * P + l] = src[0][k * depth_stride + l];
    return;
  }
  if (depth_off == nullptr && depth_stride == 1 && lanes == P) {
    for (index_t k = 0; k < depth; ++k)
#pragma GCC unroll 32
      for (int l = 0; l < P; ++l) dst[k * P + l] = src[static_cast<std::size_t>(l)][k] * scale[static_cast<std::size_t>(l)];
    return;
  }
  for (index_t k = 0; k < depth; ++k) {
    const index_t o = depth_off ? depth_off[k] : k * depth_stride;
    for (int l = 0; l < P; ++l)
      dst[k * P + l] = l < lanes ? src[static_cast<std::size_t>(l)][o] * scale[static_cast<std::size_t>(l)] : T(0);
  }
}

// Packs `count` rows (lanes along `lane`, depth along `depth`) of an operand into slivers of P
// lanes: the rows [i0, i0 + count) x depth [k0, k0 + kc).
template <int P, class T>
void gemm_pack(const T* data, const gemm_axis& lane, const T* scale, const gemm_axis& depth, index_t i0,
               index_t count, index_t k0, index_t kc, T* dst) {
  std::array<index_t, gemm_shape<T>::kc> depth_off;
  const bool plain_depth = depth.group == 0;
  if (!plain_depth)
    for (index_t k = 0; k < kc; ++k) depth_off[static_cast<std::size_t>(k)] = depth.offset(k0 + k) - depth.offset(k0);
  const T* base = data + depth.offset(k0);
  std::array<index_t, P> lane_off{};
  std::array<T, P> lane_scale{};
  for (index_t s = 0; s < count; s += P) {
    const int lanes = static_cast<int>(std::min<index_t>(P, count - s));
    for (int l = 0; l < lanes; ++l) {
      lane_off[static_cast<std::size_t>(l)] = lane.offset(i0 + s + l);
      if (scale) lane_scale[static_cast<std::size_t>(l)] = scale[i0 + s + l];
    }
    gemm_pack_sliver<P>(base, lane_off.data(), scale ? lane_scale.data() : nullptr, lanes, kc,
                        plain_depth ? nullptr : depth_off.data(), depth.stride, dst + s * kc);
  }
}

// Rows [i0, i0 + mc) x columns [j0, j1) of C for the depth slice [k0, k0 + kc): A packed into
// `pa` here (or read in place when its depth is contiguous), B already packed, its sliver for
// column j0 at pb (slivers kc * NR apart).
template <class T>
void gemm_block(const gemm_matrix<T>& a, const gemm_output<T>& c, index_t i0, index_t mc, index_t j0, index_t j1,
                index_t k0, index_t kc, const T* pb, T* pa, bool add) {
  using S = gemm_shape<T>;
  const bool direct = a.col.unit();
  if (!direct) gemm_pack<S::mr>(a.data, a.row, a.scale, a.col, i0, mc, k0, kc, pa);
  for (index_t j = j0; j < j1; j += S::nr, pb += S::nr * kc) {
    const int nn = static_cast<int>(std::min<index_t>(S::nr, j1 - j));
    for (index_t s = 0; s < mc; s += S::mr) {
      const index_t i = i0 + s;
      const int mm = static_cast<int>(std::min<index_t>(S::mr, mc - s));
      auto tile = [&](auto&& a_side, const T* scale) {
        if (c.row.group == 0 && c.col.group == 0) {
          T* out = c.data + c.row.offset(i) + c.col.offset(j);
          gemm_micro_kernel(kc, a_side, pb, out, c.row.stride, c.col.stride, mm, nn, add, scale);
          return;
        }
        // A grouped output axis: the tile through a small buffer.
        std::array<T, S::mr * S::nr> buffer{};
        for (int r = 0; r < mm; ++r)
          for (int q = 0; q < nn; ++q)
            buffer[static_cast<std::size_t>(r * S::nr + q)] = c.data[c.row.offset(i + r) + c.col.offset(j + q)];
        gemm_micro_kernel(kc, a_side, pb, buffer.data(), S::nr, 1, mm, nn, add, scale);
        for (int r = 0; r < mm; ++r)
          for (int q = 0; q < nn; ++q)
            c.data[c.row.offset(i + r) + c.col.offset(j + q)] = buffer[static_cast<std::size_t>(r * S::nr + q)];
      };
      if (direct) {
        row_sliver<T> rows;
        for (int r = 0; r < S::mr; ++r)  // rows past the edge repeat the first (never stored)
          rows.rows[static_cast<std::size_t>(r)] = a.data + a.row.offset(r < mm ? i + r : i) + k0;
        tile(rows, a.scale ? a.scale + i : nullptr);
      } else {
        tile(packed_sliver<T>{pa + s * kc}, nullptr);
      }
    }
  }
}

// C (M x N) = diag(a.scale) A (M x K) B (K x N) diag(b.scale), or C += that when accumulate.
// Preconditions: shapes agree, C does not alias A or B. Tasks own disjoint parts of C: row
// blocks (B packed whole first, shared), or, when M is small, column blocks (each packing its
// own B slice by slice, which stays in cache). Which part a task owns never changes a sum: each
// entry is summed over k in the same order by whichever task owns it.
template <class T>
void gemm(const gemm_matrix<T>& a, const gemm_matrix<T>& b, const gemm_output<T>& c, bool accumulate,
          gemm_workspace<T>& ws, unsigned threads) {
  using S = gemm_shape<T>;
  const index_t m = a.row.extent, k = a.col.extent, n = b.col.extent;
  if (m == 0 || n == 0) return;
  if (k == 0) {
    if (!accumulate)
      for (index_t i = 0; i < m; ++i)
        for (index_t j = 0; j < n; ++j) c.data[c.row.offset(i) + c.col.offset(j)] = T(0);
    return;
  }
  const unsigned workers = std::max(1u, 2 * m * n * k > 2'000'000 ? threads : 1u);  // a fork costs tens of us
  const auto w2 = 2 * static_cast<index_t>(workers);  // aim at two tasks per worker
  ws.packed_a.resize(std::max<std::size_t>(ws.packed_a.size(), workers));
  for (auto& buffer : ws.packed_a) buffer.resize(static_cast<std::size_t>(S::mc * S::kc));

  if (m <= 2 * S::mc && n >= 2 * S::nr * static_cast<index_t>(workers)) {
    const index_t cols = std::max<index_t>(S::nr, (n + w2 - 1) / w2 / S::nr * S::nr);
    const index_t blocks = (n + cols - 1) / cols;
    ws.packed_b.resize(static_cast<std::size_t>(workers * S::kc * cols));
    parallel_for(static_cast<std::size_t>(blocks), workers, [&](std::size_t task, unsigned worker) {
      const index_t j0 = static_cast<index_t>(task) * cols, j1 = std::min(n, j0 + cols);
      T* pb = ws.packed_b.data() + worker * S::kc * cols;
      gemm_matrix<T> part = b;  // columns [j0, j1) of B
      part.data += b.col.group == 0 ? j0 * b.col.stride : 0;
      part.col.extent = b.col.group == 0 ? j1 - j0 : b.col.extent;
      if (b.scale && b.col.group == 0) part.scale = b.scale + j0;
      const index_t first = b.col.group == 0 ? 0 : j0;
      for (index_t k0 = 0; k0 < k; k0 += S::kc) {
        const index_t kc = std::min(S::kc, k - k0);
        gemm_pack<S::nr>(part.data, part.col, part.scale, part.row, first, j1 - j0, k0, kc, pb);
        for (index_t i0 = 0; i0 < m; i0 += S::mc)
          gemm_block(a, c, i0, std::min(S::mc, m - i0), j0, j1, k0, kc, pb, ws.packed_a[worker].data(),
                     accumulate || k0 > 0);
      }
    });
    return;
  }

  const index_t n_pad = (n + S::nr - 1) / S::nr * S::nr;
  const index_t slices = (k + S::kc - 1) / S::kc;
  ws.packed_b.resize(static_cast<std::size_t>(k * n_pad));
  parallel_for(static_cast<std::size_t>(slices), slices > 1 && k * n > 65536 ? workers : 1u,
               [&](std::size_t p, unsigned) {
                 const index_t k0 = static_cast<index_t>(p) * S::kc;
                 gemm_pack<S::nr>(b.data, b.col, b.scale, b.row, 0, n, k0, std::min(S::kc, k - k0),
                                  ws.packed_b.data() + k0 * n_pad);
               });
  const index_t rows = std::clamp<index_t>((m + w2 - 1) / w2 / S::mr * S::mr, S::mr, S::mc);
  const index_t blocks = (m + rows - 1) / rows;
  parallel_for(static_cast<std::size_t>(blocks), workers, [&](std::size_t task, unsigned worker) {
    const index_t i0 = static_cast<index_t>(task) * rows;
    for (index_t k0 = 0; k0 < k; k0 += S::kc)
      gemm_block(a, c, i0, std::min(rows, m - i0), 0, n, k0, std::min(S::kc, k - k0), ws.packed_b.data() + k0 * n_pad,
                 ws.packed_a[worker].data(), accumulate || k0 > 0);
  });
}

}  // namespace mlr::detail
