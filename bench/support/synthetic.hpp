#pragma once
// Seeded, realistic multi-label score/label matrices for the benchmarks (not part of mlr).
//
// The model (the same one bench/compare_ap.py draws with numpy):
//   - class c has prior p_c proportional to 1 / (rank_c + 1) (Zipf, exponent 1) over a seeded
//     permutation of the classes, scaled so that the mean number of positives per image is the
//     protocol's label cardinality, and clipped to [0, 0.5];
//   - y_ic ~ Bernoulli(p_c), stored as int8 (1 positive, 0 negative);
//   - logit z_ic = b_c + y_ic * d_c + N(0, 1) with b_c ~ U(-3, -1) and separation d_c ~ U(1, 3)
//     (positives ranked imperfectly: per-class ROC AUC between about 0.76 and 0.98);
//   - score s_ic = sigmoid(z_ic) in T; 1 % of the entries are rounded to a multiple of 1/1000,
//     which makes a few ties between positives and negatives.
// Entries are drawn from a counter-based generator (SplitMix64 of seed, row and column), so any
// thread count fills the same matrix and no temporary larger than one row is ever allocated.
#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <new>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

namespace mlr_bench {

struct shape {
  const char* name;
  std::ptrdiff_t rows, cols;
  double cardinality;  // mean positives per image
};

// Protocol test-set shapes (STYLE.md habit 11). Label cardinalities: VOC 2007 test and COCO 2014
// val have about 1.4 and 2.9 labels per image; 5 is assumed for NUS-WIDE's 1,006 GZSL tags.
inline constexpr shape voc{"VOC", 4952, 20, 1.4};
inline constexpr shape coco{"COCO", 40137, 80, 2.9};
inline constexpr shape nus_gzsl{"NUS-WIDE-GZSL", 107859, 1006, 5.0};
inline constexpr shape all_shapes[] = {voc, coco, nus_gzsl};

inline std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}
// Uniform in (0, 1) from 53 random bits.
inline double to_unit(std::uint64_t x) noexcept {
  return (static_cast<double>(x >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

struct class_model {
  std::vector<double> prior, bias, separation;
};

inline class_model make_class_model(const shape& s, std::uint64_t seed) {
  const auto C = static_cast<std::size_t>(s.cols);
  std::vector<std::size_t> rank(C);
  std::iota(rank.begin(), rank.end(), std::size_t{0});
  for (std::size_t i = C; i-- > 1;) {  // seeded Fisher-Yates
    const auto j = static_cast<std::size_t>(splitmix64(seed ^ (0xC1A55ull + i)) % (i + 1));
    std::swap(rank[i], rank[j]);
  }
  class_model m;
  m.prior.resize(C);
  m.bias.resize(C);
  m.separation.resize(C);
  double harmonic = 0.0;
  for (std::size_t r = 0; r < C; ++r) harmonic += 1.0 / static_cast<double>(r + 1);
  for (std::size_t c = 0; c < C; ++c) {
    m.prior[c] = std::min(0.5, s.cardinality / harmonic / static_cast<double>(rank[c] + 1));
    m.bias[c] = -3.0 + 2.0 * to_unit(splitmix64(seed ^ (0xB1A5ull << 20) ^ c));
    m.separation[c] = 1.0 + 2.0 * to_unit(splitmix64(seed ^ (0x5E9Aull << 20) ^ c));
  }
  return m;
}

// Whether benchmark inputs ask for transparent huge pages, as numpy does for every array of
// 4 MiB or more (madvise(MADV_HUGEPAGE)); MLR_BENCH_HUGEPAGES=0 in the environment turns it off.
inline bool use_huge_pages() {
  static const bool on = [] {
    const char* v = std::getenv("MLR_BENCH_HUGEPAGES");
    return !(v && v[0] == '0');
  }();
  return on;
}

// Allocates 2 MiB-aligned blocks and advises huge pages for those of 4 MiB or more, like numpy.
template <class T>
struct input_allocator {
  using value_type = T;
  input_allocator() = default;
  template <class U>
  input_allocator(const input_allocator<U>&) noexcept {}
  T* allocate(std::size_t n) {
    constexpr std::size_t huge = std::size_t{2} << 20;
    const std::size_t bytes = (n * sizeof(T) + huge - 1) / huge * huge;
    void* p = std::aligned_alloc(huge, bytes);
    if (!p) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
    if (use_huge_pages() && bytes >= 2 * huge) madvise(p, bytes, MADV_HUGEPAGE);
#endif
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t) noexcept { std::free(p); }
  template <class U>
  bool operator==(const input_allocator<U>&) const noexcept { return true; }
};

template <class T>
using input_vector = std::vector<T, input_allocator<T>>;

template <class T>
struct dataset {
  shape dims;
  input_vector<T> scores;              // rows x cols, row-major
  input_vector<std::int8_t> labels;    // rows x cols, row-major, 1 / 0
  std::size_t entries() const noexcept { return scores.size(); }
  std::size_t input_bytes() const noexcept { return scores.size() * (sizeof(T) + 1); }
};

// Fills rows [begin, end) of preallocated scores and labels.
template <class T>
void fill_rows(const shape& s, const class_model& m, std::uint64_t seed, T* scores,
               std::int8_t* labels, std::ptrdiff_t begin, std::ptrdiff_t end) {
  constexpr double two_pi = 6.283185307179586;
  for (std::ptrdiff_t i = begin; i < end; ++i) {
    for (std::ptrdiff_t c = 0; c < s.cols; ++c) {
      const std::uint64_t key = seed ^ (static_cast<std::uint64_t>(i * s.cols + c) * 0x9E3779B97F4A7C15ull);
      const std::uint64_t a = splitmix64(key), b = splitmix64(key ^ 0xA5A5A5A5A5A5A5A5ull);
      const std::uint64_t t = splitmix64(b);
      const bool positive = to_unit(a) < m.prior[c];
      const double normal = std::sqrt(-2.0 * std::log(to_unit(b))) * std::cos(two_pi * to_unit(t));
      const double z = m.bias[c] + (positive ? m.separation[c] : 0.0) + normal;
      double score = 1.0 / (1.0 + std::exp(-z));
      if ((splitmix64(t) >> 56) < 3) score = std::round(score * 1000.0) / 1000.0;  // about 1.2 %: ties
      scores[i * s.cols + c] = static_cast<T>(score);
      labels[i * s.cols + c] = positive ? 1 : 0;
    }
  }
}

// Fills preallocated row-major scores and labels using up to `threads` threads.
template <class T>
void fill(const shape& s, std::uint64_t seed, T* scores, std::int8_t* labels, unsigned threads = 0) {
  const class_model m = make_class_model(s, seed);
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  std::vector<std::thread> pool;
  const std::ptrdiff_t per = (s.rows + threads - 1) / threads;
  for (unsigned w = 0; w < threads; ++w) {
    const std::ptrdiff_t begin = std::min<std::ptrdiff_t>(s.rows, w * per);
    const std::ptrdiff_t end = std::min<std::ptrdiff_t>(s.rows, begin + per);
    pool.emplace_back([&, begin, end] { fill_rows(s, m, seed, scores, labels, begin, end); });
  }
  for (auto& t : pool) t.join();
}

template <class T>
dataset<T> make_dataset(const shape& s, std::uint64_t seed = 2024) {
  dataset<T> d{s, input_vector<T>(static_cast<std::size_t>(s.rows * s.cols)),
               input_vector<std::int8_t>(static_cast<std::size_t>(s.rows * s.cols))};
  fill(s, seed, d.scores.data(), d.labels.data());
  return d;
}

}  // namespace mlr_bench
