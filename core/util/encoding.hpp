// Byte encodings and digests used across the code base: base64 (standard and url-safe), hex, SHA-256,
// HMAC-SHA256, constant-time comparison. Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace va {

std::string base64_encode(std::string_view bytes);
// As base64_encode, appended to `out` (a message built around it needs no string of its own for it).
void base64_append(std::string_view bytes, std::string& out);
inline std::size_t base64_size(std::size_t bytes) { return (bytes + 2) / 3 * 4; }  // with padding
std::optional<std::string> base64_decode(std::string_view text);  // nullopt on any invalid character or length
// As base64_decode, into `out` (whose capacity a hot path reuses); false, with `out` unspecified, where that is nullopt.
bool base64_decode_into(std::string_view text, std::string& out);
std::string base64url_encode(std::string_view bytes);              // no padding
std::optional<std::string> base64url_decode(std::string_view text);

std::string hex_encode(std::string_view bytes);
// Percent-decoding of URLs and form bodies ('+' is a space when `plus_is_space`); invalid escapes stay as they are.
// Percent-encodes every byte but RFC 3986's unreserved characters (letters, digits, - _ . ~).
std::string percent_encode(std::string_view text);
std::string percent_decode(std::string_view text, bool plus_is_space = true);
std::string sha256(std::string_view data);                               // raw 32 bytes
std::string hmac_sha256(std::string_view key, std::string_view data);    // raw 32 bytes
bool constant_time_equal(std::string_view a, std::string_view b);        // length leak only

}  // namespace va
