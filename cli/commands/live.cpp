#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <deque>
#include <mutex>
#include <cstring>
#include <iostream>
#include <thread>

#include "cli/commands/commands.hpp"
#include "cli/output.hpp"
#include "cli/sound_device.hpp"
#include "cli/ws_client.hpp"
#include "core/audio/echo_canceller.hpp"
#include "core/audio/resampler.hpp"
#include "core/audio/wav.hpp"
#include "core/util/json.hpp"

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
        json message = parse_json(*text);
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

// A voice call from WAV files (machines with no sound card): waits for the greeting, streams the input in real
// time followed by a second of silence so the agent hears the end of the turn, records everything the agent says
// until it has answered, then hangs up.
int run_talk_files(Client& client, const std::string& agent, const json& variables, const std::string& input,
                   const std::string& output, const std::vector<std::string>& caller_lines) {
    auto wav = read_wav(input);
    if (!wav) throw CliError(kError, wav.error().message);
    std::vector<std::int16_t> caller(16000 / 2, 0);  // a breath before speaking, as a person would
    Resampler resampler(wav->sample_rate, 16000);
    resampler.process(to_mono(*wav), caller);
    resampler.flush(caller);
    caller.resize(caller.size() + 16000 * 3 / 2, 0);  // trailing silence ends the caller's turn

    json body{{"agent_id", agent}, {"channel", "local"}, {"variables", variables}};
    if (!caller_lines.empty()) body["caller_lines"] = caller_lines;
    json created = client.request("POST", "/api/v1/calls/local", body);
    WsClient ws(client.server() + created["media_url"].get<std::string>(), client.token());
    std::vector<std::int16_t> heard;
    json transcript = json::array();
    std::string end_reason;
    // Reads until the agent waits for the caller ("listening") after having spoken, or the call ends; records
    // audio and turns.
    auto read_turn = [&]() {
        bool spoke = false;
        while (auto m = ws.read_message()) {
            if (m->binary) {
                auto n = m->data.size() / 2;
                auto old = heard.size();
                heard.resize(old + n);
                std::memcpy(heard.data() + old, m->data.data(), n * 2);
                continue;
            }
            json msg = parse_json(m->data);
            std::string type = msg.is_object() ? msg.value("type", "") : "";
            if (client.json_output()) std::cout << msg.dump() << std::endl;
            spoke |= type == "agent";
            if (type == "user" || type == "agent") {
                transcript.push_back({{"role", type}, {"text", msg.value("text", "")}});
                if (!client.json_output()) std::cout << type << ": " << msg.value("text", "") << std::endl;
            }
            if (type == "error" && !client.json_output()) std::cerr << "error: " << msg.value("message", "") << "\n";
            if (type == "end") {
                end_reason = msg.value("reason", "");
                return false;
            }
            if (type == "listening" && spoke) return true;
        }
        return false;
    };
    bool live = read_turn();  // the greeting
    if (live) {
        auto next = std::chrono::steady_clock::now();
        for (std::size_t i = 0; i < caller.size(); i += 320) {
            std::size_t n = std::min<std::size_t>(320, caller.size() - i);
            ws.send_binary(std::string(reinterpret_cast<const char*>(caller.data() + i), n * 2));
            next += std::chrono::milliseconds(20);
            std::this_thread::sleep_until(next);
        }
        live = read_turn();  // the answer
    }
    if (live) {
        ws.send_text(json{{"type", "hangup"}}.dump());
        read_turn();
    }
    if (!output.empty()) {
        WavData out{16000, 1, heard};
        if (auto s = write_wav(output, out); !s) throw CliError(kError, s.error().message);
    }
    if (!client.json_output())
        std::cerr << "(call " << created["call"]["id"].get<std::string>() << " ended: " << end_reason << "; "
                  << double(heard.size()) / 16000 << " s of agent audio" << (output.empty() ? "" : " in " + output) << ")\n";
    return kOk;
}

std::atomic<bool> g_interrupted{false};
extern "C" void on_interrupt(int) { g_interrupted = true; }

