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

// A hint that the cache line holding p is read soon; no effect on results.
#if MLR_DEVICE_COMPILE
#define MLR_PREFETCH(p) ((void)(p))
#elif defined(_MSC_VER)
#include <intrin.h>
#define MLR_PREFETCH(p) _mm_prefetch(reinterpret_cast<const char*>(p), _MM_HINT_T0)
#else
#define MLR_PREFETCH(p) __builtin_prefetch(p)
#endif
