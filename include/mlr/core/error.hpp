#pragma once
#include <stdexcept>
#include <string>

namespace mlr {

// The one exception type for invalid input: its message names the argument, what was expected
// and what was found. Deriving from std::invalid_argument lets callers catch it generically.
class error : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

}  // namespace mlr
