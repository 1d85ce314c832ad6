// A strict, bounded JSON scanner for hot paths: it reads a few named fields of a JSON object message (a top-level
// key, or a key of a top-level object) without building a tree, while validating the whole message. It accepts a
// subset of what parse_json accepts, so a caller can use its answer as that parse's answer and fall back to
// parse_json whenever it declines: anything it is not sure of (non-ASCII bytes, \u escapes, exponents, nesting
// deeper than kMaxJsonScanDepth, a duplicated key among those asked for, anything malformed) makes it decline,
// never guess. Its work is linear in the message and its recursion bounded.
// Thread-safety: pure; a JsonScanField array belongs to one caller at a time.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace va {

// Deeper messages are declined (parse_json's own limit, kMaxJsonDepth, is higher, so declining is always safe).
inline constexpr int kMaxJsonScanDepth = 16;

enum class JsonKind : std::uint8_t { absent, null, string, number, boolean, object, array };

// One field asked for, and what the scan found there. `parent` and `key` must be plain ASCII names without quotes
// or backslashes, and must outlive the field.
struct JsonScanField {
    JsonScanField(std::string_view parent_name, std::string_view key_name) : parent(parent_name), key(key_name) {}

    std::string_view parent;  // empty: a key of the message itself; else a key of the object at message[parent]
    std::string_view key;
    JsonKind kind = JsonKind::absent;  // absent also when the parent is absent or not an object
    // A string's contents, unescaped (into `storage` when it had escapes, else a view of the message); a number's
    // text as written. Valid until the next scan or until the message goes.
    std::string_view text;
    std::string storage;
};

// True when `message` is one JSON object this scanner validated completely; `fields` then hold what it found.
// False when it declines (see above): the fields are then unspecified and the caller parses the message fully.
bool scan_json_fields(std::string_view message, std::span<JsonScanField> fields);

}  // namespace va
