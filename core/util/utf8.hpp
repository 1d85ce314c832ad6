// UTF-8 validation (RFC 3629: no overlong forms, no surrogates, nothing past U+10FFFF), the rule the JSON library
// applies when it writes strings. Text from outside that ends up in JSON (imported files, form fields) is checked
// with it first, so bad bytes are a 4xx naming the input rather than an exception at serialisation.
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string_view>

namespace va {

// The offset of the first byte that is not part of a valid UTF-8 sequence, or text.size() when all of it is valid.
std::size_t utf8_error_offset(std::string_view text);
inline bool valid_utf8(std::string_view text) { return utf8_error_offset(text) == text.size(); }

}  // namespace va
