#include "config/config_values.hpp"

#include <charconv>
#include <string>

namespace va::config_detail {

const char* kind_name(Kind k) {
    switch (k) {
        case Kind::string: return "a string";
        case Kind::integer: return "an integer";
        case Kind::number: return "a number";
        case Kind::boolean: return "a boolean";
        case Kind::string_map: return "a table of strings";
    }
    return "a value";
}

// Values outside int range would wrap when stored; catch them before.
constexpr std::int64_t kIntMax = 2'000'000'000;

std::optional<Scalar> from_toml(const toml::node& node, Kind kind) {
    switch (kind) {
        case Kind::string:
            if (auto v = node.value<std::string>(); v && node.is_string()) return Scalar(*v);
            break;
        case Kind::integer:
            if (node.is_integer()) {
                auto v = *node.value<std::int64_t>();
                if (v < -kIntMax || v > kIntMax) return std::nullopt;
                return Scalar(v);
            }
            break;
        case Kind::number:
            if (node.is_integer()) return Scalar(double(*node.value<std::int64_t>()));
            if (node.is_floating_point()) return Scalar(*node.value<double>());
            break;
        case Kind::boolean:
            if (node.is_boolean()) return Scalar(*node.value<bool>());
            break;
        case Kind::string_map:  // read as a table by the providers' sections, never as one value
            break;
    }
    return std::nullopt;
}

const char* toml_type_name(const toml::node& node) {
    if (node.is_string()) return "string";
    if (node.is_integer()) return "integer";
    if (node.is_floating_point()) return "float";
    if (node.is_boolean()) return "boolean";
    if (node.is_table()) return "table";
    if (node.is_array()) return "array";
    return "date/time";
}

std::optional<Scalar> from_text(const std::string& text, Kind kind) {
    switch (kind) {
        case Kind::string: return Scalar(text);
        case Kind::integer: {
            std::int64_t v = 0;
            auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
            if (ec != std::errc() || end != text.data() + text.size() || v < -kIntMax || v > kIntMax) return std::nullopt;
            return Scalar(v);
        }
        case Kind::number: {
            try {
                std::size_t used = 0;
                double v = std::stod(text, &used);
                if (used != text.size()) return std::nullopt;
                return Scalar(v);
            } catch (...) {
                return std::nullopt;
            }
        }
        case Kind::boolean:
            if (text == "true" || text == "1" || text == "yes" || text == "on") return Scalar(true);
            if (text == "false" || text == "0" || text == "no" || text == "off") return Scalar(false);
            return std::nullopt;
        case Kind::string_map:  // parsed as "NAME=value,NAME" by the providers' sections
            return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace va::config_detail
