#pragma once
#include <string_view>
#include <type_traits>

namespace mlr {

// Where a view's elements live. Part of the view's type, so that device memory can never be
// dereferenced by host code by accident.
struct host_space {
  static constexpr std::string_view name = "host";
};
struct device_space {
  static constexpr std::string_view name = "device";
};

template <class Space>
inline constexpr bool is_memory_space_v =
    std::is_same_v<Space, host_space> || std::is_same_v<Space, device_space>;

template <class Space>
inline constexpr bool is_host_accessible_v = std::is_same_v<Space, host_space>;

}  // namespace mlr
