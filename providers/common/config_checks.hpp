// Small checks that providers' configuration sections share (ConfigSection::check, core/providers/registry.hpp):
// each appends one problem naming "<section>.<key>", worded as the daemon's own keys are.
// Thread-safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/util/result.hpp"

namespace va::config_checks {

inline void range(std::vector<FieldError>& p, const std::string& key, std::int64_t v, std::int64_t lo, std::int64_t hi) {
    if (v < lo || v > hi) p.push_back({key, "must be between " + std::to_string(lo) + " and " + std::to_string(hi)});
}

inline void http_url(std::vector<FieldError>& p, const std::string& key, const std::string& url) {
    if (!url.empty() && url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
        p.push_back({key, "must be an http:// or https:// URL"});
}

inline void ws_url(std::vector<FieldError>& p, const std::string& key, const std::string& url) {
    if (!url.empty() && url.rfind("ws://", 0) != 0 && url.rfind("wss://", 0) != 0)
        p.push_back({key, "must be a ws:// or wss:// URL"});
}

inline void not_empty(std::vector<FieldError>& p, const std::string& key, const std::string& value) {
    if (value.empty()) p.push_back({key, "must not be empty"});
}

}  // namespace va::config_checks
