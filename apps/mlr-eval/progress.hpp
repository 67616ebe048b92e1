#pragma once
// mlr-eval's progress bar: one line on stderr, redrawn in place as the library reports progress
// (mlr::execution_env::progress, whole percents from the calling thread), erased before anything
// else is printed. Only drawn when asked for (stderr a terminal and no --quiet).
#include <algorithm>
#include <cstddef>
#include <cstdio>
#include <functional>
#include <string>
#include <utility>

namespace mlr_eval {

class progress_bar {
 public:
  explicit progress_bar(bool enabled) noexcept : enabled_(enabled) {}
  progress_bar(const progress_bar&) = delete;
  progress_bar& operator=(const progress_bar&) = delete;
  ~progress_bar() { clear(); }

  // The hook for one step of the evaluation, shown as `label`; an empty hook when not drawing.
  std::function<void(double)> step(std::string label) {
    if (!enabled_) return {};
    return [this, label = std::move(label)](double fraction) { draw(label, fraction); };
  }

  // Erases the line, so that what follows starts on a clean one.
  void clear() noexcept {
    if (drawn_ == 0) return;
    put("\r" + std::string(drawn_, ' ') + "\r");
    drawn_ = 0;
  }

 private:
  static constexpr std::size_t bar_width = 30;

  void draw(const std::string& label, double fraction) {
    const auto filled = static_cast<std::size_t>(std::clamp(fraction, 0.0, 1.0) * bar_width);
    std::string line = "mlr-eval: " + label + " [" + std::string(filled, '#') + std::string(bar_width - filled, '.') +
                       "] " + std::to_string(static_cast<int>(fraction * 100.0 + 0.5)) + "%";
    const std::size_t width = line.size();
    if (width < drawn_) line.append(drawn_ - width, ' ');  // cover a longer previous line
    put("\r" + line);
    drawn_ = std::max(drawn_, width);
  }

  // Best effort: a progress line that cannot be written is no reason to fail.
  static void put(const std::string& text) noexcept {
    std::fwrite(text.data(), 1, text.size(), stderr);
    std::fflush(stderr);
  }

  bool enabled_;
  std::size_t drawn_ = 0;  // width of the line on screen, 0 when none
};

}  // namespace mlr_eval
