#include <algorithm>
#include <charconv>

#include "core/auth/api_key.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "daemon/api/api.hpp"

namespace va::api {

using nlohmann::json;

http::Response json_response(int status, const json& body) {
    http::Response r;
    r.status = status;
    // Messages may quote client input that is not UTF-8: replaced, never an exception (a 500).
    r.body = body.dump(-1, ' ', false, json::error_handler_t::replace);
    return r;
}

http::Response empty_response(int status) {
    http::Response r;
    r.status = status;
    r.content_type.clear();
    return r;
}

http::Response error_response(const Error& error) {
    json details = json::array();
    for (const auto& d : error.details) details.push_back({{"field", d.field}, {"reason", d.reason}});
    // Internal errors never leak their message (it may name files, SQL or hosts); it is logged by authed().
    std::string message = error.code == ErrorCode::internal ? "internal error" : error.message;
    auto r = json_response(http_status(error.code),
                           {{"error", {{"code", to_string(error.code)}, {"message", message}, {"details", details}}}});
    if (error.code == ErrorCode::rate_limited) r.set_header("Retry-After", std::to_string(std::max(1, error.retry_after_s)));
    if (error.code == ErrorCode::unauthenticated) r.set_header("WWW-Authenticate", "Bearer");
    return r;
}

Result<json> json_body(const http::Request& request) {
    auto type = request.header("content-type");
    auto semi = type.find(';');
    auto media = type.substr(0, semi);
    while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
    if (to_lower(media) != "application/json")
        return make_error(ErrorCode::unsupported_media_type, "request body must be application/json");
    auto parsed = parse_json_checked(request.body);  // malformed, or nested deeper than 64 levels
    if (!parsed) return parsed.take_error();
    json body = std::move(*parsed);
    if (!body.is_object()) return invalid_field("body", "must be a JSON object");
    return body;
}

Result<json> json_body(const http::Request& request, std::initializer_list<const char*> fields) {
    auto body = json_body(request);
    if (!body) return body;
    if (auto known = known_fields(*body, fields); !known) return known.take_error();
    return body;
}

Status no_body_fields(const http::Request& request) {
    if (request.body.empty()) return Ok{};
    json body = parse_json(request.body);
    if (body.is_object() && !body.empty()) return invalid_field(body.begin().key(), "unknown field (this route takes no body)");
    return Ok{};
}

Result<PageRequest> page_request(const http::Request& request) {
    PageRequest page;
    if (auto it = request.query.find("limit"); it != request.query.end()) {
        const std::string& s = it->second;
        int value = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
        if (ec != std::errc() || end != s.data() + s.size() || value < 1 || value > 500)
            return invalid_field("limit", "must be an integer from 1 to 500");
        page.limit = value;
    }
    if (auto it = request.query.find("cursor"); it != request.query.end()) page.cursor = it->second;
    return page;
}

Result<std::string> required_string(const json& body, const char* field, std::size_t max_len) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) return invalid_field(field, "is required");
    if (!it->is_string()) return invalid_field(field, "must be a string");
    auto value = it->get<std::string>();
    if (value.empty()) return invalid_field(field, "must not be empty");
    if (value.size() > max_len) return invalid_field(field, "must be at most " + std::to_string(max_len) + " bytes");
    return value;
}

Result<std::string> optional_string(const json& body, const char* field, std::string fallback, std::size_t max_len) {
    auto it = body.find(field);
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_string()) return invalid_field(field, "must be a string");
    auto value = it->get<std::string>();
    if (value.size() > max_len) return invalid_field(field, "must be at most " + std::to_string(max_len) + " bytes");
    return value;
}

json time_json(std::int64_t epoch_ms) { return epoch_ms == 0 ? json(nullptr) : json(format_rfc3339(epoch_ms)); }

static json nullable(const std::string& s) { return s.empty() ? json(nullptr) : json(s); }

