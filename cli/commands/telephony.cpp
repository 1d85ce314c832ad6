// calls start (dial out through a carrier) and calls simulate (a carrier call with no phone: vactl plays the
// caller over the carrier's own media protocol, through the fake in providers/fake, so an agent can be heard
// through the real carrier code path).
#include <unistd.h>

#include <boost/asio/io_context.hpp>

#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <mutex>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"
#include "cli/output.hpp"
#include "cli/ws_client.hpp"
#include "core/audio/vad.hpp"
#include "core/audio/wav.hpp"
#include "core/util/ids.hpp"
#include "core/util/json.hpp"
#include "providers/fake/media_caller.hpp"
#include "providers/fake/speech.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

bool is_wav(const std::string& say) {
    return say.size() > 4 && say.compare(say.size() - 4, 4, ".wav") == 0 && std::filesystem::exists(say);
}

struct SimulateArgs {
    std::string carrier, agent, output;
    std::vector<std::string> says, vars;
};

int run_simulate(Client& client, const SimulateArgs& a) {
    if (a.carrier != "twilio" && a.carrier != "exotel") throw CliError(kUsage, "--carrier must be twilio or exotel");
    if (a.says.empty()) throw CliError(kUsage, "give at least one --say (a WAV file or text), one per caller turn");
    json variables = json::object();
    for (const auto& v : a.vars) {
        auto eq = v.find('=');
        if (eq == std::string::npos || eq == 0) throw CliError(kUsage, "--var must be NAME=VALUE, got " + v);
        variables[v.substr(0, eq)] = v.substr(eq + 1);
    }
    json lines = json::array();
    for (const auto& s : a.says) lines.push_back(is_wav(s) ? std::filesystem::path(s).stem().string() : s);
    json created = client.request("POST", "/api/v1/calls/simulate",
                                  json{{"carrier", a.carrier}, {"agent_id", a.agent}, {"caller_lines", lines},
                                       {"variables", variables}});
    std::string call_id = created["call"]["id"];
    int rate = created.value("sample_rate", 8000);
    std::string recognition = created.value("recognition", "");
    bool json_out = client.json_output();
    if (!json_out) {
        std::cerr << "simulated " << (a.carrier == "twilio" ? "Twilio" : "Exotel") << " call " << call_id << " to "
                  << a.agent << " at " << rate / 1000 << " kHz; recognition: " << recognition << "\n";
        if (recognition == "simulated")
            std::cerr << "(offline recognition cannot hear " << rate / 1000
                      << " kHz telephone audio, so your --say lines are recognized as text: simulated recognition)\n";
    }

    fake::CallerScript script;
    for (const auto& s : a.says) {
        auto audio = fake::caller_speech(s, rate);
        if (!audio) throw CliError(kError, audio.error().message);
        script.turns.push_back({std::move(audio).value(), "", -1});
    }

    // Live transcript from the event stream, while the fake plays the caller.
    std::mutex mutex;
    std::string end_reason;
    WsClient events(client.server() + "/api/v1/events?call_id=" + url_encode(call_id), client.token());
    events.start_duplex(
        [&](WsClient::Message m) {
            json e = parse_json(m.data);
            if (!e.is_object()) return;
            std::string type = e.value("type", "");
            const json& d = e.contains("data") ? e["data"] : json::object();
            std::lock_guard lock(mutex);
            if (json_out) {
                if (type != "subscribed") std::cout << e.dump() << std::endl;
            } else if (type == "call:transcript" && d.value("final", true) && !d.value("backchannel", false)) {
                std::cout << d.value("role", "") << ": " << d.value("text", "")
                          << (d.value("interrupted", false) ? " (interrupted)" : "") << std::endl;
            } else if (type == "call:error") {
                std::cerr << "error: " << d.value("message", "") << std::endl;
            }
            if (type == "call:ended") end_reason = d.value("reason", "");
        },
        [](std::string) {});

    boost::asio::io_context io;
    fake::CallerResult result;
    std::vector<std::pair<std::string, std::string>> headers;
    json header_values = created.value("headers", json::object());
    for (const auto& [k, v] : header_values.items()) headers.emplace_back(k, v.get<std::string>());
    std::string stream_sid = new_id("MZ");
    std::unique_ptr<fake::Dialect> dialect;
    if (a.carrier == "twilio")
        dialect = fake::twilio_dialect(stream_sid, "CA" + call_id, "ACsimulated", json{{"call_id", call_id}});
    else
        dialect = fake::exotel_dialect(rate, 100, stream_sid, "sim-" + call_id, "simulated", "+10000000000",
                                       "simulated", json{{"call_id", call_id}});
    fake::MediaCaller::start(io, created["stream_url"], headers, std::move(dialect), script,
                             [&](const fake::CallerResult& r) { result = r; });
    io.run();

    // The call's end event follows the stream's close.
    for (int i = 0; i < 100; ++i) {
        {
            std::lock_guard lock(mutex);
            if (!end_reason.empty()) break;
        }
        usleep(20000);
    }
    events.close();
    if (!a.output.empty()) {
        WavData out{rate, 1, result.heard};
        if (auto s = write_wav(a.output, out); !s) throw CliError(kError, s.error().message);
    }
    double spoken = 0;
    for (const auto& span : result.spans) spoken += double(span.end_ms - span.start_ms) / 1000.0;
    std::lock_guard lock(mutex);
    if (!json_out) {
        std::cerr << "(call " << call_id << " ended: " << (end_reason.empty() ? result.ended_by : end_reason) << "; heard "
                  << spoken << " s of agent speech in " << result.spans.size() << " stretches"
                  << (result.clears ? ", " + std::to_string(result.clears) + " barge-in clears" : "")
                  << (a.output.empty() ? "" : "; recorded in " + a.output) << ")\n";
        for (const auto& v : result.violations) std::cerr << "protocol violation: " << v << "\n";
        if (!result.error.empty()) std::cerr << "error: " << result.error << "\n";
    }
    if (!result.error.empty()) throw CliError(kError, "the simulated call failed: " + result.error);
    return result.violations.empty() ? kOk : kError;
}

}  // namespace

