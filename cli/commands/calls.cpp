// calls list|show: call history and transcripts (live commands are in live.cpp).
#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

void register_calls(CLI::App& app, Context& ctx) {
    auto* calls = app.add_subcommand("calls", "List calls and read their transcripts");
    calls->require_subcommand(1);

    struct Filters {
        std::string agent, status, direction, since, until, campaign;
        ListOptions list;
    };
    auto f = std::make_shared<Filters>();
    auto* list = calls->add_subcommand("list", "List calls, newest first");
    list->add_option("--agent", f->agent, "agent id or name");
    list->add_option("--status", f->status, "queued, ringing, in-progress, completed, busy, no-answer, failed, canceled");
    list->add_option("--direction", f->direction, "inbound or outbound");
    list->add_option("--campaign", f->campaign, "calls of this campaign (cmp_...)");
    list->add_option("--since", f->since, "created at or after this RFC 3339 time");
    list->add_option("--until", f->until, "created before this RFC 3339 time");
    add_list_options(list, f->list);
    list->callback([&ctx, f] {
        Client& client = ctx.get();
        std::string path = "/api/v1/calls";
        if (!f->agent.empty()) path = with_query(path, "agent_id", resolve_id(client, kAgentLookup, f->agent));
        path = with_query(path, "status", f->status);
        path = with_query(path, "direction", f->direction);
        path = with_query(path, "campaign_id", f->campaign);
        path = with_query(path, "since", f->since);
        path = with_query(path, "until", f->until);
        static const std::vector<Column> columns{
            field("ID", "id"), field("STATUS", "status"), field("DIRECTION", "direction"), field("CHANNEL", "channel"),
            field("FROM", "from"), field("TO", "to"), field("CREATED", "created_at"), field("DURATION_S", "duration_s")};
        list_command(client, path, f->list, columns, "calls");
    });

    auto id = std::make_shared<std::string>();
    auto* show = calls->add_subcommand("show", "Show a call and its transcript");
    show->add_option("call", *id, "call id")->required();
    show->callback([&ctx, id] {
        Client& client = ctx.get();
        std::string path = "/api/v1/calls/" + url_encode(*id);
        json call = client.request("GET", path);
        json transcript = client.request("GET", path + "/transcript");
        json turns = transcript.value("items", json::array());
        if (client.json_output()) {
            call["transcript"] = turns;
            return print_json(call);
        }
        print_fields({field("id", "id"), field("status", "status"), field("direction", "direction"),
                      field("channel", "channel"), field("from", "from"), field("to", "to"),
                      field("agent", "agent_id"), field("created", "created_at"), field("started", "started_at"),
                      field("ended", "ended_at"), field("duration_s", "duration_s"), field("end_reason", "end_reason"),
                      field("summary", "summary")},
                     call);
        std::cout << "\n";
        if (turns.empty()) std::cout << "(no transcript)\n";
        for (const auto& turn : turns) {
            if (!turn.is_object()) continue;
            std::cout << "[" << format_offset(turn.value("started_ms", json())) << "] " << turn.value("role", "")
                      << ": " << turn.value("text", "") << (turn.value("interrupted", false) ? " (interrupted)" : "")
                      << "\n";
        }
    });
}

}  // namespace va::cli