json to_json(const Workspace& ws) {
    return {{"id", ws.id}, {"name", ws.name}, {"created_at", time_json(ws.created_at)}};
}

json to_json(const User& u) {
    return {{"id", u.id},       {"workspace_id", u.workspace_id}, {"email", u.email},
            {"name", u.name},   {"role", u.role},                 {"disabled", u.disabled},
            {"created_at", time_json(u.created_at)}, {"updated_at", time_json(u.updated_at)}};
}

json to_json(const ApiKey& k) {
    return {{"id", k.id},
            {"workspace_id", k.workspace_id},
            {"user_id", nullable(k.user_id)},
            {"name", k.name},
            {"role", k.role},
            {"prefix", k.prefix},
            {"created_at", time_json(k.created_at)},
            {"last_used_at", time_json(k.last_used_at)},
            {"revoked_at", time_json(k.revoked_at)}};
}

json to_json(const Agent& a) {
    json definition = parse_json(a.definition);
    if (definition.is_discarded()) definition = json::object();
    return {{"id", a.id},
            {"workspace_id", a.workspace_id},
            {"name", a.name},
            {"version", a.version},
            {"created_at", time_json(a.created_at)},
            {"updated_at", time_json(a.updated_at)},
            {"definition", std::move(definition)}};
}

json to_json(const AgentVersion& v) {
    json definition = parse_json(v.definition);
    if (definition.is_discarded()) definition = json::object();
    json out{{"version", v.version},
             {"name", v.name},
             {"definition", std::move(definition)},
             {"updated_at", time_json(v.updated_at)}};
    if (!v.updated_by.empty()) out["updated_by"] = v.updated_by;
    return out;
}

http::Response agent_response(int status, const Agent& a) {
    json head{{"id", a.id},
              {"workspace_id", a.workspace_id},
              {"name", a.name},
              {"version", a.version},
              {"created_at", time_json(a.created_at)},
              {"updated_at", time_json(a.updated_at)}};
    http::Response r;
    r.status = status;
    r.body = head.dump();
    r.body.pop_back();  // reopen the object: the definition was validated and serialized by us when stored
    r.body += ",\"definition\":";
    r.body += a.definition.empty() ? "{}" : a.definition;
    r.body += '}';
    return r;
}

json to_json(const PhoneNumber& p) {
    return {{"id", p.id},
            {"workspace_id", p.workspace_id},
            {"number", p.number},
            {"provider", p.provider},
            {"agent_id", nullable(p.agent_id)},
            {"label", p.label},
            {"created_at", time_json(p.created_at)},
            {"updated_at", time_json(p.updated_at)}};
}

json to_json(const Call& c) {
    json metrics = c.metrics.empty() ? json::object() : parse_json(c.metrics);
    if (metrics.is_discarded()) metrics = json::object();
    json analysis = c.analysis.empty() ? json::object() : parse_json(c.analysis);
    if (analysis.is_discarded()) analysis = json::object();
    return {{"id", c.id},
            {"workspace_id", c.workspace_id},
            {"agent_id", nullable(c.agent_id)},
            {"phone_id", nullable(c.phone_id)},
            {"campaign_id", nullable(c.campaign_id)},
            {"direction", c.direction},
            {"channel", c.channel},
            {"from", c.from_number},
            {"to", c.to_number},
            {"status", c.status},
            {"provider_call_id", nullable(c.provider_call_id)},
            {"created_at", time_json(c.created_at)},
            {"started_at", time_json(c.started_at)},
            {"answered_at", time_json(c.answered_at)},
            {"ended_at", time_json(c.ended_at)},
            {"duration_s", c.duration_s},
            {"end_reason", nullable(c.end_reason)},
            {"metrics", std::move(metrics)},
            {"summary", nullable(c.summary)},
            {"outcome", nullable(c.outcome)},
            {"analysis", analysis},
            {"instance_id", nullable(c.instance_id)}};
}

