#include "config/component_sections.hpp"

#include <algorithm>

#include "config/config_values.hpp"
#include "core/util/strings.hpp"

namespace va::config_detail {

using nlohmann::json;

namespace {

Kind scalar_kind(ConfigKind kind) {
    switch (kind) {
        case ConfigKind::integer: return Kind::integer;
        case ConfigKind::number: return Kind::number;
        case ConfigKind::boolean: return Kind::boolean;
        default: return Kind::string;
    }
}

json to_json(const Scalar& v) {
    return std::visit([](const auto& x) { return json(x); }, v);
}

std::string trim_copy(std::string s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    return s;
}

std::string env_name(const std::string& section, const std::string& key) {
    std::string e = "VOICEAGENT_";
    for (char c : section + "_" + key) e += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return e;
}

// A table of strings: a string_map key in the file.
void read_string_map(const std::string& full, const toml::node& node, json& out, std::vector<FieldError>& problems) {
    const auto* map = node.as_table();
    if (!map) {
        problems.push_back({full, "must be a table of \"NAME\" = \"value\""});
        return;
    }
    out = json::object();
    for (const auto& [name, value] : *map) {
        auto text = value.value<std::string>();
        if (!text || !value.is_string()) {
            problems.push_back({full, "the value of \"" + std::string(name.str()) + "\" must be a string (\"\" for none)"});
            continue;
        }
        out[std::string(name.str())] = *text;
    }
}

}  // namespace

Sections::const_iterator find_section(const Sections& sections, const std::string& name) {
    return std::find_if(sections.begin(), sections.end(), [&](const ConfigSection& s) { return s.name == name; });
}

void read_section(const ConfigSection& section, const toml::table& table, json& values,
                           std::vector<FieldError>& problems) {
    for (const auto& [key_name, node] : table) {
        std::string name(key_name.str());
        std::string full = section.name + "." + name;
        auto key = std::find_if(section.keys.begin(), section.keys.end(), [&](const ConfigKey& k) { return k.name == name; });
        if (key == section.keys.end()) {
            problems.push_back({full, "unknown key"});
            continue;
        }
        if (key->kind == ConfigKind::string_map) {
            read_string_map(full, node, values[name], problems);
            continue;
        }
        auto value = from_toml(node, scalar_kind(key->kind));
        if (!value) {
            problems.push_back({full, std::string("expected ") + kind_name(scalar_kind(key->kind)) + ", got " +
                                          toml_type_name(node) + (node.is_integer() ? " (out of range)" : "")});
            continue;
        }
        values[name] = to_json(*value);
    }
}

bool apply_section_env(const Sections& sections, const std::string& name, const std::string& text, Config& config,
                        std::vector<FieldError>& problems) {
    for (const auto& section : sections)
        for (const auto& key : section.keys) {
            if (env_name(section.name, key.name) != name) continue;
            json& value = config.sections[section.name][key.name];
            if (key.kind == ConfigKind::string_map) {
                value = json::object();  // the environment replaces the file's table
                for (const auto& entry : split_list(text)) {
                    auto eq = entry.find('=');
                    value[trim_copy(entry.substr(0, eq))] = eq == std::string::npos ? "" : trim_copy(entry.substr(eq + 1));
                }
                return true;
            }
            auto parsed = from_text(text, scalar_kind(key.kind));
            if (!parsed)
                problems.push_back({section.name + "." + key.name, std::string("expected ") +
                                                                       kind_name(scalar_kind(key.kind)) + " in " + name +
                                                                       ", got \"" + text + "\""});
            else value = to_json(*parsed);
            return true;
        }
    return false;
}

}  // namespace va::config_detail
