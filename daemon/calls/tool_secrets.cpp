#include "daemon/calls/tool_secrets.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "core/util/strings.hpp"
#include "core/util/url.hpp"

namespace va {

using nlohmann::json;

namespace {

const std::string kOpen = "{{secret:";

Error unprocessable(std::string field, std::string why) {
    Error e = invalid_field(std::move(field), std::move(why));
    e.code = ErrorCode::unprocessable;
    return e;
}

}  // namespace

std::vector<std::string> secret_names(const std::string& value) {
    std::vector<std::string> out;
    for (std::size_t at = value.find(kOpen); at != std::string::npos; at = value.find(kOpen, at + kOpen.size())) {
        auto close = value.find("}}", at);
        if (close == std::string::npos) break;
        out.push_back(value.substr(at + kOpen.size(), close - at - kOpen.size()));
    }
    return out;
}

bool host_bound(const std::vector<std::string>& patterns, std::string host) {
    host = to_lower(host);
    while (!host.empty() && host.back() == '.') host.pop_back();
    if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    if (host.empty()) return false;
    for (const auto& pattern : patterns) {
        if (pattern.rfind("*.", 0) == 0) {
            std::string suffix = pattern.substr(1);  // ".example.com"
            if (suffix.size() > 1 && host.size() > suffix.size() &&
                host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0)
                return true;
        } else if (!pattern.empty() && host == pattern) {
            return true;
        }
    }
    return false;
}

Status secret_allowed(const ToolSecrets& secrets, const std::string& name, const std::string& host,
                      const std::string& workspace_id) {
    auto it = secrets.find(name);
    if (it == secrets.end() || it->second.value.empty())
        return make_error(ErrorCode::unprocessable, "secret \"" + name + "\" is not configured");
    const ToolSecret& secret = it->second;
    if (!secret.workspaces.empty() &&
        std::find(secret.workspaces.begin(), secret.workspaces.end(), workspace_id) == secret.workspaces.end())
        return make_error(ErrorCode::unprocessable, "secret \"" + name + "\" is not configured");  // as if absent
    if (secret.hosts.empty())
        return make_error(ErrorCode::unprocessable,
                          "secret \"" + name + "\" is bound to no host (tool_secrets." + name + ".hosts)");
    if (!host_bound(secret.hosts, host))
        return make_error(ErrorCode::unprocessable, "secret \"" + name + "\" may not be sent to " + host +
                                                        " (tool_secrets." + name + ".hosts)");
    return Ok{};
}

Status check_tool_secrets(const json& definition, const ToolSecrets& secrets, const std::string& workspace_id) {
    auto tools = definition.find("tools");
    if (tools == definition.end() || !tools->is_array()) return Ok{};
    for (std::size_t i = 0; i < tools->size(); ++i) {
        const json& tool = (*tools)[i];
        if (!tool.is_object() || tool.value("type", "") != "http") continue;
        auto headers = tool.find("headers");
        if (headers == tool.end() || !headers->is_object()) continue;
        std::string tool_name = tool.value("name", "");
        std::string url = tool.value("url", "");
        std::string host = url_host(url);
        for (const auto& [header, value] : headers->items()) {
            if (!value.is_string()) continue;
            std::string field = "tools[" + std::to_string(i) + "].headers." + header;
            for (const auto& name : secret_names(value.get<std::string>())) {
                std::string who = "tool \"" + tool_name + "\": ";
                // {name} placeholders in the host are filled by the LLM's arguments: the destination is not
                // known here, so it cannot be one the secret is bound to.
                if (host.find_first_of("{}") != std::string::npos || host.empty())
                    return unprocessable(field, who + "secret \"" + name +
                                                    "\" cannot be sent to a host filled from the arguments");
                if (auto ok = secret_allowed(secrets, name, host, workspace_id); !ok)
                    return unprocessable(field, who + ok.error().message);
            }
        }
    }
    return Ok{};
}

Result<std::string> fill_secrets(std::string value, const ToolSecrets& secrets, const std::string& host,
                                 const std::string& workspace_id) {
    for (std::size_t at = value.find(kOpen); at != std::string::npos; at = value.find(kOpen, at)) {
        auto close = value.find("}}", at);
        if (close == std::string::npos) break;
        std::string name = value.substr(at + kOpen.size(), close - at - kOpen.size());
        if (auto ok = secret_allowed(secrets, name, host, workspace_id); !ok) return ok.take_error();
        const std::string& secret = secrets.at(name).value;
        value.replace(at, close + 2 - at, secret);
        at += secret.size();
    }
    return value;
}

std::vector<std::string> unbound_secrets(const ToolSecrets& secrets) {
    std::vector<std::string> out;
    for (const auto& [name, secret] : secrets)
        if (secret.hosts.empty()) out.push_back(name);
    return out;
}

}  // namespace va
