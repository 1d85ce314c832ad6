#include "config/secrets_config.hpp"

#include "core/util/strings.hpp"

namespace va::config_detail {

namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.erase(0, 1);
    while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.pop_back();
    return s;
}

std::vector<std::string> split_list(const std::string& text) {
    std::vector<std::string> out;
    std::size_t at = 0;
    while (at <= text.size()) {
        auto comma = text.find(',', at);
        std::string item = trim(text.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
        if (!item.empty()) out.push_back(item);
        if (comma == std::string::npos) break;
        at = comma + 1;
    }
    return out;
}

// A TOML array of strings (or one string), lower-cased when `lower`.
bool string_list(const toml::node& node, std::vector<std::string>& out, bool lower) {
    out.clear();
    if (auto one = node.value<std::string>(); one && node.is_string()) {
        out.push_back(lower ? to_lower(*one) : *one);
        return true;
    }
    const auto* array = node.as_array();
    if (!array) return false;
    for (const auto& item : *array) {
        auto v = item.value<std::string>();
        if (!v || !item.is_string()) return false;
        out.push_back(lower ? to_lower(*v) : *v);
    }
    return true;
}

}  // namespace

void parse_tool_secrets(const toml::table& table, Config& config, std::vector<FieldError>& problems) {
    for (const auto& [key_name, node] : table) {
        std::string name(key_name.str());
        std::string where = "tool_secrets." + name;
        if (auto v = node.value<std::string>(); v && node.is_string()) {
            config.tool_secrets[name] = ToolSecret{*v, {}, {}};  // the old form: bound to no host
            continue;
        }
        const auto* fields = node.as_table();
        if (!fields) {
            problems.push_back({where, "expected a string or a table {value, hosts, workspaces}"});
            continue;
        }
        ToolSecret secret;
        for (const auto& [field_key, field] : *fields) {
            std::string field_name(field_key.str());
            if (field_name == "value") {
                auto v = field.value<std::string>();
                if (v && field.is_string()) secret.value = *v;
                else problems.push_back({where + ".value", "expected a string"});
            } else if (field_name == "hosts") {
                if (!string_list(field, secret.hosts, true)) problems.push_back({where + ".hosts", "expected an array of strings"});
            } else if (field_name == "workspaces") {
                if (!string_list(field, secret.workspaces, false))
                    problems.push_back({where + ".workspaces", "expected an array of strings"});
            } else {
                problems.push_back({where + "." + field_name, "unknown key (value, hosts or workspaces)"});
            }
        }
        config.tool_secrets[name] = std::move(secret);
    }
}

void apply_tool_secret_env(const std::string& variable, const std::string& text, Config& config) {
    std::string name = to_lower(variable.substr(std::string("VOICEAGENT_TOOL_SECRET_").size()));
    auto ends_with = [&name](const std::string& suffix) {
        return name.size() > suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (ends_with("_hosts")) {
        auto& secret = config.tool_secrets[name.substr(0, name.size() - 6)];
        secret.hosts.clear();
        for (auto& h : split_list(text)) secret.hosts.push_back(to_lower(h));
    } else if (ends_with("_workspaces")) {
        config.tool_secrets[name.substr(0, name.size() - 11)].workspaces = split_list(text);
    } else {
        config.tool_secrets[name].value = text;
    }
}

void validate_secrets(const Config& config, std::vector<FieldError>& problems) {
    for (const auto& [name, secret] : config.tool_secrets) {
        std::string where = "tool_secrets." + name;
        if (secret.value.empty()) problems.push_back({where, "has no value"});
        for (const auto& host : secret.hosts) {
            std::string bare = host.rfind("*.", 0) == 0 ? host.substr(2) : host;
            // A bare "*" (or "*.") would bind the secret to every host: exactly what binding is there to prevent.
            if (bare.empty() || bare.find_first_of("/@*?#[] \t") != std::string::npos)
                problems.push_back({where + ".hosts", "\"" + host + "\" is not a host name, an address or *.suffix"});
        }
    }
}

}  // namespace va::config_detail
