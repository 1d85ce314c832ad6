// The two configuration shapes that are maps rather than scalar keys, both about secrets leaving the daemon:
// [openai.allowed_base_urls] (URL -> key) and [tool_secrets.NAME] (value, hosts, workspaces), from the TOML file
// and from the environment. Private to config.cpp: problems are appended, each naming its key.
// Thread-safety: pure functions over the Config being loaded; no shared state.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <toml++/toml.h>

#include "config/config.hpp"

namespace va::config_detail {

// The node of "openai.allowed_base_urls": a table of "URL" = "key" ("" for a server that wants none).
void parse_allowed_base_urls(const toml::node& node, Config& config, std::vector<FieldError>& problems);
// VOICEAGENT_OPENAI_ALLOWED_BASE_URLS: "URL=key,URL,..." (a base URL has no query, so '=' and ',' separate).
void parse_allowed_base_urls_env(const std::string& text, Config& config, std::vector<FieldError>& problems);

// The [tool_secrets] table: NAME = "value" (bound to no host) or [tool_secrets.NAME] {value, hosts, workspaces}.
void parse_tool_secrets(const toml::table& table, Config& config, std::vector<FieldError>& problems);
// VOICEAGENT_TOOL_SECRET_<NAME>, _<NAME>_HOSTS and _<NAME>_WORKSPACES (comma-separated lists); the name is
// lower-cased. `variable` is the whole variable name.
void apply_tool_secret_env(const std::string& variable, const std::string& text, Config& config);

// Every secret has a value, and hosts that name hosts ("*.suffix" at most; never a bare "*").
void validate_secrets(const Config& config, std::vector<FieldError>& problems);

}  // namespace va::config_detail
