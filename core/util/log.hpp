// Logging set-up (spdlog, text or JSON lines) and secret redaction. setup_logging is called once at start-up
// before other threads exist; redact() is pure and thread-safe. Secrets never reach logs: anything that may carry
// a key, token or credential passes through redact() first.
#pragma once

#include <string>
#include <string_view>

namespace va {

enum class LogFormat { text, json };

void setup_logging(std::string_view level, LogFormat format);

// Masks bearer tokens, API keys (vak_...), JWTs, passwords and credentials in URLs (user:pass@) in free text.
std::string redact(std::string_view text);

// Escapes a string for embedding in a JSON string literal (for hand-built JSON log lines).
std::string json_escape(std::string_view text);

}  // namespace va
