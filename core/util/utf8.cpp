#include "core/util/utf8.hpp"

namespace va {

std::size_t utf8_error_offset(std::string_view text) {
    std::size_t i = 0;
    const std::size_t n = text.size();
    while (i < n) {
        auto b = static_cast<unsigned char>(text[i]);
        if (b < 0x80) {
            ++i;
            continue;
        }
        std::size_t len = 0;
        unsigned char lo = 0x80, hi = 0xBF;  // the allowed range of the second byte
        if (b >= 0xC2 && b <= 0xDF) len = 2;
        else if (b == 0xE0) len = 3, lo = 0xA0;                   // no overlong 3-byte forms
        else if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) len = 3;
        else if (b == 0xED) len = 3, hi = 0x9F;                   // no surrogates
        else if (b == 0xF0) len = 4, lo = 0x90;                   // no overlong 4-byte forms
        else if (b >= 0xF1 && b <= 0xF3) len = 4;
        else if (b == 0xF4) len = 4, hi = 0x8F;                   // nothing past U+10FFFF
        else return i;
        if (n - i < len) return i;
        auto second = static_cast<unsigned char>(text[i + 1]);
        if (second < lo || second > hi) return i;
        for (std::size_t k = 2; k < len; ++k) {
            auto c = static_cast<unsigned char>(text[i + k]);
            if (c < 0x80 || c > 0xBF) return i;
        }
        i += len;
    }
    return n;
}

}  // namespace va
