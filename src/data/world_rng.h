// The world's random numbers: core/rng.h's SplitMix64, so a seed gives the same world with every
// compiler and standard library.
#pragma once

#include "core/rng.h"

namespace steper {

using WorldRng = SplitMix64;

}  // namespace steper
