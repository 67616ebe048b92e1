#pragma once
// .npy files (numpy's format, versions 1.0, 2.0 and 3.0): C or Fortran order, little-endian
// <f4 <f8 |i1 <i4 <i8 |u1 |b1; 2-D for the metrics (read_npy), any rank for the algorithm
// subcommands (read_npy_array). Everything read is checked: magic, version, header
// syntax, dtype, rank, size arithmetic and the data length against the shape. The data of a
// regular file are memory-mapped, not read (a Fortran-ordered file is a column-major view of
// them); pipes, and data not aligned for their type by the header's length, are read into an
// aligned buffer.
#include <algorithm>
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "files.hpp"
#include "matrix.hpp"
#include "mlr/core/dtype.hpp"
#include "mlr/core/view.hpp"
#include "support.hpp"

namespace mlr_eval {

static_assert(std::endian::native == std::endian::little,
              "mlr-eval reads little-endian .npy data in place; a big-endian host needs byte swapping.");

inline constexpr std::string_view npy_magic = "\x93NUMPY";
inline constexpr std::size_t npy_header_limit = std::size_t{1} << 20;  // numpy itself caps at 10,000

struct npy_header {
  std::string descr;
  bool fortran_order = false;
  std::vector<std::uint64_t> shape;
};

// The supported dtypes, as numpy writes them.
struct npy_dtype {
  std::string_view descr;
  mlr::dtype type;
};
inline constexpr std::array<npy_dtype, 7> npy_dtypes{{
    {"<f4", mlr::dtype::float32},
    {"<f8", mlr::dtype::float64},
    {"|i1", mlr::dtype::int8},
    {"<i4", mlr::dtype::int32},
    {"<i8", mlr::dtype::int64},
    {"|u1", mlr::dtype::uint8},
    {"|b1", mlr::dtype::boolean},
}};

inline std::string_view npy_descr(mlr::dtype type) {
  for (const auto& d : npy_dtypes)
    if (d.type == type) return d.descr;
  return "?";
}

// Why a dtype string is not supported, in words, with the numpy call that fixes it.
inline std::string unsupported_dtype(std::string_view descr) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kinds{{
      {"c", "complex numbers"},
      {"O", "Python objects"},
      {"USa", "strings"},
      {"V", "raw or record data"},
      {"Mm", "dates or time spans"},
      {"f", "this float width; convert with a.astype('<f4')"},
      {"iu", "this integer width; convert with a.astype('<i8')"},
  }};
  const bool ordered = !descr.empty() && std::string_view("<>|=").find(descr[0]) != std::string_view::npos;
  const std::string_view body = ordered ? descr.substr(1) : descr;
  std::string_view why = "not a numeric dtype";
  for (const auto& [letters, reason] : kinds)
    if (!body.empty() && letters.find(body[0]) != std::string_view::npos) why = reason;
  if (descr.size() >= 3 && descr[0] == '>' && body.substr(1) != "1")
    why = "big-endian; convert with a.astype(a.dtype.newbyteorder('<'))";
  return "unsupported dtype " + in_quotes(descr) + " (" + std::string(why) +
         "); mlr-eval reads scores as <f4 or <f8, labels as |i1, <i4, <i8, |u1, |b1, <f4 or <f8";
}

// The mlr dtype of a descr string. One-byte types carry no byte order: '<i1' and '|i1' agree.
inline mlr::dtype parse_npy_dtype(std::string descr) {
  if (descr.size() == 3 && descr[2] == '1' && (descr[0] == '<' || descr[0] == '>' || descr[0] == '='))
    descr[0] = '|';
  for (const auto& d : npy_dtypes)
    if (d.descr == descr) return d.type;
  throw failure(unsupported_dtype(descr));
}

// A parser for the header: a Python dict literal such as
//   {'descr': '<f4', 'fortran_order': False, 'shape': (4952, 20), }
class npy_header_parser {
 public:
  explicit npy_header_parser(std::string_view text) : text_(text) {}

