#pragma once
// The binary state of the accumulators: a fixed little-endian layout that any process or machine
// can read back, whatever its own byte order.
//
//   offset  size  field
//   0       8     magic "MLRSTATE"
//   8       4     format version (u32), state_format_version
//   12      1     kind: 1 exact ap_accumulator, 2 binned_ap_accumulator
//   13      1     score type: 4 float32, 8 float64
//   14      1     label encoding: 0 canonical, 1 signed_zero_ignored
//   15      1     reserved, 0
//   16      8     classes (u64)
//   24      8     rows (exact) or thresholds (binned) (u64)
//   32      ...   payload (see each accumulator)
//   end-8   8     FNV-1a 64 of every preceding byte (u64)
// Integers are unsigned little-endian; floating-point values are IEEE 754 binary32/64 stored as
// little-endian integers of their bits.
#include <array>
#include <bit>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <type_traits>
#include <vector>

#include "mlr/core/error.hpp"
#include "mlr/core/policies.hpp"

namespace mlr {

inline constexpr std::uint32_t state_format_version = 1;

enum class state_kind : std::uint8_t { exact = 1, binned = 2 };

// What a serialized state holds, read from its header (checked: magic, version, fields in range).
struct state_header {
  state_kind kind;
  std::size_t score_bytes;  // 4 (float) or 8 (double)
  label_encoding encoding;
  std::uint64_t classes;
  std::uint64_t extent;  // rows (exact) or thresholds (binned)
};

namespace detail {

inline constexpr std::array<char, 8> state_magic{'M', 'L', 'R', 'S', 'T', 'A', 'T', 'E'};
inline constexpr std::size_t state_header_bytes = 32;
inline constexpr std::size_t state_checksum_bytes = 8;

inline std::uint64_t fnv1a(std::span<const std::byte> bytes) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (std::byte b : bytes) h = (h ^ static_cast<std::uint64_t>(b)) * 1099511628211ull;
  return h;
}

template <class T>
using bits_of = std::conditional_t<sizeof(T) == 1, std::uint8_t,
                std::conditional_t<sizeof(T) == 4, std::uint32_t, std::uint64_t>>;

class state_writer {
 public:
  state_writer(state_kind kind, std::size_t score_bytes, label_encoding encoding, std::uint64_t classes,
               std::uint64_t extent, std::size_t payload_bytes) {
    out_.reserve(state_header_bytes + payload_bytes + state_checksum_bytes);
    for (char c : state_magic) out_.push_back(static_cast<std::byte>(c));
    put(state_format_version);
    put(static_cast<std::uint8_t>(kind));
    put(static_cast<std::uint8_t>(score_bytes));
    put(static_cast<std::uint8_t>(encoding));
    put(std::uint8_t{0});
    put(classes);
    put(extent);
  }

  // Integers and floating-point values, little-endian.
  template <class T>
  void put(T value) {
    static_assert(std::is_arithmetic_v<T> && (sizeof(T) == 1 || sizeof(T) == 4 || sizeof(T) == 8));
    auto bits = std::bit_cast<bits_of<T>>(value);
    for (std::size_t b = 0; b < sizeof(T); ++b, bits = static_cast<bits_of<T>>(bits >> 4 >> 4))
      out_.push_back(static_cast<std::byte>(bits & 0xff));
  }

  template <class T>
  void put(std::span<const T> values) {
    if constexpr (std::endian::native == std::endian::little) {
      const auto* first = reinterpret_cast<const std::byte*>(values.data());
      out_.insert(out_.end(), first, first + values.size_bytes());
    } else {
      for (const T& v : values) put(v);
    }
  }

  std::vector<std::byte> finish() && {
    put(fnv1a(out_));
    return std::move(out_);
  }

 private:
  std::vector<std::byte> out_;
};

class state_reader {
 public:
  // Checks the frame (size, magic, version, checksum, header fields) and that the state holds
  // `kind` with `score_bytes` scores; throws mlr::error naming what differs.
  explicit state_reader(std::span<const std::byte> state) : state_(state) { header_ = read_header(state); }

