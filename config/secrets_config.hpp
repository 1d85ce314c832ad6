// The configuration shape that is a map rather than scalar keys, about secrets leaving the daemon:
// [tool_secrets.NAME] (value, hosts, workspaces), from the TOML file and from the environment. Private to config.cpp: problems are appended, each naming its key.
// Thread-safety: pure functions over the Config being loaded; no shared state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "config/config.hpp"

namespace va::config_detail {

// The [tool_secrets] table: NAME = "value" (bound to no host) or [tool_secrets.NAME] {value, hosts, workspaces}.
void parse_tool_secrets(const toml::table& table, Config& config, std::vector<FieldError>& problems);
// VOICEAGENT_TOOL_SECRET_<NAME>, _<NAME>_HOSTS and _<NAME>_WORKSPACES (comma-separated lists); the name is
// lower-cased. `variable` is the whole variable name.
void apply_tool_secret_env(const std::string& variable, const std::string& text, Config& config);

// Every secret has a value, and hosts that name hosts ("*.suffix" at most; never a bare "*").
void validate_secrets(const Config& config, std::vector<FieldError>& problems);

}  // namespace va::config_detail
