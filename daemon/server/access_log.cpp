#include "daemon/server/access_log.hpp"

#include <spdlog/spdlog.h>

namespace va::http {

std::string escape_log_field(std::string_view text, std::size_t max) {
    std::string out;
    bool cut = text.size() > max;
    if (cut) text = text.substr(0, max);
    out.reserve(text.size() + 8);
    for (unsigned char c : text) {
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
        } else if (c < 0x20 || c >= 0x7f) {
            static const char* hex = "0123456789abcdef";
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 0xf];
        } else {
            out += static_cast<char>(c);
        }
    }
    if (cut) out += "...";
    return out;
}

void log_access(const AccessRecord& r) {
    spdlog::info("http {} {} {} {:.1f}ms {}B {}", escape_log_field(r.method, 32), escape_log_field(r.path), r.status,
                 r.seconds * 1000, r.bytes, escape_log_field(r.client, 64));
}

}  // namespace va::http
