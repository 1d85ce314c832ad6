// The configuration tests read the sections of the providers built in, registered once before any test (as
// main() does).
#include "core/providers/registry.hpp"

namespace {

[[maybe_unused]] const bool registered = [] {
    va::register_builtin_providers();
    return true;
}();

}  // namespace