json to_json(const CallTurn& t) {
    return {{"seq", t.seq},
            {"role", t.role},
            {"text", t.text},
            {"started_ms", t.started_ms},
            {"ended_ms", t.ended_ms},
            {"interrupted", t.interrupted},
            {"source", nullable(t.source)}};
}

Result<json> optional_object(const json& body, const char* field) {
    if (!body.contains(field)) return json::object();
    if (!body[field].is_object()) return invalid_field(field, "must be an object");
    return body[field];
}

Result<std::vector<std::string>> optional_strings(const json& body, const char* field) {
    std::vector<std::string> out;
    if (!body.contains(field)) return out;
    const json& list = body[field];
    if (!list.is_array()) return invalid_field(field, "must be an array of strings");
    for (const auto& item : list) {
        if (!item.is_string()) return invalid_field(field, "must be an array of strings");
        out.push_back(item.get<std::string>());
    }
    return out;
}

Result<Agent> resolve_agent(ApiContext& ctx, const std::string& workspace_id, const json& body) {
    auto ref = required_string(body, "agent_id", 200);
    if (!ref) return ref.take_error();
    auto agent = ctx.store.get_agent(workspace_id, *ref);
    if (!agent && agent.error().code == ErrorCode::not_found) agent = ctx.store.find_agent_by_name(workspace_id, *ref);
    if (!agent && agent.error().code == ErrorCode::not_found)
        return invalid_field("agent_id", "no such agent in this workspace");
    return agent;
}

Result<PhoneNumber> resolve_phone(ApiContext& ctx, const std::string& workspace_id, const json& body) {
    auto phone_id = optional_string(body, "phone_id", "", 64);
    if (!phone_id) return phone_id.take_error();
    auto from = optional_string(body, "from", "", 32);
    if (!from) return from.take_error();
    if (!phone_id->empty()) {
        auto phone = ctx.store.get_phone(workspace_id, *phone_id);
        if (!phone && phone.error().code == ErrorCode::not_found)
            return invalid_field("phone_id", "no such number in this workspace");
        return phone;
    }
    if (!from->empty()) {
        auto phone = ctx.store.find_phone_by_number(*from);
        if ((!phone && phone.error().code == ErrorCode::not_found) || (phone && phone->workspace_id != workspace_id))
            return invalid_field("from", "not a number of this workspace (add it with POST /api/v1/phones)");
        return phone;
    }
    return invalid_field("from", "give the number to call from (from) or its id (phone_id)");
}

Status accepting_calls(const ApiContext& ctx) {
    if (ctx.draining && ctx.draining())
        return make_error(ErrorCode::unavailable, "this daemon is shutting down and takes no new calls");
    return Ok{};
}

Status known_fields(const json& body, std::initializer_list<const char*> fields) {
    for (const auto& [key, value] : body.items())
        if (std::none_of(fields.begin(), fields.end(), [&key](const char* f) { return key == f; }))
            return invalid_field(key, "unknown field");
    return Ok{};
}

Result<std::optional<http::Response>> idempotent_replay(
    ApiContext& ctx, const http::Request& request, const std::string& workspace_id, const std::string& scope,
    const std::string& new_id, const std::function<Result<http::Response>(const std::string& first_id)>& replay) {
    std::string key(request.header("idempotency-key"));
    if (key.size() > 200) return invalid_field("Idempotency-Key", "must be at most 200 characters");
    if (key.empty()) return std::optional<http::Response>{};
    auto claimed = ctx.store.claim_idempotency_key(workspace_id, scope + key, new_id, now_ms());
    if (!claimed) return claimed.take_error();
    if (*claimed == new_id) return std::optional<http::Response>{};
    auto response = replay(*claimed);
    if (!response && response.error().code == ErrorCode::not_found)
        return make_error(ErrorCode::conflict, "a request with this Idempotency-Key is still in progress");
    if (!response) return response.take_error();
    response->set_header("Idempotent-Replayed", "true");
    return std::optional<http::Response>{std::move(*response)};
}

}  // namespace va::api
