#pragma once
// A read-only memory mapping of the data region of a file. Its pages are the page cache's: read
// on first touch, shared with every other reader of the file, never copied, and reclaimable by the
// kernel at any time (file-backed, not anonymous memory). So an evaluation of a 4 GB score file
// needs no 4 GB of heap. The file must not shrink while it is mapped (reads past its end raise
// SIGBUS); mlr-eval checks the data length against the file's size before mapping.
#include <sys/mman.h>

#include <cstddef>
#include <utility>

namespace mlr_eval {

class mapped_file {
 public:
  mapped_file() = default;

  // Bytes [offset, offset + size) of the open regular file `fd` (size > 0, inside the file), or
  // an empty mapping when the system refuses (a file system without mmap): the caller then reads.
  static mapped_file map(int fd, std::size_t offset, std::size_t size) noexcept {
    mapped_file m;
    // mmap's own offset must be page-aligned: map from the start of the file, skip the header.
    void* base = ::mmap(nullptr, offset + size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (base == MAP_FAILED) return m;
    m.base_ = static_cast<std::byte*>(base);
    m.length_ = offset + size;
    m.offset_ = offset;
    return m;
  }

  mapped_file(mapped_file&& other) noexcept
      : base_(std::exchange(other.base_, nullptr)),
        length_(std::exchange(other.length_, 0)),
        offset_(std::exchange(other.offset_, 0)) {}
  mapped_file& operator=(mapped_file&& other) noexcept {
    mapped_file(std::move(other)).swap(*this);
    return *this;
  }
  ~mapped_file() {
    if (base_ != nullptr) ::munmap(base_, length_);
  }

  explicit operator bool() const noexcept { return base_ != nullptr; }
  const std::byte* data() const noexcept { return base_ != nullptr ? base_ + offset_ : nullptr; }
  std::size_t size() const noexcept { return length_ - offset_; }

 private:
  void swap(mapped_file& other) noexcept {
    std::swap(base_, other.base_);
    std::swap(length_, other.length_);
    std::swap(offset_, other.offset_);
  }

  std::byte* base_ = nullptr;
  std::size_t length_ = 0;  // of the mapping, header included
  std::size_t offset_ = 0;  // of the data in the mapping
};

}  // namespace mlr_eval
