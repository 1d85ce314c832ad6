// REST for outbound campaigns (API.md: /api/v1/campaigns): create and edit, import contacts from CSV or JSON,
// start, pause, resume, cancel, progress; and the workspace's do-not-call list (/api/v1/dnc).
#include <spdlog/spdlog.h>

#include "core/campaigns/campaign_rules.hpp"
#include "core/util/ids.hpp"
#include "core/util/strings.hpp"
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "daemon/api/api.hpp"
#include "daemon/campaigns/campaign_runner.hpp"

namespace va::api {

using nlohmann::json;

namespace {

json campaign_json(const Campaign& c) {
    json out{{"id", c.id},
             {"name", c.name},
             {"agent_id", c.agent_id},
             {"phone_id", c.phone_id.empty() ? json() : json(c.phone_id)},
             {"status", c.status},
             {"created_at", time_json(c.created_at)},
             {"updated_at", time_json(c.updated_at)},
             {"started_at", time_json(c.started_at)},
             {"finished_at", time_json(c.finished_at)}};
    out.update(to_json(campaign_config(c)));
    return out;
}

json contact_json(const CampaignContact& c) {
    return {{"id", c.id},
            {"phone", c.phone},
            {"timezone", c.timezone.empty() ? json() : json(c.timezone)},
            {"variables", parse_json(c.variables)},
            {"state", c.state},
            {"attempts", c.attempts},
            {"last_call_id", c.last_call_id.empty() ? json() : json(c.last_call_id)},
            {"last_outcome", c.last_outcome.empty() ? json() : json(c.last_outcome)},
            {"next_attempt_at", time_json(c.next_attempt_at)},
            {"created_at", time_json(c.created_at)}};
}

json dnc_json(const DncEntry& d) {
    return {{"id", d.id}, {"phone", d.phone}, {"reason", d.reason}, {"created_at", time_json(d.created_at)}};
}

Result<http::Response> create_campaign(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request, {"name", "agent_id", "phone_id", "from", "concurrency", "window", "retry"});
    if (!body) return body.take_error();
    auto name = required_string(*body, "name", 200);
    if (!name) return name.take_error();
    if (name->empty()) return invalid_field("name", "must not be empty");
    auto agent = resolve_agent(ctx, who.workspace_id, *body);
    if (!agent) return agent.take_error();
    auto phone = resolve_phone(ctx, who.workspace_id, *body);
    if (!phone) return phone.take_error();
    auto config = parse_campaign_config(*body, {}, ctx.campaigns->settings().max_concurrency);
    if (!config) return config.take_error();

    Campaign campaign;
    campaign.id = new_id("cmp");
    auto replayed = idempotent_replay(ctx, request, who.workspace_id, "campaign:", campaign.id,
                                      [&](const std::string& first) -> Result<http::Response> {
                                          auto existing = ctx.store.get_campaign(who.workspace_id, first);
                                          if (!existing) return existing.take_error();
                                          return json_response(201, campaign_json(*existing));
                                      });
    if (!replayed) return replayed.take_error();
    if (*replayed) return std::move(**replayed);
    campaign.workspace_id = who.workspace_id;
    campaign.agent_id = agent->id;
    campaign.phone_id = phone->id;
    campaign.name = *name;
    campaign.config = to_json(*config).dump();
    campaign.created_at = campaign.updated_at = now_ms();
    if (auto s = ctx.store.create_campaign(campaign); !s) return s.take_error();
    return json_response(201, campaign_json(campaign));
}

Result<http::Response> list_campaigns(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto list = ctx.store.list_campaigns(who.workspace_id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, campaign_json));
}

Result<http::Response> get_campaign(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto campaign = ctx.store.get_campaign(who.workspace_id, std::string(request.param("id")));
    if (!campaign) return campaign.take_error();
    auto progress = ctx.campaigns->progress(*campaign);
    if (!progress) return progress.take_error();
    json out = campaign_json(*campaign);
    out["progress"] = *progress;
    return json_response(200, out);
}

