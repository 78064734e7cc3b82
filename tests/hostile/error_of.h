// The message of the steper::Error a call throws, for tests of error messages.
#pragma once

#include <string>

#include "core/error.h"

namespace steper {

// The message of the steper::Error that fn throws ("" when it throws none; other exceptions pass).
template <class F>
std::string error_of(F fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace steper
