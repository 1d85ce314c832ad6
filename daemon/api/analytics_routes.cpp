// GET /api/v1/analytics/summary: per agent and day, from the aggregates the post-call job keeps (never a scan of
// the calls).
#include "core/util/time.hpp"
#include "core/util/json.hpp"
#include "daemon/api/api.hpp"
#include "daemon/calls/call_stats.hpp"

namespace va::api {

using nlohmann::json;

namespace {

Result<std::string> day_query(const http::Request& request, const char* name, std::string fallback) {
    auto it = request.query.find(name);
    if (it == request.query.end() || it->second.empty()) return fallback;
    // YYYY-MM-DD by hand: no regex engine on request input.
    const std::string& s = it->second;
    bool shaped = s.size() == 10 && s[4] == '-' && s[7] == '-';
    for (std::size_t i = 0; shaped && i < s.size(); ++i) shaped = i == 4 || i == 7 || (s[i] >= '0' && s[i] <= '9');
    if (!shaped) return invalid_field(name, "must be a day, YYYY-MM-DD (UTC)");
    return it->second;
}

Result<http::Response> summary(ApiContext& ctx, http::Request& request, const Principal& who) {
    auto now = now_ms();
    auto until = day_query(request, "until", format_rfc3339(now).substr(0, 10));
    if (!until) return until.take_error();
    auto since = day_query(request, "since", format_rfc3339(now - 29LL * 86400000).substr(0, 10));
    if (!since) return since.take_error();
    std::string agent_id;
    if (auto it = request.query.find("agent_id"); it != request.query.end()) agent_id = it->second;
    auto days = ctx.store.list_analytics(who.workspace_id, agent_id, *since, *until);
    if (!days) return days.take_error();
    json items = json::array();
    for (const auto& d : *days) {
        json row = summarize_stats(parse_json(d.stats));
        row["agent_id"] = d.agent_id;
        row["day"] = d.day;
        items.push_back(std::move(row));
    }
    return json_response(200, json{{"since", *since}, {"until", *until}, {"items", items}});
}

}  // namespace

void register_analytics_routes(http::Router& router, ApiContext& ctx) {
    router.add("GET", "/api/v1/analytics/summary", route(ctx, Role::viewer, summary),
               {false, "Per agent and day (UTC): calls, answer rate, durations, voice-to-voice latency, outcomes, "
                       "interruptions (agent_id, since, until: YYYY-MM-DD; the last 30 days by default)"});
}

}  // namespace va::api
