#include "core/util/encoding.hpp"

#include <sodium.h>

#include <array>
#include <mutex>

namespace va {

namespace {

void sodium_ready() {
    static std::once_flag once;
    std::call_once(once, [] {
        if (sodium_init() < 0) std::abort();  // no usable randomness: nothing secure can run
    });
}

constexpr char kStd[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
constexpr char kUrl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Appends to `out`; the whole groups are written in place into space made once, not a character at a time.
void encode(std::string_view in, const char* alphabet, bool pad, std::string& out) {
    std::size_t whole = in.size() / 3;
    std::size_t at = out.size();
    out.resize(at + whole * 4);
    char* o = out.data() + at;
    std::size_t i = 0;
    for (; i + 2 < in.size(); i += 3) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8 | (unsigned char)in[i + 2];
        *o++ = alphabet[v >> 18 & 63];
        *o++ = alphabet[v >> 12 & 63];
        *o++ = alphabet[v >> 6 & 63];
        *o++ = alphabet[v & 63];
    }
    std::size_t rest = in.size() - i;
    if (rest == 1) {
        unsigned v = (unsigned char)in[i] << 16;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        if (pad) out += "==";
    } else if (rest == 2) {
        unsigned v = (unsigned char)in[i] << 16 | (unsigned char)in[i + 1] << 8;
        out += alphabet[v >> 18 & 63];
        out += alphabet[v >> 12 & 63];
        out += alphabet[v >> 6 & 63];
        if (pad) out += '=';
    }
}

std::string encode(std::string_view in, const char* alphabet, bool pad) {
    std::string out;
    out.reserve((in.size() + 2) / 3 * 4);
    encode(in, alphabet, pad, out);
    return out;
}

struct DecodeTable {
    std::array<signed char, 256> value;
    explicit DecodeTable(const char* alphabet) {
        value.fill(-1);
        for (int k = 0; k < 64; ++k) value[(unsigned char)alphabet[k]] = static_cast<signed char>(k);
    }
};

// Strict decoding: padding required for the standard alphabet, forbidden for the url-safe one; the unused low bits
// of the last character must be zero so every byte string has exactly one encoding (no malleable tokens). Decodes
// into `out` (its capacity reused); false, with `out` unspecified, on any invalid character or length.
bool decode(std::string_view in, const char* alphabet, bool pad, std::string& out) {
    static const DecodeTable std_table(kStd), url_table(kUrl);
    const auto& table = (alphabet == kStd ? std_table : url_table).value;
    std::size_t padding = 0;
    if (pad) {
        if (in.size() % 4 != 0) return false;
        while (padding < 2 && in.size() > padding && in[in.size() - 1 - padding] == '=') ++padding;
        in.remove_suffix(padding);
    } else if (in.size() % 4 == 1) {
        return false;
    }
    out.resize(in.size() * 3 / 4);
    std::size_t n = 0;
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        int v = table[(unsigned char)c];
        if (v < 0) return false;
        acc = (acc << 6) | unsigned(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[n++] = char((acc >> bits) & 0xFF);
        }
    }
    out.resize(n);
    if (bits > 0 && (acc & ((1u << bits) - 1)) != 0) return false;
    if (pad && padding > 0 && (in.size() + padding) % 4 != 0) return false;
    return true;
}

std::optional<std::string> decode(std::string_view in, const char* alphabet, bool pad) {
    std::string out;
    if (!decode(in, alphabet, pad, out)) return std::nullopt;
    return out;
}

}  // namespace

std::string base64_encode(std::string_view bytes) { return encode(bytes, kStd, true); }
void base64_append(std::string_view bytes, std::string& out) { encode(bytes, kStd, true, out); }
std::optional<std::string> base64_decode(std::string_view text) { return decode(text, kStd, true); }
bool base64_decode_into(std::string_view text, std::string& out) { return decode(text, kStd, true, out); }
std::string base64url_encode(std::string_view bytes) { return encode(bytes, kUrl, false); }
std::optional<std::string> base64url_decode(std::string_view text) { return decode(text, kUrl, false); }

std::string hex_encode(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string sha256(std::string_view data) {
    sodium_ready();
    std::string out(crypto_hash_sha256_BYTES, '\0');
    crypto_hash_sha256(reinterpret_cast<unsigned char*>(out.data()), reinterpret_cast<const unsigned char*>(data.data()),
                       data.size());
    return out;
}

std::string hmac_sha256(std::string_view key, std::string_view data) {
    sodium_ready();
    crypto_auth_hmacsha256_state state;
    crypto_auth_hmacsha256_init(&state, reinterpret_cast<const unsigned char*>(key.data()), key.size());
    crypto_auth_hmacsha256_update(&state, reinterpret_cast<const unsigned char*>(data.data()), data.size());
    std::string out(crypto_auth_hmacsha256_BYTES, '\0');
    crypto_auth_hmacsha256_final(&state, reinterpret_cast<unsigned char*>(out.data()));
    return out;
}

bool constant_time_equal(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    if (a.empty()) return true;
    return sodium_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string percent_encode(std::string_view text) {
    static const char* hex = "0123456789ABCDEF";
    std::string out;
    out.reserve(text.size());
    for (unsigned char c : text) {
        bool unreserved = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
                          c == '_' || c == '.' || c == '~';
        if (unreserved) {
            out += char(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string percent_decode(std::string_view text, bool plus_is_space) {
    auto hex = [](char c) {
        return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    };
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (c == '%' && i + 2 < text.size() && hex(text[i + 1]) >= 0 && hex(text[i + 2]) >= 0) {
            out += static_cast<char>(hex(text[i + 1]) * 16 + hex(text[i + 2]));
            i += 2;
            continue;
        }
        out += (plus_is_space && c == '+') ? ' ' : c;
    }
    return out;
}

}  // namespace va