Result<http::Response> update_campaign(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request, {"name", "agent_id", "phone_id", "from", "concurrency", "window", "retry"});
    if (!body) return body.take_error();
    auto campaign = ctx.store.get_campaign(who.workspace_id, std::string(request.param("id")));
    if (!campaign) return campaign.take_error();
    if (campaign->status == "completed" || campaign->status == "canceled")
        return make_error(ErrorCode::conflict, "the campaign is " + campaign->status + "; it can no longer change");
    if (body->contains("name")) {
        auto name = required_string(*body, "name", 200);
        if (!name) return name.take_error();
        if (name->empty()) return invalid_field("name", "must not be empty");
        campaign->name = *name;
    }
    if (body->contains("agent_id")) {
        auto agent = resolve_agent(ctx, who.workspace_id, *body);
        if (!agent) return agent.take_error();
        campaign->agent_id = agent->id;
    }
    if (body->contains("phone_id") || body->contains("from")) {
        auto phone = resolve_phone(ctx, who.workspace_id, *body);
        if (!phone) return phone.take_error();
        campaign->phone_id = phone->id;
    }
    auto config = parse_campaign_config(*body, campaign_config(*campaign), ctx.campaigns->settings().max_concurrency);
    if (!config) return config.take_error();
    campaign->config = to_json(*config).dump();
    auto stored = ctx.store.update_campaign(*campaign);
    if (!stored) return stored.take_error();
    ctx.campaigns->wake();  // a higher limit or a wider window may let calls out at once
    return json_response(200, campaign_json(*stored));
}

// POST /campaigns/{id}/contacts: text/csv, or JSON (an array, or {"contacts": [...]}). Good rows are added even when
// others are bad; the bad ones are reported by line (CSV) or item (JSON).
Result<http::Response> import_contacts(ApiContext& ctx, http::Request& request, const Principal& who) {
    std::string type = to_lower(std::string(request.header("content-type")));
    type = type.substr(0, type.find(';'));
    while (!type.empty() && type.back() == ' ') type.pop_back();
    campaigns::ImportResult parsed;
    if (type == "text/csv") {
        parsed = campaigns::parse_contacts_csv(request.body);
    } else if (type == "application/json") {
        auto document = parse_json_checked(request.body);
        if (!document) return document.take_error();
        if (document->is_object())
            if (auto s = known_fields(*document, {"contacts"}); !s) return s.take_error();
        parsed = campaigns::parse_contacts_json(*document);
    } else {
        return make_error(ErrorCode::unsupported_media_type, "send contacts as text/csv or application/json");
    }
    // A problem with the whole document (no phone column, not a list) rejects it.
    for (const auto& e : parsed.errors)
        if (e.line == 0) return invalid_field("body", e.message);
    auto campaign = ctx.store.get_campaign(who.workspace_id, std::string(request.param("id")));
    if (!campaign) return campaign.take_error();
    if (campaign->status == "completed" || campaign->status == "canceled")
        return make_error(ErrorCode::conflict, "the campaign is " + campaign->status + "; it takes no more contacts");

    std::vector<CampaignContact> contacts;
    contacts.reserve(parsed.contacts.size());
    std::int64_t now = now_ms();
    for (const auto& row : parsed.contacts) {
        CampaignContact c;
        c.id = new_id("cct");
        c.campaign_id = campaign->id;
        c.workspace_id = campaign->workspace_id;
        c.phone = row.phone;
        c.timezone = row.timezone;
        c.variables = row.variables.dump();
        c.created_at = c.updated_at = now;
        contacts.push_back(std::move(c));
    }
    auto added = ctx.store.add_campaign_contacts(contacts);
    if (!added) return added.take_error();
    json errors = json::array();
    for (const auto& e : parsed.errors) errors.push_back({{"line", e.line}, {"message", e.message}});
    ctx.campaigns->wake();
    return json_response(200, json{{"added", *added},
                                   {"updated", std::int64_t(contacts.size()) - *added},
                                   {"duplicates", parsed.duplicates},
                                   {"rejected", parsed.errors.size()},
                                   {"errors", errors}});
}

Result<http::Response> list_contacts(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto campaign = ctx.store.get_campaign(who.workspace_id, std::string(request.param("id")));
    if (!campaign) return campaign.take_error();
    auto page = page_request(request);
    if (!page) return page.take_error();
    std::string state;
    if (auto it = request.query.find("state"); it != request.query.end()) state = it->second;
    static const std::set<std::string> states{"", "pending", "dialing", "done", "failed", "dnc", "canceled"};
    if (!states.count(state))
        return invalid_field("state", "must be one of pending, dialing, done, failed, dnc, canceled");
    auto list = ctx.store.list_campaign_contacts(campaign->id, state, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, contact_json));
}

