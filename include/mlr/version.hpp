#pragma once
// The single source of mlr's version; CMake parses these three lines.
#define MLR_VERSION_MAJOR 0
#define MLR_VERSION_MINOR 1
#define MLR_VERSION_PATCH 0

#define MLR_VERSION (MLR_VERSION_MAJOR * 10000 + MLR_VERSION_MINOR * 100 + MLR_VERSION_PATCH)

namespace mlr {
inline constexpr int version_major = MLR_VERSION_MAJOR;
inline constexpr int version_minor = MLR_VERSION_MINOR;
inline constexpr int version_patch = MLR_VERSION_PATCH;
}  // namespace mlr
