// The daemon's tests run against the providers built in, registered once before any test (as main() does).
#include "core/providers/registry.hpp"

namespace {

[[maybe_unused]] const bool registered = [] {
    va::register_builtin_providers();
    return true;
}();

}  // namespace
