// Registers the built-in carriers before any test runs, as voiceagentd's main does before it loads its
// configuration: test binaries that load configurations with carrier sections link this file.
#include "providers/builtin_carriers.hpp"

namespace {

const bool registered = [] {
    va::register_builtin_carriers();
    return true;
}();

}  // namespace
