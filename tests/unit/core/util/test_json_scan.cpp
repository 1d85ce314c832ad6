#include <catch2/catch.hpp>

#include <array>
#include <string>

#include "core/util/json.hpp"
#include "core/util/json_scan.hpp"

using namespace va;
using nlohmann::json;

namespace {

using Fields = std::array<JsonScanField, 4>;

Fields media_fields() { return Fields{{{"", "event"}, {"media", "payload"}, {"media", "track"}, {"", "media"}}}; }

JsonKind kind_of(const json* v) {
    if (!v) return JsonKind::absent;
    switch (v->type()) {
        case json::value_t::null: return JsonKind::null;
        case json::value_t::string: return JsonKind::string;
        case json::value_t::boolean: return JsonKind::boolean;
        case json::value_t::object: return JsonKind::object;
        case json::value_t::array: return JsonKind::array;
        default: return JsonKind::number;
    }
}

// Where the scanner answers, its answer is the full parse's: the message parses, and each field has the same kind
// and (for strings) the same text. Returns whether it answered.
bool agrees_with_parse(const std::string& text) {
    Fields fields = media_fields();
    bool scanned = scan_json_fields(text, fields);
    if (!scanned) return false;
    json doc = parse_json(text);
    REQUIRE_FALSE(doc.is_discarded());
    REQUIRE(doc.is_object());
    for (const auto& f : fields) {
        const json* scope = f.parent.empty() ? &doc : (doc.contains(std::string(f.parent)) ? &doc[std::string(f.parent)] : nullptr);
        const json* v = scope && scope->is_object() && scope->contains(std::string(f.key)) ? &(*scope)[std::string(f.key)] : nullptr;
        INFO(text << " field " << f.parent << "." << f.key);
        CHECK(f.kind == kind_of(v));
        if (f.kind == JsonKind::string) CHECK(f.text == v->get<std::string>());
    }
    return true;
}

}  // namespace

TEST_CASE("json scan: a carrier media message's fields, without a tree") {
    Fields f = media_fields();
    REQUIRE(scan_json_fields(R"({"event":"media","sequenceNumber":"3","streamSid":"MZ1",
        "media":{"track":"inbound","chunk":"1","timestamp":"5","payload":"AAAA+/=="}})", f));
    CHECK(f[0].kind == JsonKind::string);
    CHECK(f[0].text == "media");
    CHECK(f[1].text == "AAAA+/==");
    CHECK(f[2].text == "inbound");
    CHECK(f[3].kind == JsonKind::object);
    // Escapes in a value asked for are undone; whitespace anywhere JSON allows it.
    REQUIRE(scan_json_fields(" {\r\n\t\"media\" : { \"payload\" : \"AA\\/A\" , \"n\" : [ 1 , -2.5 , [ ] , { } ] } ,"
                             " \"event\" : \"media\" , \"x\" : [ true , false , null ] } \n", f));
    CHECK(f[1].text == "AA/A");
    CHECK(f[0].text == "media");
    CHECK(f[2].kind == JsonKind::absent);
    // Another type where a string is asked for is reported as such.
    REQUIRE(scan_json_fields(R"({"event":7,"media":{"payload":null,"track":[1]}})", f));
    CHECK(f[0].kind == JsonKind::number);
    CHECK(f[0].text == "7");
    CHECK(f[1].kind == JsonKind::null);
    CHECK(f[2].kind == JsonKind::array);
    // A parent that is not an object has no fields.
    REQUIRE(scan_json_fields(R"({"event":"media","media":"payload"})", f));
    CHECK(f[1].kind == JsonKind::absent);
    CHECK(f[3].kind == JsonKind::string);
    // A nested object of the same name is not the parent.
    REQUIRE(scan_json_fields(R"({"x":{"media":{"payload":"A"}},"event":"media"})", f));
    CHECK(f[1].kind == JsonKind::absent);
}

