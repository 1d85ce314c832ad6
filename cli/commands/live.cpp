#include <unistd.h>

#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/output.hpp"
#include "cli/ws_client.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

json parse_variables(const std::vector<std::string>& pairs) {
    json variables = json::object();
    for (const auto& p : pairs) {
        auto eq = p.find('=');
        if (eq == std::string::npos || eq == 0) throw CliError(kUsage, "--var must be NAME=VALUE, got " + p);
        variables[p.substr(0, eq)] = p.substr(eq + 1);
    }
    return variables;
}

// A text conversation with an agent through a chat call: the same conversation, tools and transcript as a voice
// call, with no audio.
int run_chat(Client& client, const std::string& agent, const json& variables) {
    json created = client.request("POST", "/api/v1/calls/local",
                                  json{{"agent_id", agent}, {"channel", "chat"}, {"variables", variables}});
    std::string call_id = created["call"]["id"];
    WsClient ws(client.server() + created["media_url"].get<std::string>(), client.token());
    bool interactive = !client.json_output() && isatty(STDIN_FILENO);
    if (!client.json_output()) std::cerr << "chat call " << call_id << " (Ctrl-D hangs up)\n";
    while (auto text = ws.read()) {
        json message = json::parse(*text, nullptr, false);
        if (message.is_discarded()) continue;
        std::string type = message.value("type", "");
        if (client.json_output()) {
            if (type != "agent_delta") std::cout << message.dump() << std::endl;
        } else if (type == "agent") {
            std::cout << "agent: " << message.value("text", "") << std::endl;
        } else if (type == "error") {
            std::cerr << "error: " << message.value("message", "") << std::endl;
        } else if (type == "end") {
            std::cerr << "(call ended: " << message.value("reason", "") << ")\n";
        }
        if (type == "end") break;
        if (type == "listening") {
            if (interactive) std::cout << "you: " << std::flush;
            std::string line;
            while (std::getline(std::cin, line) && line.find_first_not_of(" \t\r") == std::string::npos) {
                if (interactive) std::cout << "you: " << std::flush;
            }
            if (!std::cin) {
                ws.send_text(json{{"type", "hangup"}}.dump());
                continue;  // the server answers with end
            }
            if (!line.empty() && line.back() == '\r') line.pop_back();
            ws.send_text(json{{"type", "text"}, {"text", line}}.dump());
        }
    }
    return kOk;
}

std::string describe_event(const json& e) {
    const json& d = e.contains("data") ? e["data"] : json::object();
    std::string type = e.value("type", "");
    std::string head = format_time(e.value("at", json(nullptr))) + "  " + e.value("call_id", "") + "  " + type;
    if (type == "call:transcript")
        return head + "  " + d.value("role", "") + (d.value("final", true) ? "" : " (interim)") + ": " + d.value("text", "");
    if (type == "call:status") return head + "  " + d.value("status", "");
    if (type == "call:ended") return head + "  " + d.value("reason", "");
    return head + "  " + d.dump();
}

}  // namespace

void register_live(CLI::App& app, Context& ctx) {
    struct ChatArgs {
        std::string agent;
        std::vector<std::string> vars;
    };
    auto a = std::make_shared<ChatArgs>();
    auto* chat = app.add_subcommand("chat", "Talk with an agent in text (a chat call: no audio, same conversation)");
    chat->add_option("agent", a->agent, "agent id or name")->required();
    chat->add_option("--var", a->vars, "NAME=VALUE for the agent's {{placeholders}} (repeatable)");
    chat->callback([&ctx, a] {
        Client& client = ctx.get();
        run_chat(client, a->agent, parse_variables(a->vars));
    });

    auto* calls = app.get_subcommand("calls");
    struct WatchArgs {
        std::string call;
        int count = 0;
    };
    auto w = std::make_shared<WatchArgs>();
    auto* watch = calls->add_subcommand("watch", "Print live call events (all calls of the workspace, or one)");
    watch->add_option("call", w->call, "call id (default: every call)");
    watch->add_option("--count", w->count, "exit after this many events");
    watch->callback([&ctx, w] {
        Client& client = ctx.get();
        std::string path = "/api/v1/events" + (w->call.empty() ? "" : "?call_id=" + url_encode(w->call));
        WsClient ws(client.server() + path, client.token());
        int seen = 0;
        while (auto text = ws.read()) {
            json e = json::parse(*text, nullptr, false);
            if (e.is_discarded() || e.value("type", "") == "subscribed") continue;
            if (client.json_output()) std::cout << e.dump() << std::endl;
            else std::cout << describe_event(e) << std::endl;
            if (w->count > 0 && ++seen >= w->count) break;
        }
    });

    auto id = std::make_shared<std::string>();
    auto* hangup = calls->add_subcommand("hangup", "End a live call");
    hangup->add_option("call", *id, "call id")->required();
    hangup->callback([&ctx, id] {
        Client& client = ctx.get();
        json r = client.request("POST", "/api/v1/calls/" + url_encode(*id) + "/hangup", json::object());
        if (client.json_output()) return print_json(r);
        std::cout << "call " << *id << " hanging up\n";
    });
}

}  // namespace va::cli
