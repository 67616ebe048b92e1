#pragma once
// Reading and writing whole files with errors that name the file and the system's reason.
#include <sys/stat.h>

#include <cerrno>
#include <cstddef>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <system_error>

#include "support.hpp"

namespace mlr_eval {

[[noreturn]] inline void fail(const std::string& path, const std::string& message) {
  throw failure(path + ": " + message);
}

class input_file {
 public:
  explicit input_file(const std::string& path) : path_(path) {
    std::error_code ec;
    if (std::filesystem::is_directory(path, ec)) fail(path, "is a directory, expected a file");
    file_.reset(std::fopen(path.c_str(), "rb"));
    if (!file_) fail(path, std::string("cannot open: ") + std::strerror(errno));
    // Regular files tell their size up front (asked of the open file, not of the path, which may
    // have changed since), so that a header claiming more data than the file holds is caught
    // before anything is allocated or mapped. Pipes are read as they come.
    struct stat info {};
    if (::fstat(descriptor(), &info) == 0 && S_ISREG(info.st_mode)) size_ = static_cast<std::uintmax_t>(info.st_size);
  }

  const std::string& path() const noexcept { return path_; }
  // The size of a regular file; nullopt for pipes, terminals and other streams.
  std::optional<std::uintmax_t> size() const noexcept { return size_; }
  int descriptor() const noexcept { return ::fileno(file_.get()); }

  // Reads up to n bytes; returns how many were read (fewer only at the end of the file).
  std::size_t read(void* to, std::size_t n) {
    const std::size_t got = std::fread(to, 1, n, file_.get());
    if (got < n && std::ferror(file_.get())) fail(path_, std::string("read error: ") + std::strerror(errno));
    return got;
  }

  bool at_end() { return std::fgetc(file_.get()) == EOF && !std::ferror(file_.get()); }

  std::string read_all() {
    std::string text;
    char chunk[1 << 16];
    while (const std::size_t got = read(chunk, sizeof chunk)) text.append(chunk, got);
    return text;
  }

 private:
  struct closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, closer> file_;
  std::optional<std::uintmax_t> size_;
};

class output_file {
 public:
  explicit output_file(const std::string& path) : path_(path), file_(std::fopen(path.c_str(), "wb")) {
    if (!file_) fail(path, std::string("cannot create: ") + std::strerror(errno));
  }
  void write(const void* from, std::size_t n) {
    if (n != 0 && std::fwrite(from, 1, n, file_.get()) != n)
      fail(path_, std::string("write error: ") + std::strerror(errno));
  }
  void write(std::string_view text) { write(text.data(), text.size()); }
  void close() {
    if (std::fclose(file_.release()) != 0) fail(path_, std::string("write error: ") + std::strerror(errno));
  }

 private:
  struct closer {
    void operator()(std::FILE* f) const noexcept { std::fclose(f); }
  };
  std::string path_;
  std::unique_ptr<std::FILE, closer> file_;
};

}  // namespace mlr_eval
