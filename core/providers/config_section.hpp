// A configuration section that a registered component (a provider or a carrier) declares and checks itself: the
// keys it accepts with their kinds and defaults, so the loader reads them from the TOML file and from
// VOICEAGENT_<SECTION>_<KEY> variables and refuses unknown ones, without knowing the component. Providers and
// carriers share this one form: the loader hands each its section as a JSON object of every key's value.
// Thread-safety: plain values.
#pragma once

#include <functional>
#include <string>
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

struct ConfigKey {
    std::string name;
    ConfigKind kind = ConfigKind::string;
    nlohmann::json default_value = {};  // the value before any file or environment
};

// A section of the daemon's configuration that belongs to a component (several providers may share one, like
// OpenAI's chat and speech; a carrier's is named after it). The loader reads its keys into a JSON object (defaults
// first), then `check` validates it, may normalize values in place, and names each problem "<section>.<key>".
struct ConfigSection {
    std::string name;
    std::vector<ConfigKey> keys;
    std::function<void(nlohmann::json& values, std::vector<FieldError>& problems)> check;
    // The values before any file or environment: every key's default.
    nlohmann::json defaults() const;
};

}  // namespace va
