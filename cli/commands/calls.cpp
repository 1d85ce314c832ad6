#include <cstdio>
#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/output.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

std::string offset(const json& ms) {
    if (!ms.is_number()) return "--:--.-";
    auto v = ms.get<std::int64_t>();
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld.%lld", static_cast<long long>(v / 60000),
                  static_cast<long long>(v / 1000 % 60), static_cast<long long>(v / 100 % 10));
    return buf;
}

}  // namespace

void register_calls(CLI::App& app, Context& ctx) {
    auto* calls = app.add_subcommand("calls", "List calls and read their transcripts");
    calls->require_subcommand(1);

    struct Filters {
        std::string agent, status, since, until, direction;
        ListOptions list;
    };
    auto f = std::make_shared<Filters>();
    auto* list = calls->add_subcommand("list", "List calls, newest first");
    list->add_option("--agent", f->agent, "agent id or name");
    list->add_option("--status", f->status, "queued, ringing, in-progress, completed, busy, no-answer, failed, canceled");
    list->add_option("--direction", f->direction, "inbound or outbound");
    list->add_option("--since", f->since, "RFC 3339 time, inclusive");
    list->add_option("--until", f->until, "RFC 3339 time, exclusive");
    list->add_option("--limit", f->list.limit, "page size (1-500)");
    list->add_flag("--all", f->list.all, "fetch every page");
    list->callback([&ctx, f] {
        Client& client = ctx.get();
        std::string query;
        auto add = [&](const char* key, const std::string& value) {
            if (!value.empty()) query += (query.empty() ? "?" : "&") + std::string(key) + "=" + url_encode(value);
        };
        add("agent_id", f->agent.empty() ? "" : resolve_agent(client, f->agent)["id"].get<std::string>());
        add("status", f->status);
        add("direction", f->direction);
        add("since", f->since);
        add("until", f->until);
        static const std::vector<Column> columns{field("ID", "id"),         field("STATUS", "status"),
                                                 field("DIRECTION", "direction"), field("FROM", "from"),
                                                 field("TO", "to"),         field("CREATED", "created_at"),
                                                 field("DURATION_S", "duration_s")};
        list_command(client, "/api/v1/calls" + query, f->list, columns, "calls");
    });

    auto id = std::make_shared<std::string>();
    auto* show = calls->add_subcommand("show", "Show a call and its transcript");
    show->add_option("call", *id, "call id")->required();
    show->callback([&ctx, id] {
        Client& client = ctx.get();
        json call = client.request("GET", "/api/v1/calls/" + url_encode(*id));
        json transcript = client.request("GET", "/api/v1/calls/" + url_encode(*id) + "/transcript");
        if (client.json_output()) {
            call["transcript"] = transcript["items"];
            return print_json(call);
        }
        static const std::vector<Column> columns{
            field("id", "id"),           field("status", "status"),         field("direction", "direction"),
            field("channel", "channel"), field("from", "from"),             field("to", "to"),
            field("agent", "agent_id"),  field("started", "started_at"),    field("ended", "ended_at"),
            field("duration_s", "duration_s"), field("end_reason", "end_reason")};
        show_object(client, call, columns);
        std::cout << "\ntranscript:\n";
        if (transcript["items"].empty()) std::cout << "  (no turns)\n";
        for (const auto& turn : transcript["items"]) {
            std::cout << "  [" << offset(turn["started_ms"]) << "] " << turn.value("role", "") << ": "
                      << turn.value("text", "") << (turn.value("interrupted", false) ? " (interrupted)" : "") << "\n";
        }
    });
}

}  // namespace va::cli
