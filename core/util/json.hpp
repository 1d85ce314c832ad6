// JSON from outside the process (REST bodies, WebSocket messages, provider and carrier answers, stored
// definitions): one parse function with a nesting limit, so a hostile document cannot overflow the stack when it
// is later copied, compared or dumped (all recursive in nlohmann), and typed getters that read a field only when
// it has the expected type, so a malformed answer is a missing field rather than an exception.
// Thread-safety: pure functions, safe from any thread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/util/result.hpp"

namespace va {

// The deepest nesting of arrays and objects accepted anywhere (API.md: deeper is a 400).
inline constexpr int kMaxJsonDepth = 64;

// True when `text` opens more than `max_depth` arrays/objects inside one another. A linear scan that skips
// strings (with their escapes) and does not otherwise validate: run before the real parse.
bool json_too_deep(std::string_view text, int max_depth = kMaxJsonDepth);

// Parses `text`; a discarded value (is_discarded()) when it is not JSON or nests deeper than `max_depth`. Never
// throws.
nlohmann::json parse_json(std::string_view text, int max_depth = kMaxJsonDepth);

// As parse_json, with the reason as an invalid_request Error on field `field`: "JSON nested deeper than 64
// levels" or "malformed JSON".
Result<nlohmann::json> parse_json_checked(std::string_view text, const std::string& field = "body",
                                          int max_depth = kMaxJsonDepth);

// --- typed reads: nullopt/nullptr when `object` is not an object, the key is absent, or the type is wrong ------

const nlohmann::json* json_field(const nlohmann::json& object, std::string_view key);  // any type, not null
std::optional<std::string> json_string(const nlohmann::json& object, std::string_view key);
std::optional<std::int64_t> json_int(const nlohmann::json& object, std::string_view key);  // integers only
std::optional<double> json_number(const nlohmann::json& object, std::string_view key);     // any number
std::optional<bool> json_bool(const nlohmann::json& object, std::string_view key);
const nlohmann::json* json_object(const nlohmann::json& object, std::string_view key);
const nlohmann::json* json_array(const nlohmann::json& object, std::string_view key);

inline std::string json_string_or(const nlohmann::json& object, std::string_view key, std::string fallback = {}) {
    auto s = json_string(object, key);
    return s ? std::move(*s) : std::move(fallback);
}

}  // namespace va
