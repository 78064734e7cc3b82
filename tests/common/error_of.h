// The message of the steper::Error a call throws, for tests of error messages.
#pragma once

#include <string>

#include "core/error.h"

namespace steper {

// What error_of returns when the call throws nothing (never a message steper writes).
inline const char* const kNoError = "(no error)";

// The message of the steper::Error that fn throws, or kNoError; other exceptions pass through.
template <class F>
std::string error_of(F&& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return kNoError;
}

}  // namespace steper
