// libFuzzer target for mlr-eval's readers (issue 3: truncated or hostile .npy and CSV files),
// and through them for mlr::mean_average_precision's input validation.
//
// Every input is fed, whole, to both readers:
//   * read_npy(path): it only takes a path, so the bytes go to a memfd created once per process
//     (ftruncate + pwrite per run) and are read back through /proc/self/fd/N. A memfd is a regular
//     file, so input_file sees its size up front and read_npy maps it, exactly as a .npy on disk
//     (data not aligned for their type are read instead). A matrix maps its memfd while it lives,
//     so the scores and labels of a pair have a memfd each.
//   * parse_csv(path, text): read_csv's in-memory half (read_csv is read_all + parse_csv).
// An input holding the marker "MLRPAIR" is also split there into a scores part and a labels part,
// each read by the reader its first bytes select (npy magic or CSV, as mlr-eval's is_npy does).
// Whenever a float matrix parses, it goes to mlr::mean_average_precision as scores: against
// itself as labels (the library's label validation), against labels derived from it (-1/0/1,
// the AP kernels), and in the MLRPAIR case against the labels part when the shapes agree.
// The AP options (method, average, empty_class, encoding, epsilon, a class subset) come from the
// input's last two bytes.
//
// Expected outcomes: mlr_eval::failure (the readers' errors), mlr::error (the library's), and
// std::bad_alloc (mlr-eval prints "out of memory"). Any other exception aborts: it would reach
// the user as an unplanned message, and is reported as a bug. Crashes and sanitizer reports are
// bugs, as always.
//
// Build: clang++-14 -fsanitize=fuzzer,address,undefined -std=c++20 -O1 -g -I include -I apps/mlr-eval
//        tests/fuzz/loaders.fuzz.cpp -o loaders_fuzz        (or tests/fuzz/run.sh DIR SECONDS)
#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <new>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <typeinfo>
#include <vector>

#include "csv.hpp"
#include "matrix.hpp"
#include "mlr/core/error.hpp"
#include "mlr/core/execution.hpp"
#include "mlr/metrics/average_precision.hpp"
#include "npy.hpp"
#include "support.hpp"

namespace {

using mlr_eval::host_matrix;
using mlr_eval::index_t;

constexpr std::string_view pair_marker = "MLRPAIR";

// One memfd per process, reused by every run.
class memory_file {
 public:
  memory_file() {
    fd_ = memfd_create("mlr-fuzz.npy", 0);
    if (fd_ < 0) {
      std::perror("memfd_create");
      std::abort();
    }
    path_ = "/proc/self/fd/" + std::to_string(fd_);
  }
  const std::string& set(std::string_view bytes) {
    if (ftruncate(fd_, static_cast<off_t>(bytes.size())) != 0) std::abort();
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = pwrite(fd_, bytes.data() + done, bytes.size() - done, static_cast<off_t>(done));
      if (n <= 0) std::abort();
      done += static_cast<std::size_t>(n);
    }
    return path_;
  }

 private:
  int fd_ = -1;
  std::string path_;
};

// Slot 0 for a whole input and a pair's scores, slot 1 for a pair's labels.
memory_file& npy_file(int slot) {
  static memory_file files[2];
  return files[slot];
}

[[noreturn]] void unexpected(const char* where, const char* type, const char* what) {
  std::fprintf(stderr, "\n*** mlr fuzz: unexpected exception in %s: %s: %s\n", where, type, what);
  std::abort();
}

// Runs f; the exceptions mlr-eval reports as designed are expected, anything else aborts.
template <class F>
void guarded(const char* where, F&& f) {
  try {
    f();
  } catch (const mlr_eval::failure&) {
  } catch (const mlr::error&) {
  } catch (const std::bad_alloc&) {
  } catch (const std::exception& e) {
    unexpected(where, typeid(e).name(), e.what());
  } catch (...) {
    unexpected(where, "non-std exception", "");
  }
}

std::optional<host_matrix> read_npy_bytes(std::string_view bytes, int slot) {
  std::optional<host_matrix> m;
  guarded("read_npy", [&] { m = mlr_eval::read_npy(npy_file(slot).set(bytes)); });
  return m;
}

std::optional<host_matrix> read_csv_bytes(std::string_view bytes) {
  std::optional<host_matrix> m;
  guarded("parse_csv", [&] { m = mlr_eval::parse_csv("fuzz.csv", bytes).values; });
  return m;
}

// As mlr-eval's load_file: .npy by its magic, CSV otherwise.
std::optional<host_matrix> read_either(std::string_view bytes, int slot) {
  return bytes.substr(0, mlr_eval::npy_magic.size()) == mlr_eval::npy_magic ? read_npy_bytes(bytes, slot)
                                                                            : read_csv_bytes(bytes);
}

