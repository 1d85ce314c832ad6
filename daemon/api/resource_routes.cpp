// Agents, phone numbers and calls (reads; placing calls arrives with telephony).

#include <algorithm>
#include <charconv>

#include "config/agent_schema.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "daemon/api/api.hpp"
#include "daemon/calls/call_manager.hpp"
#include "daemon/calls/carriers.hpp"

namespace va::api {

using nlohmann::json;

namespace {

std::string id_param(const http::Request& request) { return std::string(request.param("id")); }

// --- agents ------------------------------------------------------------------------------------------------------

// Schema problems are 422: the JSON is well-formed, its content is not a valid agent. So are settings this daemon
// refuses: an llm.base_url the operator did not allow, a tool secret sent to a host it is not bound to.
Status check_definition(ApiContext& ctx, const json& definition, const std::string& workspace_id) {
    auto valid = validate_agent_definition(definition);
    if (!valid) {
        Error e = valid.take_error();
        if (e.code == ErrorCode::invalid_request) e.code = ErrorCode::unprocessable;
        return e;
    }
    if (ctx.calls) return ctx.calls->check_agent(definition, workspace_id);
    return Ok{};
}

// Who wrote a version: the user, or the API key when a key made the request.
std::string writer_id(const Principal& who) {
    return who.kind == Principal::Kind::api_key ? who.api_key_id : who.user_id;
}

Result<http::Response> list_agents(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto name = request.query.find("name"); name != request.query.end()) {
        auto agent = ctx.store.find_agent_by_name(who.workspace_id, name->second);
        json items = json::array();
        if (agent) items.push_back(to_json(*agent));
        else if (agent.error().code != ErrorCode::not_found) return agent.take_error();
        return json_response(200, {{"items", items}, {"next_cursor", nullptr}});
    }
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto list = ctx.store.list_agents(who.workspace_id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, [](const Agent& a) { return to_json(a); }));
}

Result<http::Response> get_agent(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto agent = ctx.store.get_agent(who.workspace_id, id_param(request));
    if (!agent) return agent.take_error();
    return agent_response(200, *agent);
}

Result<http::Response> create_agent(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request);
    if (!body) return body.take_error();
    if (auto valid = check_definition(ctx, *body, who.workspace_id); !valid) return valid.take_error();
    Agent agent;
    agent.id = new_id("agt");
    agent.workspace_id = who.workspace_id;
    agent.name = (*body)["name"].get<std::string>();
    agent.definition = body->dump();
    agent.created_at = agent.updated_at = now_ms();
    agent.updated_by = writer_id(who);
    if (auto created = ctx.store.create_agent(agent); !created) return created.take_error();
    return agent_response(201, agent);
}

// PUT replaces the definition, checked before the lookup; PATCH merges into it (RFC 7386) and checks the result.
Result<http::Response> write_agent(ApiContext& ctx, http::Request& request, const Principal& who, bool merge) {
    auto body = json_body(request);
    if (!body) return body.take_error();
    // A replacement is checked before the lookup, so a malformed body is named whether or not the agent exists.
    if (!merge)
        if (auto valid = check_definition(ctx, *body, who.workspace_id); !valid) return valid.take_error();
    auto agent = ctx.store.get_agent(who.workspace_id, id_param(request));
    if (!agent) return agent.take_error();
    json definition = *body;
    if (merge) {
        definition = parse_json(agent->definition);
        if (definition.is_discarded()) definition = json::object();
        definition.merge_patch(*body);
        if (auto valid = check_definition(ctx, definition, who.workspace_id); !valid) return valid.take_error();
    }
    agent->name = definition["name"].get<std::string>();
    agent->definition = definition.dump();
    agent->updated_by = writer_id(who);
    auto updated = ctx.store.update_agent(*agent);
    if (!updated) return updated.take_error();
    return agent_response(200, *updated);
}

Result<http::Response> delete_agent(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto deleted = ctx.store.delete_agent(who.workspace_id, id_param(request)); !deleted)
        return deleted.take_error();
    return empty_response(204);
}

// Versions are read through the agent: an agent of another workspace (or none) is a 404 before its history is
// looked at, so the answer never tells a foreign agent's history from a missing one.
Result<http::Response> list_agent_versions(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto agent = ctx.store.get_agent(who.workspace_id, id_param(request));
    if (!agent) return agent.take_error();
    auto list = ctx.store.list_agent_versions(who.workspace_id, agent->id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, [](const AgentVersion& v) { return to_json(v); }));
}

Result<http::Response> get_agent_version(ApiContext& ctx, http::Request& request, const Principal& who) {
    std::string text(request.param("version"));
    std::int64_t version = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
    if (ec != std::errc() || end != text.data() + text.size() || version < 1)
        return invalid_field("version", "must be a positive integer");
    auto agent = ctx.store.get_agent(who.workspace_id, id_param(request));
    if (!agent) return agent.take_error();
    auto found = ctx.store.get_agent_version(who.workspace_id, agent->id, version);
    if (!found) return found.take_error();
    return json_response(200, to_json(*found));
}

