// The scalar values of the configuration, as the TOML file and the environment give them: their kinds, the
// conversions with their bounds (integers within +-2e9, so nothing wraps when stored) and the words problems use.
// Private to the configuration loader (config.cpp, component_sections.cpp).
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include <toml++/toml.h>

#include "core/providers/config_section.hpp"

namespace va::config_detail {

// The components' declared keys (core/providers/config_section.hpp) and the daemon's own share one set of kinds.
using Scalar = std::variant<std::string, std::int64_t, double, bool>;
using Kind = ConfigKind;

// "a string", "an integer", ...
const char* kind_name(Kind k);
// "string", "table", ...: what a TOML node is, for "expected an integer, got string".
const char* toml_type_name(const toml::node& node);
// nullopt when the node is not of the kind (or an integer out of range).
std::optional<Scalar> from_toml(const toml::node& node, Kind kind);
// The same from an environment variable's text.
std::optional<Scalar> from_text(const std::string& text, Kind kind);

}  // namespace va::config_detail
