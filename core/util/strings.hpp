// Small string helpers shared across the code base. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace va {

// ASCII lower-casing (emails, header names, media types); other bytes pass through unchanged.
inline std::string to_lower(std::string_view text) {
    std::string out(text);
    for (auto& c : out)
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    return out;
}

}  // namespace va