// --- phone numbers -----------------------------------------------------------------------------------------------

Status check_agent_reference(ApiContext& ctx, const Principal& who, const std::string& agent_id) {
    if (agent_id.empty()) return Ok{};
    auto agent = ctx.store.get_agent(who.workspace_id, agent_id);
    if (agent) return Ok{};
    if (agent.error().code == ErrorCode::not_found) return invalid_field("agent_id", "no such agent in this workspace");
    return agent.take_error();
}

// agent_id may be a string, or null to unassign.
Result<std::string> agent_id_field(const json& body) {
    auto it = body.find("agent_id");
    if (it == body.end() || it->is_null()) return std::string();
    if (!it->is_string()) return invalid_field("agent_id", "must be a string or null");
    return it->get<std::string>();
}

Result<http::Response> list_phones(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto list = ctx.store.list_phones(who.workspace_id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, [](const PhoneNumber& p) { return to_json(p); }));
}

// A number with the URL to give its carrier for inbound calls (a carrier that signs nothing puts the number's
// token in it).
json phone_json(ApiContext& ctx, const PhoneNumber& phone) {
    json out = to_json(phone);
    if (const Carrier* carrier = ctx.carriers ? ctx.carriers->find(phone.provider) : nullptr)
        out["webhook_url"] = carrier->inbound_webhook_url(phone.number);
    return out;
}

Result<http::Response> get_phone(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto phone = ctx.store.get_phone(who.workspace_id, id_param(request));
    if (!phone) return phone.take_error();
    return json_response(200, phone_json(ctx, *phone));
}

Result<http::Response> create_phone(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request, {"number", "provider", "label", "agent_id"});
    if (!body) return body.take_error();
    auto number = required_string(*body, "number", 32);
    if (!number) return number.take_error();
    // +, a non-zero digit, then 7 to 14 digits (E.164), checked by hand: no regex engine on request input.
    const std::string& n = *number;
    bool e164 = n.size() >= 9 && n.size() <= 16 && n[0] == '+' && n[1] >= '1' && n[1] <= '9' &&
                n.find_first_not_of("0123456789", 1) == std::string::npos;
    if (!e164) return invalid_field("number", "must be E.164, such as +15551234567");
    auto provider = required_string(*body, "provider", 32);
    if (!provider) return provider.take_error();
    if (!ctx.carriers || !ctx.carriers->find(*provider)) {
        auto names = ctx.carriers ? ctx.carriers->names() : std::vector<std::string>{};
        std::sort(names.begin(), names.end());  // alphabetical here, as this message always was
        return invalid_field("provider", "must be " + join_names(names, " or "));
    }
    auto label = optional_string(*body, "label", "", 200);
    if (!label) return label.take_error();
    auto agent_id = agent_id_field(*body);
    if (!agent_id) return agent_id.take_error();
    if (auto ref = check_agent_reference(ctx, who, *agent_id); !ref) return ref.take_error();
    PhoneNumber phone;
    phone.id = new_id("phn");
    phone.workspace_id = who.workspace_id;
    phone.number = *number;
    phone.provider = *provider;
    phone.agent_id = *agent_id;
    phone.label = *label;
    phone.created_at = phone.updated_at = now_ms();
    if (auto created = ctx.store.create_phone(phone); !created) return created.take_error();
    return json_response(201, phone_json(ctx, phone));
}

Result<http::Response> update_phone(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request);
    if (!body) return body.take_error();
    for (const auto& [key, value] : body->items()) {
        if (key != "agent_id" && key != "label") return invalid_field(key, "unknown field (only agent_id and label change)");
    }
    auto phone = ctx.store.get_phone(who.workspace_id, id_param(request));
    if (!phone) return phone.take_error();
    if (body->contains("agent_id")) {
        auto agent_id = agent_id_field(*body);
        if (!agent_id) return agent_id.take_error();
        if (auto ref = check_agent_reference(ctx, who, *agent_id); !ref) return ref.take_error();
        phone->agent_id = *agent_id;
    }
    if (body->contains("label")) {
        auto label = optional_string(*body, "label", "", 200);
        if (!label) return label.take_error();
        phone->label = *label;
    }
    auto updated = ctx.store.update_phone(*phone);
    if (!updated) return updated.take_error();
    return json_response(200, to_json(*updated));
}

Result<http::Response> delete_phone(ApiContext& ctx, http::Request& request, const Principal& who) {
    if (auto deleted = ctx.store.delete_phone(who.workspace_id, id_param(request)); !deleted)
        return deleted.take_error();
    return empty_response(204);
}

// --- calls -------------------------------------------------------------------------------------------------------

