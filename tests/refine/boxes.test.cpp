// region_boxes and the class binary maps: the worked vectors of METHOD.md 7.13, OpenCV's
// RETR_EXTERNAL rule (regions in holes dropped, background 4-connected), the last row/column
// clipping of reference mode, and bad input.
#include <catch2/catch.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "mlr/adapt/raw.hpp"
#include "mlr/refine/boxes.hpp"
#include "mlr/refine/detail/class_map.hpp"
#include "refine/box_printer.hpp"
#include "support/matchers.hpp"

using mlr::index_t;
using mlr::patch_box;
using mlr::patch_grid;
using mlr::tagclip_mode;
using mlr_test::message_contains;

namespace {

using boxes = std::vector<patch_box>;

// A binary map from rows of '#' (foreground) and '.' (background).
std::vector<std::uint8_t> picture(const std::vector<std::string>& rows) {
  std::vector<std::uint8_t> b;
  for (const auto& r : rows)
    for (char c : r) b.push_back(c == '#');
  return b;
}

boxes run(const std::vector<std::string>& rows, tagclip_mode mode) {
  auto b = picture(rows);
  const patch_grid grid{static_cast<index_t>(rows.size()), static_cast<index_t>(rows[0].size())};
  return mlr::region_boxes(mlr::make_view(b.data(), {grid.rows, grid.cols}), grid, mode);
}

constexpr auto reference = tagclip_mode::reference;
constexpr auto corrected = tagclip_mode::corrected;

}  // namespace

TEST_CASE("METHOD 7.13: scoremap2bbox on a normalised map with the mean threshold", "[refine][boxes]") {
  // 4 x 5 grid, map 1 on the region and 0 elsewhere, binarised as DMAR does, then boxed.
  const patch_grid grid{4, 5};
  auto boxes_of = [&](const std::vector<std::string>& rows, tagclip_mode mode) {
    std::vector<double> s;
    for (auto x : picture(rows)) s.push_back(x);
    std::vector<std::uint8_t> b(s.size());
    REQUIRE(mlr::detail::class_binary_map(s.data(), grid.size(), 1, mode, b.data()));
    CHECK(b == picture(rows));
    return mlr::region_boxes(mlr::make_view(b.data(), {grid.size()}), grid, mode);
  };
  const std::vector<std::string> block{".....", "...##", "...##", "....."};
  CHECK(boxes_of(block, reference) == boxes{{3, 1, 4, 3}});  // column 3 only
  CHECK(boxes_of(block, corrected) == boxes{{3, 1, 5, 3}});
  const std::vector<std::string> corners{"#....", ".....", ".....", "....#"};
  CHECK(boxes_of(corners, reference) == boxes{{0, 0, 1, 1}, {4, 3, 4, 3}});  // the second one empty, kept
  CHECK(boxes_of(corners, corrected) == boxes{{0, 0, 1, 1}, {4, 3, 5, 4}});
  CHECK(boxes{{4, 3, 4, 3}}[0].empty());
}

TEST_CASE("METHOD 7.13: uint8 truncation of the normalised map", "[refine][boxes]") {
  CHECK(mlr::detail::uint8_level(0.999) == 254);
  CHECK(mlr::detail::uint8_level(1.0) == 255);
  CHECK(mlr::detail::uint8_level(0.0) == 0);
  // 254 patches at s = 1, one at 0, one at 0.999: mean(s) = 254.999 / 256, theta = floor(mean 255)
  // = 254. Truncation gives u = 254, not above theta; corrected mode keeps s > mean(s).
  std::vector<double> p(256, 5.0);
  p[3] = 2.0;
  p[200] = 2.0 + 0.999 * 3.0;
  std::vector<std::uint8_t> b(256);
  REQUIRE(mlr::detail::class_binary_map(p.data(), 256, 1, reference, b.data()));
  CHECK(b[200] == 0);
  CHECK(b[3] == 0);
  CHECK(b[0] == 1);
  REQUIRE(mlr::detail::class_binary_map(p.data(), 256, 1, corrected, b.data()));
  CHECK(b[200] == 1);
  CHECK(b[3] == 0);
}

TEST_CASE("class_binary_map: a constant column or a single patch gives an empty map", "[refine][boxes]") {
  for (auto mode : {reference, corrected}) {
    std::vector<float> p{0.25f, 0.25f, 0.25f};
    std::vector<std::uint8_t> b(3, 7);
    CHECK_FALSE(mlr::detail::class_binary_map(p.data(), 3, 1, mode, b.data()));
    CHECK(b == std::vector<std::uint8_t>{0, 0, 0});
    CHECK_FALSE(mlr::detail::class_binary_map(p.data(), 1, 1, mode, b.data()));
    CHECK(b[0] == 0);
  }
}

