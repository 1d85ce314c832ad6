#include "daemon/calls/http_tools.hpp"

#include "config/agent_schema.hpp"
#include "core/util/encoding.hpp"
#include "core/util/time.hpp"
#include "providers/common/http_client.hpp"

namespace va {

using nlohmann::json;

namespace {

std::string scalar_text(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

ToolResult failed(std::string why, std::int64_t started, int status = 0) {
    ToolResult r;
    r.error = std::move(why);
    r.content = json{{"error", r.error}}.dump();
    r.status = status;
    r.ms = now_ms() - started;
    return r;
}

}  // namespace

ToolResult run_http_tool(const json& tool, const ToolCall& call, const ToolSettings& settings,
                         const std::string& workspace_id) {
    auto started = now_ms();
    json args = call.arguments;
    if (args.is_object() && args.contains("_raw")) return failed("the arguments are not valid JSON", started);
    json schema = tool.contains("parameters") && tool["parameters"].is_object() ? tool["parameters"] : json{{"type", "object"}};
    if (auto valid = validate_json_schema(schema, args); !valid) {
        std::string why = "the arguments do not match the tool's parameters:";
        for (const auto& d : valid.error().details) why += " " + (d.field.empty() ? "/" : d.field) + " " + d.reason + ";";
        if (valid.error().details.empty()) why += " " + valid.error().message;
        return failed(why, started);
    }
    if (!args.is_object()) args = json::object();

    // {name} in the URL takes the argument's value (percent-encoded); the rest are sent as the body or query.
    std::string url = tool.value("url", "");
    json rest = args;
    for (auto& [name, value] : args.items()) {
        std::string key = "{" + name + "}";
        if (auto at = url.find(key); at != std::string::npos) {
            url.replace(at, key.size(), percent_encode(scalar_text(value)));
            rest.erase(name);
        }
    }
    auto target = check_http_url(url, settings.allowed);
    if (!target) return failed("refused: " + target.error().message, started);

    HttpRequest request;
    request.method = tool.value("method", "POST");
    request.timeout_ms = tool.value("timeout_ms", 5000);
    request.max_body_bytes = settings.max_response_bytes;
    request.resolve = target->resolve;
    request.guarded = true;
    if (tool.contains("headers") && tool["headers"].is_object())
        for (auto& [name, value] : tool["headers"].items()) {
            // Against the host actually requested: the arguments may have changed it since the definition was
            // checked.
            auto filled = fill_secrets(value.is_string() ? value.get<std::string>() : "", settings.secrets,
                                       target->host, workspace_id);
            if (!filled) return failed(filled.error().message, started);
            request.headers.emplace_back(name, *filled);
        }
    if (request.method == "GET" || request.method == "DELETE") {
        FormFields query;
        for (auto& [name, value] : rest.items()) query.emplace_back(name, scalar_text(value));
        if (!query.empty()) url += (url.find('?') == std::string::npos ? "?" : "&") + form_encode(query);
    } else {
        request.headers.emplace_back("Content-Type", "application/json");
        request.body = rest.dump();
    }
    request.headers.emplace_back("Accept", "application/json, text/plain");
    request.url = url;
    auto r = http_request(request);
    if (!r) return failed(r.error().message, started);
    if (r->status < 200 || r->status >= 300) {
        auto out = failed("the tool answered HTTP " + std::to_string(r->status), started, r->status);
        out.content = json{{"error", out.error}, {"body", r->body.substr(0, 1000)}}.dump();
        return out;
    }
    ToolResult ok;
    ok.ok = true;
    ok.status = r->status;
    ok.content = r->body.empty() ? json{{"ok", true}}.dump() : r->body;
    ok.ms = now_ms() - started;
    return ok;
}

}  // namespace va
