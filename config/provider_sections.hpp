// The providers' sections of the configuration ([openai], [deepgram], ...): which exist, their keys, defaults and
// checks belong to the providers registered (core/providers/registry.hpp); this reads them from the TOML file and
// the VOICEAGENT_<SECTION>_<KEY> environment into Config::providers, as the daemon's own keys are read.
// Private to config.cpp: problems are appended, each naming its key.
// Thread-safety: pure functions over the Config being loaded.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "config/config.hpp"
#include "core/providers/registry.hpp"

namespace va::config_detail {

using Sections = std::vector<ConfigSection>;

Sections::const_iterator find_section(const Sections& sections, const std::string& name);
// A [section] table of the file into `values` (which holds the defaults).
void read_provider_section(const ConfigSection& section, const toml::table& table, nlohmann::json& values,
                           std::vector<FieldError>& problems);
// VOICEAGENT_<SECTION>_<KEY> of a provider's section; false when no provider has such a key.
bool apply_provider_env(const Sections& sections, const std::string& name, const std::string& text, Config& config,
                        std::vector<FieldError>& problems);

}  // namespace va::config_detail
