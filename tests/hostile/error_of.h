// The shared error_of (tests/common), under the name the serve tests include.
#pragma once

#include "../common/error_of.h"
