// The HTTP access log and the escaping of request-derived text for any log line: a decoded path, a method or a
// header can hold control characters, and written raw a "%0a" would forge a log line. Every such field goes through
// escape_log_field (also for lines written elsewhere with request data).
// Thread-safety: pure functions; log_access writes one spdlog line (spdlog is thread-safe).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace va::http {

// Control characters, DEL and bytes beyond ASCII (which may be invalid UTF-8) become \xNN, '"' and '\' are
// backslash-escaped; at most `max` input bytes are kept
// (a longer field ends with "..."), so one field cannot flood the log either.
std::string escape_log_field(std::string_view text, std::size_t max = 512);

struct AccessRecord {
    std::string_view method;
    std::string_view path;
    int status = 0;
    double seconds = 0;
    std::size_t bytes = 0;
    std::string_view client;  // the client's address as the server sees it (a trusted proxy's forward, later)
};

// One line: `http METHOD PATH STATUS 1.2ms 34B CLIENT`, every request-derived field escaped.
void log_access(const AccessRecord& record);

}  // namespace va::http
