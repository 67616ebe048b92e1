// The README's C++ example, compiled and run by the tests.
// example-begin cpp-readme
#include <cstdio>
#include <mlr/mlr.hpp>
#include <vector>

int main() {
  // 4 images x 3 classes, row-major; labels: 1 positive, 0 negative, -1 ignored.
  std::vector<float> scores{.9f, .2f, .1f, .3f, .8f, .7f, .6f, .4f, .2f, .1f, .5f, .9f};
  std::vector<signed char> labels{1, 0, 0, 0, 1, -1, 1, 1, 0, 0, 0, 0};
  auto map = mlr::mean_average_precision(mlr::make_view(scores.data(), {4, 3}),
                                         mlr::make_view(labels.data(), {4, 3}),
                                         {.average = mlr::average::macro});
  std::printf("mAP %.4f\n", map.value);  // class 2 has no positives: NaN, counted as 0
  for (std::size_t c = 0; c < map.per_class.size(); ++c)
    std::printf("class %zu: AP %.4f%s\n", c, map.per_class[c], map.empty(c) ? " (empty)" : "");
}
// example-end cpp-readme