TEST_CASE("region_boxes: a region in a hole of another is dropped (RETR_EXTERNAL)", "[refine][boxes]") {
  for (auto mode : {reference, corrected}) {
    // A ring with a single patch inside: only the ring's box.
    CHECK(run({".......", ".#####.", ".#...#.", ".#.#.#.", ".#...#.", ".#####.", "......."}, mode) ==
          boxes{{1, 1, 6, 6}});
    // Nested: ring, ring inside its hole, a patch inside that: still one box.
    CHECK(run({"#########", "#.......#", "#.#####.#", "#.#...#.#", "#.#.#.#.#", "#.#...#.#", "#.#####.#",
               "#.......#", "#########"},
              mode) == boxes{mlr::detail::region_box(0, 0, 8, 8, {9, 9}, mode)});
    // The ring's corner missing: still closed for 8-connected foreground, and the background
    // (4-connected) does not leak through the diagonal gap.
    CHECK(run({".......", "..####.", ".#...#.", ".#.#.#.", ".#...#.", ".#####.", "......."}, mode) ==
          boxes{{1, 1, 6, 6}});
    // An edge patch missing: the hole opens to the outside and the inner patch has its own box.
    CHECK(run({".......", ".##.##.", ".#...#.", ".#.#.#.", ".#...#.", ".#####.", "......."}, mode) ==
          boxes{{1, 1, 6, 6}, {3, 3, 4, 4}});
  }
}

TEST_CASE("region_boxes: 8-connectivity, raster order of first patches", "[refine][boxes]") {
  for (auto mode : {reference, corrected}) {
    // Diagonal neighbours join; the region starting at (0, 3) comes before the one at (1, 0).
    CHECK(run({"...#..", "#...#.", ".#....", "......"}, mode) == boxes{{3, 0, 5, 2}, {0, 1, 2, 3}});
  }
}

TEST_CASE("region_boxes: regions in the last row or column", "[refine][boxes]") {
  const std::vector<std::string> last_column{"...#", "...#", "...."};
  CHECK(run(last_column, reference) == boxes{{3, 0, 3, 2}});  // empty: the last column is excluded
  CHECK(run(last_column, corrected) == boxes{{3, 0, 4, 2}});
  const std::vector<std::string> last_row{"....", "....", ".##."};
  CHECK(run(last_row, reference) == boxes{{1, 2, 3, 2}});
  CHECK(run(last_row, corrected) == boxes{{1, 2, 3, 3}});
  const std::vector<std::string> full{"####", "####", "####"};
  CHECK(run(full, reference) == boxes{{0, 0, 3, 2}});
  CHECK(run(full, corrected) == boxes{{0, 0, 4, 3}});
}

TEST_CASE("region_boxes: single patch, no contour", "[refine][boxes]") {
  CHECK(run({"#"}, reference) == boxes{{0, 0, 0, 0}});
  CHECK(run({"#"}, corrected) == boxes{{0, 0, 1, 1}});
  for (auto mode : {reference, corrected}) {
    CHECK(run({"."}, mode).empty());
    CHECK(run({"....", "...."}, mode).empty());
  }
}

TEST_CASE("region_boxes: [N] and [rows, cols], strided, workspace reuse", "[refine][boxes]") {
  const auto b = picture({"#..#.", ".#...", "....#", "##..."});
  const patch_grid grid{4, 5};
  const auto expected = mlr::region_boxes(mlr::make_view(b.data(), {4, 5}), grid);
  CHECK(expected == boxes{{0, 0, 2, 2}, {3, 0, 4, 1}, {4, 2, 4, 3}, {0, 3, 2, 3}});
  CHECK(mlr::region_boxes(mlr::make_view(b.data(), {20}), grid) == expected);
  // The same map stored column-major, and nonzero values other than 1.
  std::vector<std::uint8_t> t(20);
  for (index_t y = 0; y < 4; ++y)
    for (index_t x = 0; x < 5; ++x) t[static_cast<std::size_t>(x * 4 + y)] = static_cast<std::uint8_t>(b[static_cast<std::size_t>(y * 5 + x)] * 255);
  CHECK(mlr::region_boxes(mlr::make_view(t.data(), {4, 5}, mlr::column_major), grid) == expected);
  mlr::region_workspace ws;
  boxes out{{9, 9, 9, 9}};
  mlr::region_boxes(mlr::make_view(b.data(), {20}), grid, reference, out, ws);
  CHECK(out == expected);
  mlr::region_boxes(mlr::make_view(b.data(), {20}), grid, corrected, out, ws);
  CHECK(out == boxes{{0, 0, 2, 2}, {3, 0, 4, 1}, {4, 2, 5, 3}, {0, 3, 2, 4}});
}

TEST_CASE("region_boxes rejects bad input", "[refine][boxes][errors]") {
  std::vector<std::uint8_t> b(12, 0);
  CHECK_THROWS_MATCHES(mlr::region_boxes(mlr::make_view(b.data(), {3, 4}), patch_grid{4, 3}), mlr::error,
                       message_contains("binary: expected shape (4, 3) (grid 4 x 3), found (3, 4)"));
  CHECK_THROWS_MATCHES(mlr::region_boxes(mlr::make_view(b.data(), {12}), patch_grid{3, 5}), mlr::error,
                       message_contains("grid: 3 x 5 = 15 patches, but binary has 12"));
  CHECK_THROWS_MATCHES(mlr::region_boxes(mlr::make_view(b.data(), {12}), patch_grid{0, 5}), mlr::error,
                       message_contains("grid: rows and cols must be positive, got 0 x 5"));
  CHECK_THROWS_MATCHES(mlr::region_boxes(mlr::make_view(b.data(), {0}), patch_grid{1, 1}), mlr::error,
                       message_contains("binary: expected a non-empty tensor"));
}