TEST_CASE("json scan: declines what it is not sure of, and everything malformed") {
    const char* declined[] = {
        "",
        "   ",
        "null",
        "[]",
        R"("media")",
        "{",
        "{}}",
        "{} x",
        R"({"event":"media",})",
        R"({"event":"media" "x":1})",
        R"({"event" "media"})",
        R"({event:"media"})",
        R"({'event':'media'})",
        R"({"event":"media","n":01})",
        R"({"event":"media","n":1.})",
        R"({"event":"media","n":.5})",
        R"({"event":"media","n":-})",
        R"({"event":"media","n":+1})",
        R"({"event":"media","n":1e5})",
        R"({"event":"media","n":123456789012345678901234567890123})",
        R"({"event":"media","n":NaN})",
        R"({"event":"media","b":tru})",
        R"({"event":"media","b":True})",
        R"({"event":"media","a":[1,]})",
        R"({"event":"media","a":[1 2]})",
        R"({"event":"media","s":"\x"})",
        R"({"event":"media","s":"\u0041"})",  // \u: the full parser's (surrogates)
        R"({"event":"media","s":"tab	inside"})",
        "{\"event\":\"media\",\"s\":\"caf\xc3\xa9\"}",  // non-ASCII: the full parser validates UTF-8
        "\xef\xbb\xbf{\"event\":\"media\"}",            // a byte order mark
        R"({"event":"media","event":"stop"})",            // duplicates of what is asked: the last would win
        R"({"event":"media","media":{"payload":"A"},"media":{"payload":"B"}})",
        R"({"event":"media","media":"x","media":{"payload":"B"}})",
        R"({"event":"media","media":{"payload":"A","payload":"B"}})",
        R"({"event":"media","s":"unterminated)",
        R"({"event":"media","s":"ends in a backslash\)",
    };
    for (std::string text : declined) {
        Fields f = media_fields();
        INFO(text);
        CHECK_FALSE(scan_json_fields(text, f));
    }
    using namespace std::string_literals;
    Fields f = media_fields();
    CHECK_FALSE(scan_json_fields("{\"event\":\"media\",\"s\":\"nul\0inside\"}"s, f));
    CHECK_FALSE(scan_json_fields("{\"event\":\"media\"}\0"s, f));
    CHECK_FALSE(scan_json_fields("{\"event\":\"media\"\0}"s, f));
}

TEST_CASE("json scan: deep or huge input is bounded") {
    Fields f = media_fields();
    std::string deep = "{\"a\":" + std::string(kMaxJsonScanDepth, '[') + std::string(kMaxJsonScanDepth, ']') + "}";
    CHECK_FALSE(scan_json_fields(deep, f));  // one level too deep: declined, parse_json decides
    std::string ok = "{\"a\":" + std::string(kMaxJsonScanDepth - 1, '[') + std::string(kMaxJsonScanDepth - 1, ']') + "}";
    CHECK(scan_json_fields(ok, f));
    std::string very_deep = "{\"a\":" + std::string(100000, '[');  // no stack growth: declined at the limit
    CHECK_FALSE(scan_json_fields(very_deep, f));
    std::string big = R"({"event":"media","media":{"payload":")" + std::string(1 << 20, 'A') + "\"}}";
    REQUIRE(scan_json_fields(big, f));
    CHECK(f[1].text.size() == std::size_t(1) << 20);
}

TEST_CASE("json scan: where it answers, it agrees with the full parse") {
    const char* cases[] = {
        R"({"event":"media","media":{"payload":"AAAA"}})",
        R"({"event":"media","media":{"payload":"AA\"AA","track":"inbound"}})",
        R"({"event":"media","media":{"payload":"a\\b\/c\b\f\n\r\t"}})",
        R"({"event":"stop"})",
        R"({"event":"media"})",
        R"({"event":"media","media":[{"payload":"A"}]})",
        R"({"event":"media","media":{"payload":5}})",
        R"({"event":"media","media":{"payload":-0.25,"track":false}})",
        R"({"event":"media","media":{"x":{"payload":"nested, not this"}}})",
        R"({"event":"media","media":{},"x":{"event":"other"}})",
        R"({"event":"media","dup":1,"dup":2})",
        R"({"event":"media","media":{"payload":"A","other":1,"other":2}})",
        R"({})",
        R"({"event":null})",
    };
    for (const char* text : cases) CHECK(agrees_with_parse(text));
}
