#pragma once
// Catch2 v2 matches exception messages only as strings; this matcher checks the type and the
// message together: CHECK_THROWS_MATCHES(expr, mlr::error, message_contains("...")).
#include <catch2/catch.hpp>

#include <string>

#include "mlr/core/error.hpp"

namespace mlr_test {

class message_contains_matcher : public Catch::MatcherBase<mlr::error> {
 public:
  explicit message_contains_matcher(std::string text) : text_(std::move(text)) {}
  bool match(const mlr::error& e) const override { return std::string(e.what()).find(text_) != std::string::npos; }
  std::string describe() const override { return "message contains \"" + text_ + "\""; }

 private:
  std::string text_;
};

inline message_contains_matcher message_contains(std::string text) { return message_contains_matcher(std::move(text)); }

}  // namespace mlr_test