  npy_header parse() {
    npy_header h;
    bool seen_descr = false, seen_order = false, seen_shape = false;
    expect('{', "the header to start a Python dict with '{'");
    while (!peek('}')) {
      const std::string key = parse_string("a quoted key");
      expect(':', "':' after the key " + in_quotes(key));
      if (key == "descr") {
        once(seen_descr, key);
        if (peek('[')) fail("structured (record) dtypes are not supported; save a plain numeric array");
        h.descr = parse_string("a dtype string for 'descr'");
      } else if (key == "fortran_order") {
        once(seen_order, key);
        h.fortran_order = parse_bool();
      } else if (key == "shape") {
        once(seen_shape, key);
        h.shape = parse_shape();
      } else {
        fail("unexpected key " + in_quotes(key) + " (expected only 'descr', 'fortran_order' and 'shape')");
      }
      if (!peek('}')) expect(',', "',' or '}' after the value of " + in_quotes(key));
    }
    expect('}', "'}'");
    skip_space();
    if (pos_ != text_.size())
      fail("unexpected text after the dictionary: " + in_quotes(trim(text_.substr(pos_)), 12) +
           " (is the header length field wrong?)");
    for (const auto& [key, seen] : {std::pair<const char*, bool>{"descr", seen_descr},
                                    {"fortran_order", seen_order},
                                    {"shape", seen_shape}})
      if (!seen) fail(std::string("missing key '") + key + "'");
    return h;
  }

 private:
  [[noreturn]] void fail(const std::string& message) const { throw failure("header: " + message); }

  void once(bool& seen, const std::string& key) const {
    if (seen) fail("key " + in_quotes(key) + " appears twice");
    seen = true;
  }

  void skip_space() {
    while (pos_ < text_.size() && is_blank(text_[pos_])) ++pos_;
  }

  bool peek(char c) {
    skip_space();
    return pos_ < text_.size() && text_[pos_] == c;
  }

  std::string found() const {
    const std::string_view rest = trim(text_.substr(std::min(pos_, text_.size())));
    return rest.empty() ? "found the end of the header" : "found " + in_quotes(rest, 12);
  }

  void expect(char c, const std::string& what) {
    if (!peek(c)) fail("expected " + what + ", " + found());
    ++pos_;
  }

  std::string parse_string(const std::string& what) {
    skip_space();
    if (pos_ >= text_.size() || (text_[pos_] != '\'' && text_[pos_] != '"'))
      fail("expected " + what + ", " + found());
    const char quote = text_[pos_++];
    const std::size_t end = text_.find(quote, pos_);
    if (end == std::string_view::npos)
      fail("unterminated string " + in_quotes(trim(text_.substr(pos_ - 1)), 12));
    std::string s(text_.substr(pos_, end - pos_));
    pos_ = end + 1;
    return s;
  }

  bool parse_bool() {
    skip_space();
    for (const auto& [word, value] : {std::pair<std::string_view, bool>{"True", true}, {"False", false}}) {
      if (text_.substr(pos_, word.size()) == word) {
        pos_ += word.size();
        return value;
      }
    }
    fail("expected True or False for 'fortran_order', " + found());
  }

  std::vector<std::uint64_t> parse_shape() {
    std::vector<std::uint64_t> shape;
    expect('(', "a tuple for 'shape'");
    while (!peek(')')) {
      const std::size_t start = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      const std::string_view digits = text_.substr(start, pos_ - start);
      if (digits.empty()) fail("expected a non-negative integer in 'shape', " + found());
      const auto value = parse_unsigned(digits);
      if (!value) fail("shape value " + in_quotes(digits) + " is too large");
      if (pos_ < text_.size() && text_[pos_] == 'L') ++pos_;  // Python 2's long literal
      shape.push_back(*value);
      if (!peek(')')) expect(',', "',' or ')' in 'shape'");
    }
    expect(')', "')'");
    return shape;
  }

  std::string_view text_;
  std::size_t pos_ = 0;
};

namespace npy_detail {

template <class I>
std::string shape_text(const std::vector<I>& shape) {
  std::string s = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i != 0) s += ", ";
    s += std::to_string(shape[i]);
  }
  return s + (shape.size() == 1 ? ",)" : ")");
}

struct preamble {
  std::size_t size;           // magic, version and length field: 10 or 12 bytes
  std::size_t header_length;  // the dict and its padding
};

