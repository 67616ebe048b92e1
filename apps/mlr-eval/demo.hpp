#pragma once
// The embedded demo: a VOC-shaped problem (4,952 test images x 20 classes) generated
// deterministically from a seed. Only integer operations and correctly rounded IEEE arithmetic
// (+, -, *, /, rounding) are used, so every platform and standard library produces the same bits.
#include <array>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "matrix.hpp"

namespace mlr_eval {

// splitmix64 (Steele, Lea, Flood 2014): a tiny generator with a fixed, documented output.
class splitmix64 {
 public:
  explicit splitmix64(std::uint64_t seed) noexcept : state_(seed) {}

  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  // Uniform in [0, 1), 53 random bits.
  double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  // Uniform in [0, n) (the modulo bias is below 2^-40 for the small n used here).
  std::uint64_t below(std::uint64_t n) noexcept { return next() % n; }
  // Mean 0, variance 1, bell-shaped: a sum of four uniforms (Irwin-Hall), rescaled.
  double noise() noexcept {
    const double sum = uniform() + uniform() + uniform() + uniform();
    return (sum - 2.0) * 1.7320508075688772;
  }

 private:
  std::uint64_t state_;
};

struct demo_class {
  std::string_view name;
  int images;         // images containing the class in the VOC 2007 test set: the sampling weight
  double separation;  // how far positives' scores sit above negatives' (in noise units)
};

// VOC's 20 classes with their VOC 2007 test frequencies; person is in ~40% of the images.
inline constexpr std::array<demo_class, 20> demo_classes{{
    {"aeroplane", 204, 3.7}, {"bicycle", 239, 2.9},   {"bird", 282, 3.3},        {"boat", 172, 2.7},
    {"bottle", 212, 1.8},    {"bus", 174, 3.2},       {"car", 721, 2.8},         {"cat", 322, 3.6},
    {"chair", 417, 2.0},     {"cow", 127, 2.7},       {"diningtable", 190, 2.1}, {"dog", 418, 3.1},
    {"horse", 274, 3.2},     {"motorbike", 222, 3.1}, {"person", 2007, 2.6},     {"pottedplant", 224, 1.7},
    {"sheep", 97, 2.8},      {"sofa", 223, 2.2},      {"train", 259, 3.5},       {"tvmonitor", 229, 2.7},
}};

inline constexpr index_t demo_images = 4952;
inline constexpr std::uint64_t demo_seed = 2007;

struct demo_data {
  host_matrix scores;  // float32, in [0, 1], 5 decimals (so some scores tie)
  host_matrix labels;  // int8, canonical: 1 positive, 0 negative, -1 ignored ("difficult")
  std::vector<std::string> names;
};

namespace demo_detail {

// 1 to 4 labels per image (mean ~1.43, VOC's label cardinality is ~1.4).
inline int label_count(splitmix64& rng) {
  const double u = rng.uniform();
  return u < 0.70 ? 1 : u < 0.90 ? 2 : u < 0.97 ? 3 : 4;
}

// `count` distinct classes drawn without replacement, each with probability proportional to
// its VOC frequency; marks them 1 in `row`.
inline void draw_positives(splitmix64& rng, int count, std::int8_t* row) {
  std::uint64_t total = 0;
  for (const auto& c : demo_classes) total += static_cast<std::uint64_t>(c.images);
  for (int drawn = 0; drawn < count; ++drawn) {
    std::uint64_t ticket = rng.below(total);
    for (std::size_t c = 0; c < demo_classes.size(); ++c) {
      if (row[c] != 0) continue;
      const auto weight = static_cast<std::uint64_t>(demo_classes[c].images);
      if (ticket < weight) {
        row[c] = 1;
        total -= weight;
        break;
      }
      ticket -= weight;
    }
  }
}

// A logistic-shaped squashing of a signal to (0, 1) that needs no exp(): z / (1 + |z|) is
// exact IEEE arithmetic, so the scores are bit-identical everywhere. Rounded to 5 decimals.
inline float demo_score(double z) {
  const double p = 0.5 + 0.5 * z / (1.0 + std::fabs(z));
  return static_cast<float>(std::round(p * 100000.0) / 100000.0);
}

}  // namespace demo_detail

inline demo_data make_demo() {
  constexpr auto classes = static_cast<index_t>(demo_classes.size());
  std::vector<std::int8_t> labels(static_cast<std::size_t>(demo_images * classes), 0);
  std::vector<float> scores(labels.size());
  splitmix64 rng(demo_seed);
  for (index_t i = 0; i < demo_images; ++i) {
    std::int8_t* row = labels.data() + i * classes;
    demo_detail::draw_positives(rng, demo_detail::label_count(rng), row);
    for (index_t c = 0; c < classes; ++c) {
      const bool positive = row[c] == 1;
      if (positive && rng.uniform() < 0.05) row[c] = -1;  // a "difficult" object: ignored
      const double signal = positive ? demo_classes[c].separation / 2 : -demo_classes[c].separation / 2;
      scores[static_cast<std::size_t>(i * classes + c)] = demo_detail::demo_score(signal + rng.noise());
    }
  }
  demo_data demo{matrix_from<float>(scores, demo_images, classes),
                 matrix_from<std::int8_t>(labels, demo_images, classes),
                 {}};
  for (const auto& c : demo_classes) demo.names.emplace_back(c.name);
  return demo;
}

}  // namespace mlr_eval
