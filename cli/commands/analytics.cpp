// analytics: per agent and day, the figures the daemon keeps as calls are analysed.
#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

void register_analytics(CLI::App& app, Context& ctx) {
    struct Args {
        std::string agent, since, until;
    };
    auto args = std::make_shared<Args>();
    auto* analytics = app.add_subcommand("analytics", "Calls per agent and day: answer rate, durations, latency, outcomes");
    analytics->add_option("--agent", args->agent, "agent id or name (default: every agent)");
    analytics->add_option("--since", args->since, "first day, YYYY-MM-DD UTC (default: 30 days ago)");
    analytics->add_option("--until", args->until, "last day, YYYY-MM-DD UTC (default: today)");
    analytics->callback([&ctx, args] {
        Client& client = ctx.get();
        std::string query;
        auto add = [&query](const std::string& name, const std::string& value) {
            if (!value.empty()) query += (query.empty() ? "?" : "&") + name + "=" + url_encode(value);
        };
        add("agent_id", args->agent.empty() ? "" : resolve_id(client, kAgentLookup, args->agent));
        add("since", args->since);
        add("until", args->until);
        json summary = client.request("GET", "/api/v1/analytics/summary" + query);
        if (client.json_output()) return print_json(summary);
        static const std::vector<Column> columns{
            field("DAY", "day"),           field("AGENT", "agent_id"),     field("CALLS", "calls"),
            field("ANSWERED", "answered"), field("ANSWER_RATE", "answer_rate"), field("AVG_S", "duration_avg_s"),
            field("P95_S", "duration_p95_s"), field("V2V_P50_MS", "v2v_p50_ms"), field("V2V_P95_MS", "v2v_p95_ms"),
            field("OUTCOMES", "outcomes"), field("INTERRUPTIONS", "interruptions_per_call")};
        print_table(columns, summary["items"]);
    });
}

}  // namespace va::cli