struct knobs {
  mlr::ap_options options;
  unsigned subset = 0;  // 0 all, 1 {0}, 2 {C-1, 0}, 3 {C} (invalid), 4 {0, 0} (invalid)
};

knobs knobs_of(std::string_view in) {
  const auto a = in.size() >= 1 ? static_cast<unsigned char>(in[in.size() - 1]) : 0u;
  const auto b = in.size() >= 2 ? static_cast<unsigned char>(in[in.size() - 2]) : 0u;
  knobs k;
  k.options.method = static_cast<mlr::ap_method>(a & 3u);
  k.options.average = static_cast<mlr::average>(((a >> 2) & 7u) % 5u);
  k.options.empty_class = static_cast<mlr::empty_class>((a >> 5) & 1u);
  k.options.encoding = static_cast<mlr::label_encoding>((a >> 6) & 1u);
  k.options.epsilon = (b & 1u) ? 1e-8 : 0.0;
  k.subset = ((b >> 1) & 7u) % 5u;
  return k;
}

// mlr::mean_average_precision on two matrices, as mlr-eval's evaluate() calls it: float scores
// only, the shapes already equal (mlr-eval rejects a mismatch before the library sees it).
void evaluate(const host_matrix& scores, const host_matrix& labels, const knobs& k) {
  if (scores.rows != labels.rows || scores.cols != labels.cols) return;
  if (scores.type != mlr::dtype::float32 && scores.type != mlr::dtype::float64) return;
  std::vector<index_t> classes;
  const index_t c = scores.cols;
  switch (k.subset) {
    case 1: if (c >= 1) classes = {0}; break;
    case 2: if (c >= 1) classes = {c - 1, 0}; break;
    case 3: classes = {c}; break;
    case 4: if (c >= 1) classes = {0, 0}; break;
    default: break;
  }
  guarded("mean_average_precision", [&] {
    mlr_eval::visit_view(scores, [&](auto sv) {
      using S = typename decltype(sv)::value_type;
      if constexpr (std::is_floating_point_v<S>) {
        mlr_eval::visit_view(labels, [&](auto lv) {
          const auto r = mlr::mean_average_precision(sv, lv, k.options, std::span<const index_t>(classes),
                                                     mlr::execution_env{1});
          if (r.per_class.size() != r.positives.size()) std::abort();
        });
      }
    });
  });
}

// Labels -1 / 0 / 1 from a float matrix of any values (NaN -> 0).
host_matrix labels_from(const host_matrix& m) {
  host_matrix l = mlr_eval::allocate_matrix(mlr::dtype::int8, m.rows, m.cols);
  auto* out = reinterpret_cast<std::int8_t*>(l.bytes.data());
  const std::size_t n = static_cast<std::size_t>(m.rows) * static_cast<std::size_t>(m.cols);
  for (std::size_t k = 0; k < n; ++k) {
    const double v = m.type == mlr::dtype::float32 ? static_cast<double>(m.data<float>()[k]) : m.data<double>()[k];
    out[k] = static_cast<std::int8_t>(v > 0.5 ? 1 : v < -0.5 ? -1 : 0);
  }
  return l;
}

// Float32 scores with many ties for a label matrix of any type.
host_matrix scores_for(const host_matrix& labels) {
  host_matrix s = mlr_eval::allocate_matrix(mlr::dtype::float32, labels.rows, labels.cols);
  auto* out = reinterpret_cast<float*>(s.bytes.data());
  const std::size_t n = static_cast<std::size_t>(labels.rows) * static_cast<std::size_t>(labels.cols);
  for (std::size_t k = 0; k < n; ++k) out[k] = static_cast<float>((k * 2654435761u) % 7u);
  return s;
}

bool is_float(const host_matrix& m) { return m.type == mlr::dtype::float32 || m.type == mlr::dtype::float64; }

void exercise(const host_matrix& m, const knobs& k) {
  if (is_float(m)) {
    evaluate(m, m, k);                  // the matrix as its own labels: validation
    guarded("labels_from", [&] { evaluate(m, labels_from(m), k); });  // valid-ish labels: the kernels
  } else {
    guarded("scores_for", [&] { evaluate(scores_for(m), m, k); });  // integer / bool labels
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const knobs k = knobs_of(in);

  // Both readers on the whole input.
  if (auto m = read_npy_bytes(in, 0)) exercise(*m, k);
  if (auto m = read_csv_bytes(in)) exercise(*m, k);

  // A scores / labels pair.
  if (const std::size_t at = in.find(pair_marker); at != std::string_view::npos) {
    auto s = read_either(in.substr(0, at), 0);
    auto l = read_either(in.substr(at + pair_marker.size()), 1);
    if (s && l) evaluate(*s, *l, k);
  }
  return 0;
}
