// The message of the steper::Error a call throws, for tests of error messages.
#pragma once

#include <gtest/gtest.h>

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

// Whether text contains part (for EXPECT_HAS).
inline bool text_has(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

}  // namespace steper

// EXPECT_HAS(text, part): text contains part; a failure shows both. Each argument is evaluated once
// (EXPECT_HAS(error_of(...), "...") runs the call once).
#define EXPECT_HAS(text, part) EXPECT_PRED2(::steper::text_has, text, part)
