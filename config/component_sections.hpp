// The components' sections of the configuration (providers' [openai], [deepgram], ...; carriers' [twilio],
// [exotel]): which exist, their keys, defaults and checks belong to the components registered
// (core/providers/config_section.hpp); this reads them from the TOML file and the VOICEAGENT_<SECTION>_<KEY>
// environment into Config::sections, as the daemon's own keys are read.
// Private to config.cpp: problems are appended, each naming its key.
// Thread-safety: pure functions over the Config being loaded.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "config/config.hpp"
#include "core/providers/config_section.hpp"

namespace va::config_detail {

using Sections = std::vector<ConfigSection>;

Sections::const_iterator find_section(const Sections& sections, const std::string& name);
// A [section] table of the file into `values` (which holds the defaults).
void read_section(const ConfigSection& section, const toml::table& table, nlohmann::json& values,
                           std::vector<FieldError>& problems);
// VOICEAGENT_<SECTION>_<KEY> of a component's section; false when no component has such a key.
bool apply_section_env(const Sections& sections, const std::string& name, const std::string& text, Config& config,
                        std::vector<FieldError>& problems);

}  // namespace va::config_detail
