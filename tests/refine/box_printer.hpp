#pragma once
// How Catch2 prints a patch_box in a failed check: [x0, y0, x1, y1].
#include <catch2/catch.hpp>

#include <sstream>
#include <string>

#include "mlr/refine/grid.hpp"

namespace Catch {
template <>
struct StringMaker<mlr::patch_box> {
  static std::string convert(const mlr::patch_box& b) {
    std::ostringstream out;
    out << '[' << b.x0 << ", " << b.y0 << ", " << b.x1 << ", " << b.y1 << ']';
    return out.str();
  }
};
}  // namespace Catch
