// A configuration section that a registered component (a carrier) declares and parses itself: the keys it accepts
// with their types, so the loader can read them from the TOML file and from VOICEAGENT_<SECTION>_<KEY> variables
// and refuse unknown ones, without the loader knowing the component.
// Thread-safety: plain values.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.hpp"

namespace va {

// One key of a configuration section: [section] key in the TOML file, VOICEAGENT_<SECTION>_<KEY> in the environment.
enum class ConfigKind {
    string,
    integer,  // within +-2e9
    number,
    boolean,
    string_map,  // a TOML table of strings; in the environment "NAME=value,NAME" (it replaces the file's table)
};

// A value as the loader read it; its alternative is the key's kind.
using ConfigValue = std::variant<std::string, std::int64_t, double, bool>;
// The keys of one section that the file or the environment set (absent keys keep the component's default).
using ConfigValues = std::map<std::string, ConfigValue>;

struct ConfigKey {
    std::string name;
    ConfigKind kind = ConfigKind::string;
    nlohmann::json default_value = {};  // providers' sections: the value before any file or environment
};

// Typed reads of a section's values, for the component's own parsing: the loader already checked the kinds.
inline void config_read(const ConfigValues& values, const std::string& key, std::string& out) {
    if (auto it = values.find(key); it != values.end()) out = std::get<std::string>(it->second);
}
inline void config_read(const ConfigValues& values, const std::string& key, int& out) {
    if (auto it = values.find(key); it != values.end()) out = static_cast<int>(std::get<std::int64_t>(it->second));
}

}  // namespace va