Result<std::int64_t> time_query(const http::Request& request, const char* name) {
    auto it = request.query.find(name);
    if (it == request.query.end() || it->second.empty()) return std::int64_t{0};
    auto t = parse_rfc3339(it->second);
    if (!t) return invalid_field(name, "must be an RFC 3339 time such as 2026-01-31T09:00:00Z");
    return *t;
}

Result<http::Response> list_calls(ApiContext& ctx, http::Request& request, const Principal& who) {
    static const char* statuses[] = {"queued", "ringing", "in-progress", "completed", "busy",
                                     "no-answer", "failed", "canceled"};
    auto page = page_request(request);
    if (!page) return page.take_error();
    CallFilter filter;
    auto q = [&](const char* k) {
        auto it = request.query.find(k);
        return it == request.query.end() ? std::string() : it->second;
    };
    filter.agent_id = q("agent_id");
    filter.campaign_id = q("campaign_id");
    filter.status = q("status");
    filter.direction = q("direction");
    if (!filter.status.empty() && std::find(std::begin(statuses), std::end(statuses), filter.status) == std::end(statuses))
        return invalid_field("status", "must be one of queued, ringing, in-progress, completed, busy, no-answer, "
                                       "failed, canceled");
    if (!filter.direction.empty() && filter.direction != "inbound" && filter.direction != "outbound")
        return invalid_field("direction", "must be inbound or outbound");
    auto since = time_query(request, "since");
    if (!since) return since.take_error();
    auto until = time_query(request, "until");
    if (!until) return until.take_error();
    filter.created_after = *since;
    filter.created_before = *until;
    auto list = ctx.store.list_calls(who.workspace_id, filter, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, [](const Call& c) { return to_json(c); }));
}

Result<http::Response> get_call(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto call = ctx.store.get_call(who.workspace_id, id_param(request));
    if (!call) return call.take_error();
    return json_response(200, to_json(*call));
}

Result<http::Response> get_transcript(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto call = ctx.store.get_call(who.workspace_id, id_param(request));
    if (!call) return call.take_error();
    auto turns = ctx.store.list_turns(call->id);
    if (!turns) return turns.take_error();
    json items = json::array();
    for (const auto& t : *turns) items.push_back(to_json(t));
    return json_response(200, {{"call_id", call->id}, {"items", items}});
}

}  // namespace

void register_agent_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/agents", route(ctx, Role::viewer, list_agents),
               {false, "List agents (?name= finds one by name)"});
    router.add("POST", "/api/v1/agents", route(ctx, Role::member, create_agent),
               {false, "Create an agent from its definition"});
    router.add("GET", "/api/v1/agents/{id}", route(ctx, Role::viewer, get_agent), {false, "Get an agent"});
    router.add("PUT", "/api/v1/agents/{id}",
               route(ctx, Role::member,
                    [](ApiContext& c, http::Request& r, const Principal& w) { return write_agent(c, r, w, false); }),
               {false, "Replace an agent's definition"});
    router.add("PATCH", "/api/v1/agents/{id}",
               route(ctx, Role::member,
                    [](ApiContext& c, http::Request& r, const Principal& w) { return write_agent(c, r, w, true); }),
               {false, "Merge a JSON merge patch into an agent's definition"});
    router.add("DELETE", "/api/v1/agents/{id}", route(ctx, Role::member, delete_agent), {false, "Delete an agent"});
    router.add("GET", "/api/v1/agents/{id}/versions", route(ctx, Role::viewer, list_agent_versions),
               {false, "An agent's kept versions (the last 50), newest first; the cursor is a version number"});
    router.add("GET", "/api/v1/agents/{id}/versions/{version}", route(ctx, Role::viewer, get_agent_version),
               {false, "One kept version of an agent (restore it by PUTting its definition)"});
}

void register_phone_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/phones", route(ctx, Role::viewer, list_phones), {false, "List phone numbers"});
    router.add("POST", "/api/v1/phones", route(ctx, Role::admin, create_phone), {false, "Add a phone number"});
    router.add("GET", "/api/v1/phones/{id}", route(ctx, Role::viewer, get_phone), {false, "Get a phone number"});
    router.add("PATCH", "/api/v1/phones/{id}", route(ctx, Role::admin, update_phone),
               {false, "Assign an agent to a number (agent_id, null to unassign) or relabel it"});
    router.add("DELETE", "/api/v1/phones/{id}", route(ctx, Role::admin, delete_phone), {false, "Remove a phone number"});
}

void register_call_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/calls", route(ctx, Role::viewer, list_calls),
               {false, "List calls (filters: agent_id, status, campaign_id, direction, since, until)"});
    router.add("GET", "/api/v1/calls/{id}", route(ctx, Role::viewer, get_call), {false, "Get a call"});
    router.add("GET", "/api/v1/calls/{id}/transcript", route(ctx, Role::viewer, get_transcript),
               {false, "A call's turns in order"});
}

}  // namespace va::api