void register_telephony(CLI::App& app, Context& ctx) {
    auto* calls = app.get_subcommand("calls");

    struct StartArgs {
        std::string agent, to, from;
    };
    auto s = std::make_shared<StartArgs>();
    auto* start = calls->add_subcommand("start", "Dial a number: the agent calls it through the carrier of --from");
    start->add_option("--agent", s->agent, "agent id or name")->required();
    start->add_option("--to", s->to, "the number to call (E.164, +15551234567)")->required();
    start->add_option("--from", s->from, "one of your numbers (vactl numbers list); default: the agent's number");
    start->callback([&ctx, s] {
        Client& client = ctx.get();
        std::string from = s->from;
        if (from.empty()) {
            // The agent's own number, when it has exactly one.
            std::string agent_id = resolve_id(client, kAgentLookup, s->agent);
            json phones = client.request("GET", "/api/v1/phones?limit=500").value("items", json::array());
            std::vector<std::string> owned;
            for (const auto& p : phones)
                if (p.value("agent_id", json()).is_string() && p["agent_id"] == agent_id) owned.push_back(p["number"]);
            if (owned.size() != 1)
                throw CliError(kUsage, owned.empty() ? "the agent has no number: give --from" : "the agent has several numbers: give --from");
            from = owned.front();
        }
        json r = client.request("POST", "/api/v1/calls/outbound", json{{"agent_id", s->agent}, {"to", s->to}, {"from", from}});
        if (client.json_output()) return print_json(r);
        std::cout << "call " << r["call"]["id"].get<std::string>() << " " << r["call"]["status"].get<std::string>()
                  << " (" << from << " -> " << s->to << ")\n";
    });

    auto a = std::make_shared<SimulateArgs>();
    auto* simulate = calls->add_subcommand(
        "simulate", "A carrier call with no phone: vactl plays the caller over the carrier's media protocol");
    simulate->add_option("--carrier", a->carrier, "twilio or exotel")->required();
    simulate->add_option("--agent", a->agent, "agent id or name")->required();
    simulate->add_option("--say", a->says, "what the caller says next: a WAV file or text (repeatable, one per turn)")
        ->required();
    simulate->add_option("--output", a->output, "WAV file to record what the caller heard into");
    simulate->add_option("--var", a->vars, "NAME=VALUE for the agent's {{placeholders}} (repeatable)");
    simulate->callback([&ctx, a] {
        int code = run_simulate(ctx.get(), *a);
        if (code != kOk) throw CliError(code, "the carrier protocol was broken (see above)");
    });
}

}  // namespace va::cli