// A voice call through the microphone and speaker. One loop paced by the sound device: each 20 ms it plays the
// next frame of agent audio (or silence), captures a frame, removes the echo of what it just played, and sends the
// rest to the daemon. Messages arrive on the WebSocket's own thread: audio is queued for the speaker, "clear"
// empties the queue (barge-in), transcripts are printed. Ctrl-C asks the daemon to hang up and waits for its end.
int run_talk_live(Client& client, const std::string& agent, const json& variables, const std::string& output,
                  const std::vector<std::string>& caller_lines) {
    constexpr int kRate = 16000;
    constexpr std::size_t kFrame = kRate / 50;
    SoundDevice device(kRate, kFrame);
    EchoCanceller aec(kRate);

    json body{{"agent_id", agent}, {"channel", "local"}, {"variables", variables}};
    if (!caller_lines.empty()) body["caller_lines"] = caller_lines;
    json created = client.request("POST", "/api/v1/calls/local", body);
    std::string call_id = created["call"]["id"];
    WsClient ws(client.server() + created["media_url"].get<std::string>(), client.token());

    std::mutex mutex;
    std::deque<std::int16_t> playback;  // agent audio not yet played
    std::atomic<bool> ended{false};
    std::string end_reason;
    bool json_out = client.json_output();
    bool interim_shown = false;  // an interim line is on screen (overwritten with \r)
    ws.start_duplex(
        [&](WsClient::Message m) {
            if (m.binary) {
                std::lock_guard lock(mutex);
                auto* p = reinterpret_cast<const std::int16_t*>(m.data.data());
                playback.insert(playback.end(), p, p + m.data.size() / 2);
                return;
            }
            json msg = parse_json(m.data);
            std::string type = msg.is_object() ? msg.value("type", "") : "";
            if (json_out) {
                std::cout << msg.dump() << std::endl;
            } else if (type == "interim") {
                std::cout << "\r\033[Kuser (hearing): " << msg.value("text", "") << std::flush;
                interim_shown = true;
            } else if (type == "user" || type == "agent") {
                if (interim_shown) std::cout << "\r\033[K";
                interim_shown = false;
                std::cout << type << ": " << msg.value("text", "") << std::endl;
            } else if (type == "error") {
                std::cerr << "error: " << msg.value("message", "") << std::endl;
            }
            if (type == "clear") {
                std::lock_guard lock(mutex);
                playback.clear();
            }
            if (type == "end") {
                std::lock_guard lock(mutex);
                end_reason = msg.value("reason", "");
            }
        },
        [&](std::string reason) {
            {
                std::lock_guard lock(mutex);
                if (end_reason.empty()) end_reason = reason.empty() ? "connection closed" : reason;
            }
            ended = true;
        });

    struct sigaction action {}, previous{};
    action.sa_handler = on_interrupt;
    sigemptyset(&action.sa_mask);
    sigaction(SIGINT, &action, &previous);
    g_interrupted = false;
    if (!json_out) std::cerr << "voice call " << call_id << " on " << device.description() << " (Ctrl-C hangs up)\n";

    std::vector<std::int16_t> played(kFrame), captured(kFrame), cleaned(kFrame), recorded;
    bool hangup_sent = false;
    auto start = std::chrono::steady_clock::now();
    std::chrono::steady_clock::time_point hangup_deadline{};
    for (std::int64_t frame = 0; !ended; ++frame) {
        if (g_interrupted && !hangup_sent) {
            ws.post_text(json{{"type", "hangup"}}.dump());
            hangup_sent = true;
            hangup_deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
        }
        if (hangup_sent && std::chrono::steady_clock::now() > hangup_deadline) break;  // the daemon is gone
        {
            std::lock_guard lock(mutex);
            std::size_t n = std::min(kFrame, playback.size());
            std::copy_n(playback.begin(), n, played.begin());
            std::fill(played.begin() + std::ptrdiff_t(n), played.end(), std::int16_t{0});
            playback.erase(playback.begin(), playback.begin() + std::ptrdiff_t(n));
        }
        if (!output.empty()) recorded.insert(recorded.end(), played.begin(), played.end());
        device.write(played);
        device.read(captured);
        aec.process(captured, played, cleaned);
        ws.post_binary(std::string(reinterpret_cast<const char*>(cleaned.data()), kFrame * 2));
        // Real devices pace this loop; a virtual one (ALSA's null or file plugins) may not, and flooding the daemon
        // with faster-than-real-time audio would break turn taking. The slack leaves a real device's clock alone.
        std::this_thread::sleep_until(start + std::chrono::milliseconds(20 * frame) - std::chrono::milliseconds(100));
    }
    sigaction(SIGINT, &previous, nullptr);
    ws.close();
    if (!output.empty()) {
        WavData out{kRate, 1, recorded};
        if (auto s = write_wav(output, out); !s) throw CliError(kError, s.error().message);
    }
    std::lock_guard lock(mutex);
    if (!json_out) std::cerr << "(call " << call_id << " ended: " << end_reason << ")\n";
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

    struct TalkArgs {
        std::string agent, input, output;
        std::vector<std::string> vars, lines;
    };
    auto t = std::make_shared<TalkArgs>();
    auto* talk = app.add_subcommand("talk", "Talk with an agent by voice (microphone and speaker, or WAV files)");
    talk->add_option("agent", t->agent, "agent id or name")->required();
    talk->add_option("--input", t->input, "WAV file to speak as the caller (any rate; resampled to 16 kHz)");
    talk->add_option("--output", t->output, "WAV file to record what the agent said into (16 kHz mono)");
    talk->add_option("--var", t->vars, "NAME=VALUE for the agent's {{placeholders}} (repeatable)");
    talk->add_option("--caller-line", t->lines, "what the caller says, for simulated recognition (repeatable)");
    talk->callback([&ctx, t] {
        Client& client = ctx.get();
        if (t->input.empty()) run_talk_live(client, t->agent, parse_variables(t->vars), t->output, t->lines);
        else run_talk_files(client, t->agent, parse_variables(t->vars), t->input, t->output, t->lines);
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
            json e = parse_json(*text);
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

    struct TransferArgs {
        std::string call;
        std::string number;
    };
    auto tr = std::make_shared<TransferArgs>();
    auto* transfer = calls->add_subcommand("transfer", "Hand a live carrier call to a person at a number");
    transfer->add_option("call", tr->call, "call id")->required();
    transfer->add_option("number", tr->number, "E.164 number, such as +15551234567")->required();
    transfer->callback([&ctx, tr] {
        Client& client = ctx.get();
        json r = client.request("POST", "/api/v1/calls/" + url_encode(tr->call) + "/transfer", json{{"to", tr->number}});
        if (client.json_output()) return print_json(r);
        std::cout << "call " << tr->call << " transferring to " << tr->number << "\n";
    });
}

}  // namespace va::cli