  static state_header read_header(std::span<const std::byte> state) {
    if (state.size() < state_header_bytes + state_checksum_bytes)
      throw error("state: expected at least " + std::to_string(state_header_bytes + state_checksum_bytes) +
                  " bytes, found " + std::to_string(state.size()) + " (truncated, or not an mlr state)");
    if (std::memcmp(state.data(), state_magic.data(), state_magic.size()) != 0)
      throw error("state: expected the magic \"MLRSTATE\" at the start, found other bytes (not an mlr state)");
    state_reader r(state, 8);
    const auto version = r.get<std::uint32_t>();
    if (version != state_format_version)
      throw error("state: format version " + std::to_string(version) + ", this mlr reads version " +
                  std::to_string(state_format_version));
    const auto body = state.first(state.size() - state_checksum_bytes);
    state_reader tail(state, state.size() - state_checksum_bytes);
    if (tail.get<std::uint64_t>() != fnv1a(body))
      throw error("state: checksum mismatch (the state is corrupted or truncated)");
    const auto kind = r.get<std::uint8_t>();
    const auto score_bytes = r.get<std::uint8_t>();
    const auto encoding = r.get<std::uint8_t>();
    const auto reserved = r.get<std::uint8_t>();
    if (kind != 1 && kind != 2)
      throw error("state: expected kind 1 (exact) or 2 (binned), found " + std::to_string(kind));
    if (score_bytes != 4 && score_bytes != 8)
      throw error("state: expected score type 4 (float32) or 8 (float64), found " + std::to_string(score_bytes));
    if (encoding > 1 || reserved != 0)
      throw error("state: expected encoding 0 or 1 and a zero reserved byte, found " + std::to_string(encoding) +
                  " and " + std::to_string(reserved));
    state_header h{static_cast<state_kind>(kind), score_bytes, static_cast<label_encoding>(encoding), 0, 0};
    h.classes = r.get<std::uint64_t>();
    h.extent = r.get<std::uint64_t>();
    return h;
  }

  const state_header& header() const noexcept { return header_; }

  // Throws unless the state holds `kind` with scores of `score_bytes` and exactly
  // `payload_bytes` of payload.
  void expect(state_kind kind, std::size_t score_bytes, std::size_t payload_bytes) const {
    auto name = [](state_kind k) { return k == state_kind::exact ? "an ap_accumulator" : "a binned_ap_accumulator"; };
    auto type = [](std::size_t b) { return b == 4 ? "float32" : "float64"; };
    if (header_.kind != kind)
      throw error(std::string("state: holds ") + name(header_.kind) + ", expected " + name(kind));
    if (header_.score_bytes != score_bytes)
      throw error(std::string("state: holds ") + type(header_.score_bytes) + " scores, expected " + type(score_bytes));
    const std::size_t found = state_.size() - state_header_bytes - state_checksum_bytes;
    if (found != payload_bytes)
      throw error("state: expected " + std::to_string(payload_bytes) + " bytes of data for its shape, found " +
                  std::to_string(found));
  }

  template <class T>
  T get() {
    bits_of<T> bits = 0;
    for (std::size_t b = sizeof(T); b-- > 0;)
      bits = static_cast<bits_of<T>>((bits << 4 << 4) | static_cast<bits_of<T>>(state_[at_ + b]));
    at_ += sizeof(T);
    return std::bit_cast<T>(bits);
  }

  template <class T>
  void get(std::span<T> out) {
    if constexpr (std::endian::native == std::endian::little) {
      if (out.empty()) return;  // memcpy's pointers must not be null, even for 0 bytes
      std::memcpy(out.data(), state_.data() + at_, out.size_bytes());
      at_ += out.size_bytes();
    } else {
      for (T& v : out) v = get<T>();
    }
  }

 private:
  state_reader(std::span<const std::byte> state, std::size_t at) : state_(state), at_(at) {}

  std::span<const std::byte> state_;
  std::size_t at_ = state_header_bytes;
  state_header header_{};
};

// Bytes of `count` elements of `size` bytes, or an error if that overflows (a hostile header).
inline std::size_t payload_size(std::uint64_t count, std::size_t size) {
  if (count > (std::uint64_t{1} << 62) / size) throw error("state: shape too large (corrupted header)");
  return static_cast<std::size_t>(count) * size;
}

}  // namespace detail

// The header of a serialized accumulator state (to pick the accumulator type that reads it).
inline state_header read_state_header(std::span<const std::byte> state) {
  return detail::state_reader::read_header(state);
}

}  // namespace mlr
