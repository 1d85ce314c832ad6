// Wall-clock helpers: milliseconds since the epoch and RFC 3339 UTC strings ("2026-11-24T03:34:04.123Z").
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace va {

std::int64_t now_ms();
std::int64_t now_s();
std::string format_rfc3339(std::int64_t epoch_ms);
std::optional<std::int64_t> parse_rfc3339(std::string_view text);  // accepts Z or +hh:mm offsets, optional fraction

}  // namespace va
