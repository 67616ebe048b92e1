#pragma once
// The one macro ladder: host/device qualifiers and inlining hints, defined once.

#if defined(__CUDACC__) || defined(__HIPCC__)
#define MLR_HOST_DEVICE __host__ __device__
#define MLR_DEVICE_COMPILE 1
#else
#define MLR_HOST_DEVICE
#define MLR_DEVICE_COMPILE 0
#endif

#if defined(_MSC_VER)
#define MLR_FORCEINLINE __forceinline
#else
#define MLR_FORCEINLINE inline __attribute__((always_inline))
#endif

#if __cplusplus < 202002L && !defined(_MSVC_LANG)
#error "mlr needs C++20 (-std=c++20)."
#endif

// A hint to fetch the cache line holding p; no effect on results.
#if defined(__GNUC__) || defined(__clang__)
#define MLR_PREFETCH(p) __builtin_prefetch(p)
#else
#define MLR_PREFETCH(p) ((void)(p))
#endif
