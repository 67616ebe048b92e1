#pragma once
// Small helpers shared by mlr-eval's readers and report: the two error kinds, checked size
// arithmetic, text trimming and quoting for one-line messages.
#include <charconv>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

namespace mlr_eval {

// Bad input data (files, their contents, a data-dependent option): printed as one line, exit 2.
class failure : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A malformed command line: printed as one line plus a usage hint, exit 2.
class usage_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// a * b, or nullopt when the product leaves [0, PTRDIFF_MAX] (every size mlr-eval allocates or
// indexes with must fit a signed index and a size_t).
inline std::optional<std::uint64_t> checked_mul(std::uint64_t a, std::uint64_t b) noexcept {
  std::uint64_t product = 0;
  if (__builtin_mul_overflow(a, b, &product)) return std::nullopt;
  if (product > static_cast<std::uint64_t>(std::numeric_limits<std::ptrdiff_t>::max())) return std::nullopt;
  return product;
}

inline bool is_blank(char c) noexcept {
  return c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return s;
}

inline std::vector<std::string_view> split(std::string_view s, char separator) {
  std::vector<std::string_view> parts;
  for (std::size_t start = 0;;) {
    const std::size_t end = s.find(separator, start);
    parts.push_back(s.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// `text` made printable on one line: control and non-ASCII bytes as \xNN, newlines as \n.
inline std::string escape(std::string_view text) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (const char ch : text) {
    const auto c = static_cast<unsigned char>(ch);
    if (c == '\n')
      out += "\\n";
    else if (c == '\t')
      out += "\\t";
    else if (c < 0x20 || c >= 0x7f)
      out += {'\\', 'x', hex[c >> 4], hex[c & 15]};
    else
      out += ch;
  }
  return out;
}

// 'text' in quotes, escaped, cut to `limit` characters: safe to embed in an error message.
inline std::string in_quotes(std::string_view text, std::size_t limit = 40) {
  const bool cut = text.size() > limit;
  return "'" + escape(text.substr(0, limit)) + (cut ? "...'" : "'");
}

// A whole-string unsigned decimal, or nullopt (empty, sign, other characters, overflow).
inline std::optional<std::uint64_t> parse_unsigned(std::string_view text) noexcept {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return value;
}

inline std::string shape_string(std::int64_t rows, std::int64_t cols) {
  return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")";
}

}  // namespace mlr_eval