// The preamble, checked; the file is left positioned at the header.
inline preamble read_preamble(input_file& file) {
  std::array<char, 12> pre{};
  const std::size_t got = file.read(pre.data(), 8);
  if (got == 0) fail(file.path(), "the file is empty");
  const std::string_view start(pre.data(), std::min(got, npy_magic.size()));
  if (start != npy_magic.substr(0, start.size()))
    fail(file.path(), "not a .npy file: expected it to start with \\x93NUMPY, found " + in_quotes(start));
  if (got < 8)
    fail(file.path(),
         "truncated: the file ends inside the .npy preamble (" + std::to_string(got) + " bytes)");
  const auto major = static_cast<unsigned char>(pre[6]), minor = static_cast<unsigned char>(pre[7]);
  if (major < 1 || major > 3 || minor != 0)
    fail(file.path(), "unsupported .npy format version " + std::to_string(major) + "." +
                          std::to_string(minor) + " (mlr-eval reads 1.0, 2.0 and 3.0)");
  const std::size_t width = major == 1 ? 2 : 4;  // little-endian uint16 or uint32
  if (file.read(pre.data() + 8, width) < width)
    fail(file.path(), "truncated: the file ends inside the header length field");
  std::size_t length = 0;
  for (std::size_t b = width; b-- > 0;) length = (length << 8) | static_cast<unsigned char>(pre[8 + b]);
  const preamble p{8 + width, length};
  if (length == 0) fail(file.path(), "header: the header length field is 0");
  if (const auto size = file.size(); size && length > *size - p.size)
    fail(file.path(), "truncated: the header length field says " + std::to_string(length) +
                          " bytes, but only " + std::to_string(*size - p.size) + " follow");
  if (length > npy_header_limit)
    fail(file.path(), "header: the header length field says " + std::to_string(length) +
                          " bytes, more than the 1 MiB mlr-eval accepts");
  return p;
}

inline npy_header read_header(input_file& file, std::size_t length) {
  std::string text(length, '\0');
  if (file.read(text.data(), length) < length)
    fail(file.path(), "truncated: the file ends inside the header");
  try {
    return npy_header_parser(text).parse();
  } catch (const failure& e) {
    fail(file.path(), e.what());
  }
}

// The dtype of a header that mlr-eval can read: supported dtype, 2-D when `matrix`, a size that
// fits. The array is held as shape[0] rows by the product of the other extents (1 x 1 for 0-D).
inline mlr::dtype check_header(const input_file& file, const npy_header& h, bool matrix) {
  mlr::dtype type{};
  try {
    type = parse_npy_dtype(h.descr);
  } catch (const failure& e) {
    fail(file.path(), e.what());
  }
  if (matrix && h.shape.size() != 2)
    fail(file.path(), "expected a 2-D array (images x classes), found a " + std::to_string(h.shape.size()) +
                          "-D array of shape " + shape_text(h.shape) +
                          (h.shape.size() == 1 ? "; for a single class use a.reshape(-1, 1)" : ""));
  constexpr auto index_max = static_cast<std::uint64_t>(std::numeric_limits<index_t>::max());
  std::optional<std::uint64_t> cols = 1;
  for (std::size_t d = 1; d < h.shape.size() && cols; ++d) cols = checked_mul(*cols, h.shape[d]);
  const std::uint64_t rows = h.shape.empty() ? 1 : h.shape[0];
  if (std::any_of(h.shape.begin(), h.shape.end(), [](std::uint64_t n) { return n > index_max; }) || !cols ||
      !byte_size(type, rows, *cols))
    fail(file.path(), "shape " + shape_text(h.shape) + " of " + in_quotes(h.descr) +
                          " is too large: its size in bytes overflows");
  return type;
}

inline std::string data_need(const npy_header& h, std::size_t bytes) {
  return "shape " + shape_text(h.shape) + " of " + in_quotes(h.descr) + " needs " + std::to_string(bytes) +
         " bytes";
}

// For regular files: the data length equals what the shape needs, checked before allocating.
inline void check_data_length(const input_file& file, const npy_header& h, std::size_t need,
                              std::size_t offset) {
  const auto size = file.size();
  if (!size) return;
  const std::uintmax_t have = *size - offset;
  if (have < need)
    fail(file.path(), "truncated: " + data_need(h, need) + ", the file holds " + std::to_string(have));
  if (have > need)
    fail(file.path(), "the file holds " + std::to_string(have - need) + " bytes more than the data: " +
                          data_need(h, need) + " (is the shape in the header wrong?)");
}

inline void read_data(input_file& file, const npy_header& h, host_matrix& m) {
  const std::size_t need = m.bytes.size();
  if (const std::size_t got = file.read(m.bytes.data(), need); got < need)
    fail(file.path(), "truncated: " + data_need(h, need) + ", the file holds " + std::to_string(got));
  if (!file.at_end()) fail(file.path(), "the file holds more bytes than the data: " + data_need(h, need));
}