http::Handler control(ApiContext& ctx, const char* action) {
    return authed(ctx, Role::member, [&ctx, action](http::Request& request, const Principal& who) -> Result<http::Response> {
        if (auto s = no_body_fields(request); !s) return s.take_error();
        auto moved = ctx.campaigns->control(who.workspace_id, std::string(request.param("id")), action);
        if (!moved) return moved.take_error();
        return json_response(200, campaign_json(*moved));
    });
}

Result<http::Response> progress(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto campaign = ctx.store.get_campaign(who.workspace_id, std::string(request.param("id")));
    if (!campaign) return campaign.take_error();
    auto out = ctx.campaigns->progress(*campaign);
    if (!out) return out.take_error();
    return json_response(200, *out);
}

Result<http::Response> add_dnc(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto body = json_body(request, {"phone", "reason"});
    if (!body) return body.take_error();
    auto raw = required_string(*body, "phone", 64);
    if (!raw) return raw.take_error();
    auto phone = campaigns::normalize_e164(*raw);
    if (!phone) return invalid_field("phone", "\"" + *raw + "\" is not an E.164 number (+ and 8 to 15 digits)");
    auto reason = optional_string(*body, "reason", "", 500);
    if (!reason) return reason.take_error();
    DncEntry entry{new_id("dnc"), who.workspace_id, *phone, *reason, now_ms()};
    if (auto s = ctx.store.add_dnc(entry); !s) return s.take_error();
    return json_response(201, dnc_json(entry));
}

Result<http::Response> list_dnc(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto page = page_request(request);
    if (!page) return page.take_error();
    auto list = ctx.store.list_dnc(who.workspace_id, *page);
    if (!list) return list.take_error();
    return json_response(200, page_json(*list, dnc_json));
}

Result<http::Response> remove_dnc(ApiContext& ctx, http::Request& request, const Principal& who) {
    std::string raw(request.param("phone"));
    auto phone = campaigns::normalize_e164(raw);
    if (!phone) return invalid_field("phone", "\"" + raw + "\" is not an E.164 number");
    if (auto s = ctx.store.remove_dnc(who.workspace_id, *phone); !s) return s.take_error();
    return empty_response(204);
}

}  // namespace

void register_campaign_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/campaigns", route(ctx, Role::viewer, list_campaigns), {false, "List campaigns"});
    router.add("POST", "/api/v1/campaigns", route(ctx, Role::member, create_campaign),
               {false, "Create a campaign (name, agent_id, phone_id or from, concurrency, window, retry); "
                       "Idempotency-Key honoured"});
    router.add("GET", "/api/v1/campaigns/{id}", route(ctx, Role::viewer, get_campaign),
               {false, "Get a campaign with its progress"});
    router.add("PATCH", "/api/v1/campaigns/{id}", route(ctx, Role::member, update_campaign),
               {false, "Change a campaign's name, agent, number, concurrency, window or retry policy"});
    router.add("POST", "/api/v1/campaigns/{id}/contacts", route(ctx, Role::member, import_contacts),
               {false, "Import contacts (text/csv or JSON); bad rows are reported by line, good ones kept"});
    router.add("GET", "/api/v1/campaigns/{id}/contacts", route(ctx, Role::viewer, list_contacts),
               {false, "A campaign's contacts (filter: state)"});
    router.add("POST", "/api/v1/campaigns/{id}/start", control(ctx, "start"), {false, "Start dialling"});
    router.add("POST", "/api/v1/campaigns/{id}/pause", control(ctx, "pause"), {false, "Stop new dials"});
    router.add("POST", "/api/v1/campaigns/{id}/resume", control(ctx, "resume"), {false, "Dial again after a pause"});
    router.add("POST", "/api/v1/campaigns/{id}/cancel", control(ctx, "cancel"),
               {false, "Cancel: no more dials; calls in flight finish"});
    router.add("GET", "/api/v1/campaigns/{id}/progress", route(ctx, Role::viewer, progress),
               {false, "Counts by state, attempts, answer rate, rate and estimated time to finish"});
    router.add("GET", "/api/v1/dnc", route(ctx, Role::viewer, list_dnc), {false, "The do-not-call list"});
    router.add("POST", "/api/v1/dnc", route(ctx, Role::member, add_dnc),
               {false, "Add a number to the do-not-call list (phone, reason)"});
    router.add("DELETE", "/api/v1/dnc/{phone}", route(ctx, Role::admin, remove_dnc),
               {false, "Remove a number from the do-not-call list"});
}

}  // namespace va::api
