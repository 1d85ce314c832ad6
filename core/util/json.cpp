#include "core/util/json.hpp"

namespace va {

using nlohmann::json;

bool json_too_deep(std::string_view text, int max_depth) {
    int depth = 0;
    bool in_string = false;
    for (std::size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (c == '\\') ++i;  // the escaped character cannot end the string
            else if (c == '"') in_string = false;
            continue;
        }
        switch (c) {
            case '"': in_string = true; break;
            case '[':
            case '{':
                if (++depth > max_depth) return true;
                break;
            case ']':
            case '}':
                if (depth > 0) --depth;  // unbalanced input is the parser's to reject
                break;
            default: break;
        }
    }
    return false;
}

json parse_json(std::string_view text, int max_depth) {
    if (json_too_deep(text, max_depth)) return json(json::value_t::discarded);
    try {
        return json::parse(text, nullptr, false);
    } catch (const std::exception&) {  // allow_exceptions=false already; belt and braces for the library's limits
        return json(json::value_t::discarded);
    }
}

Result<json> parse_json_checked(std::string_view text, const std::string& field, int max_depth) {
    if (json_too_deep(text, max_depth))
        return invalid_field(field, "JSON nested deeper than " + std::to_string(max_depth) + " levels");
    json value = parse_json(text, max_depth);
    if (value.is_discarded()) return invalid_field(field, "malformed JSON");
    return value;
}

const json* json_field(const json& object, std::string_view key) {
    if (!object.is_object()) return nullptr;
    auto it = object.find(key);
    if (it == object.end() || it->is_null()) return nullptr;
    return &*it;
}

std::optional<std::string> json_string(const json& object, std::string_view key) {
    const json* v = json_field(object, key);
    if (!v || !v->is_string()) return std::nullopt;
    return v->get<std::string>();
}

std::optional<std::int64_t> json_int(const json& object, std::string_view key) {
    const json* v = json_field(object, key);
    if (!v) return std::nullopt;
    if (v->is_number_unsigned()) {  // before is_number_integer(), which is true for unsigned numbers too
        auto u = v->get<std::uint64_t>();
        if (u > std::uint64_t(INT64_MAX)) return std::nullopt;
        return std::int64_t(u);
    }
    if (v->is_number_integer()) return v->get<std::int64_t>();
    return std::nullopt;
}

std::optional<double> json_number(const json& object, std::string_view key) {
    const json* v = json_field(object, key);
    if (!v || !v->is_number()) return std::nullopt;
    return v->get<double>();
}

std::optional<bool> json_bool(const json& object, std::string_view key) {
    const json* v = json_field(object, key);
    if (!v || !v->is_boolean()) return std::nullopt;
    return v->get<bool>();
}

const json* json_object(const json& object, std::string_view key) {
    const json* v = json_field(object, key);
    return v && v->is_object() ? v : nullptr;
}

const json* json_array(const json& object, std::string_view key) {
    const json* v = json_field(object, key);
    return v && v->is_array() ? v : nullptr;
}

}  // namespace va