// Every byte of a bool array must be 0 or 1; any other value would not be a valid bool. The
// first bad byte in memory order is named.
inline void check_bool_bytes(const input_file& file, const host_matrix& m) {
  const std::byte* bytes = m.raw();
  for (std::size_t k = 0; k < m.raw_size(); ++k) {
    if (bytes[k] != std::byte{0} && bytes[k] != std::byte{1}) {
      const auto at = static_cast<index_t>(k);
      const index_t i = m.column_major ? at % m.rows : at / m.cols;
      const index_t j = m.column_major ? at / m.rows : at % m.cols;
      fail(file.path(), "bool data holds the byte " + std::to_string(static_cast<int>(bytes[k])) + " at " +
                            shape_string(i, j) + "; a bool array holds only 0 and 1");
    }
  }
}

}  // namespace npy_detail

// An array of any rank as read: its elements as a host_matrix of shape[0] rows by the product of
// the other extents (1 x 1 for a 0-D array), in the file's order, and the full shape.
struct npy_array {
  host_matrix elements;
  std::vector<index_t> shape;

  // The array as a rank-R view (R == shape.size()): C or Fortran strides, as the file.
  template <class T, std::size_t R>
  mlr::strided_view<const T, R> view() const {
    std::array<index_t, R> extents{}, strides{};
    index_t step = 1;
    for (std::size_t k = 0; k < R; ++k) {
      const std::size_t d = elements.column_major ? k : R - 1 - k;
      extents[d] = shape[d];
      strides[d] = step;
      step *= shape[d];
    }
    return {elements.data<T>(), extents, strides};
  }
};

namespace npy_detail {

inline npy_array read(const std::string& path, bool matrix) {
  input_file file(path);
  const auto pre = read_preamble(file);
  const npy_header header = read_header(file, pre.header_length);
  const mlr::dtype type = check_header(file, header, matrix);
  npy_array a;
  for (const std::uint64_t n : header.shape) a.shape.push_back(static_cast<index_t>(n));
  index_t rows = 1, cols = 1;
  for (std::size_t d = 0; d < a.shape.size(); ++d) (d == 0 ? rows : cols) *= a.shape[d];
  const std::size_t need = *byte_size(type, static_cast<std::uint64_t>(rows), static_cast<std::uint64_t>(cols));
  const std::size_t offset = pre.size + pre.header_length;
  check_data_length(file, header, need, offset);
  host_matrix& m = a.elements;
  // A regular file whose data length was just checked, and whose data start on a boundary of
  // their type (numpy aligns them to 64 bytes), is viewed in place.
  if (file.size() && need != 0 && offset % element_size(type) == 0)
    m = host_matrix{type, rows, cols, {}, mapped_file::map(file.descriptor(), offset, need)};
  if (!m.mapping) {
    m = allocate_matrix(type, rows, cols);
    read_data(file, header, m);
  }
  m.column_major = header.fortran_order;
  if (type == mlr::dtype::boolean) check_bool_bytes(file, m);
  return a;
}

inline void write(const std::string& path, mlr::dtype type, const std::vector<std::uint64_t>& shape, bool fortran,
                  const void* data, std::size_t bytes) {
  std::string header = "{'descr': '" + std::string(npy_descr(type)) + "', 'fortran_order': " +
                       (fortran ? "True" : "False") + ", 'shape': " + shape_text(shape) + ", }";
  const std::size_t unpadded = npy_magic.size() + 4 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header += '\n';
  const auto length = static_cast<std::uint16_t>(header.size());
  output_file out(path);
  out.write(npy_magic);
  const char preamble[4] = {1, 0, static_cast<char>(length & 0xff), static_cast<char>(length >> 8)};
  out.write(preamble, sizeof preamble);
  out.write(header);
  out.write(data, bytes);
  out.close();
}

}  // namespace npy_detail

// A 2-D .npy file (images x classes), for the metrics.
inline host_matrix read_npy(const std::string& path) { return npy_detail::read(path, true).elements; }

// A .npy file of any rank, for the algorithm subcommands.
inline npy_array read_npy_array(const std::string& path) { return npy_detail::read(path, false); }

// Writes `m` as a version 1.0 .npy file, as numpy.save would.
inline void write_npy(const std::string& path, const host_matrix& m) {
  npy_detail::write(path, m.type, {static_cast<std::uint64_t>(m.rows), static_cast<std::uint64_t>(m.cols)},
                    m.column_major, m.raw(), m.raw_size());
}

// Writes `bytes` bytes at `data`, a C-ordered array of `type` and shape `shape` (any rank), as
// numpy.save would.
inline void write_npy(const std::string& path, mlr::dtype type, const std::vector<index_t>& shape, const void* data,
                      std::size_t bytes) {
  std::vector<std::uint64_t> extents;
  for (const index_t n : shape) extents.push_back(static_cast<std::uint64_t>(n));
  npy_detail::write(path, type, extents, false, data, bytes);
}

}  // namespace mlr_eval
