// The carriers built into this daemon: the one list a new carrier joins (docs/providers.md "Adding a carrier").
// Registration is an explicit call, not a static registrar: the carriers live in static libraries, whose objects
// the linker drops when nothing references them, so a self-registering carrier would silently vanish.
// Thread-safety: call once at start, before the configuration is loaded and before any thread reads the registry.
#pragma once

#include "core/providers/carrier.hpp"

namespace va {

// Adds every built-in carrier to `registry`, unless it has carriers already (so a second call changes nothing).
void register_builtin_carriers(CarrierRegistry& registry = carrier_registry());

}  // namespace va
