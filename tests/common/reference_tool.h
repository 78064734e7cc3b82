// Checks against another implementation (a reference tool another project ships: xapian-tcpsrv, an npm
// package) skip where the tool is missing, on a developer's machine; under CI (CI=true, as .ci/run sets)
// the tool is always installable (scripts/install-deps.sh, the tests' npm installs), so a missing one
// is a failure there, never a check passed by being skipped.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>

namespace steper {

inline bool running_in_ci() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::strcmp(ci, "true") == 0;
}

}  // namespace steper

// In a test body: skips with `why`, or fails with it under CI.
#define SKIP_REFERENCE_MISSING(why)                                                           \
  do {                                                                                        \
    if (::steper::running_in_ci()) FAIL() << why << " (CI=true: the reference tool must be there)"; \
    GTEST_SKIP() << why;                                                                      \
  } while (0)
