// Fuzzes the strict JSON field scanner (core/util/json_scan) against the full parser: whenever the scanner answers,
// the input must parse (parse_json) to an object, and every field asked for must have the kind and, for a string,
// the text the parsed document has there. Declining is always allowed.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/util/json.hpp"
#include "core/util/json_scan.hpp"
#include "tests/fuzz/fuzz_check.hpp"

namespace {

va::JsonKind kind_of(const nlohmann::json* v) {
    using va::JsonKind;
    if (!v) return JsonKind::absent;
    switch (v->type()) {
        case nlohmann::json::value_t::null: return JsonKind::null;
        case nlohmann::json::value_t::string: return JsonKind::string;
        case nlohmann::json::value_t::boolean: return JsonKind::boolean;
        case nlohmann::json::value_t::object: return JsonKind::object;
        case nlohmann::json::value_t::array: return JsonKind::array;
        default: return JsonKind::number;
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    std::string_view text(reinterpret_cast<const char*>(data), size);
    // What the carrier codecs ask for, and a field of the same name at both levels.
    std::array<va::JsonScanField, 5> fields{
        {{"", "event"}, {"media", "payload"}, {"media", "track"}, {"", "media"}, {"media", "event"}}};
    if (!va::scan_json_fields(text, fields)) return 0;
    nlohmann::json doc = va::parse_json(text);
    FUZZ_CHECK(!doc.is_discarded());
    FUZZ_CHECK(doc.is_object());
    for (const auto& f : fields) {
        const nlohmann::json* scope = &doc;
        if (!f.parent.empty()) {
            auto it = doc.find(std::string(f.parent));
            scope = it == doc.end() ? nullptr : &*it;
        }
        const nlohmann::json* v = nullptr;
        if (scope && scope->is_object()) {
            auto it = scope->find(std::string(f.key));
            if (it != scope->end()) v = &*it;
        }
        FUZZ_CHECK(f.kind == kind_of(v));
        if (f.kind == va::JsonKind::string) FUZZ_CHECK(f.text == v->get<std::string>());
        if (f.kind == va::JsonKind::number) FUZZ_CHECK(nlohmann::json::parse(f.text, nullptr, false) == *v);
    }
    return 0;
}
