// Realtime load generator: N concurrent Twilio-protocol calls against a release voiceagentd whose agent runs on
// Deepgram, OpenAI and ElevenLabs, all three served by timed fakes in this process with real services' pace:
// Deepgram's final FINAL_MS after the speech ends, OpenAI's first token FIRST_TOKEN_MS after the request then
// TOKENS_PER_S tokens a second, ElevenLabs' first audio FIRST_AUDIO_MS after the request then RTF times real time
// (tones, not espeak-ng). The fakes listen first, then this program starts the daemon pointed at them.
// Each caller is greeted, speaks (400 ms), hears the answer, holds, and speaks again at the same moment as every
// other call (so each provider should see one request per call in flight), hears the answer and hangs up.
// Measured at the caller: end of its speech to the first answer audio, minus what the fakes add, is the daemon's
// added latency; also the most requests each fake had in flight, answer frames lost, the daemon's CPU and RSS.
// Usage: va_bench_realtime VOICEAGENTD_PATH [CALLS] [TTS_TRANSPORT http|websocket]
#include <boost/asio/io_context.hpp>

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>

#include "bench/common/daemon_process.hpp"
#include "bench/common/proc_stats.hpp"
#include "bench/common/twilio_calls.hpp"
#include "providers/fake/deepgram_fake.hpp"
#include "providers/fake/elevenlabs_fake.hpp"
#include "providers/fake/openai_fake.hpp"

using nlohmann::json;
using namespace va;

namespace {

constexpr int kFinalMs = 150, kFirstTokenMs = 250, kFirstAudioMs = 200, kToneMsPerChar = 60;
constexpr double kTokensPerS = 50, kRealtimeFactor = 4;
const std::string kGreeting = "Hello.";
const std::vector<std::string> kReply{"We open at nine.", "We close at six."};  // the model's reply, by sentence

// The fakes' own share of one answer's latency: the final's delay, the first token's, the rest of the first
// sentence's tokens (one word each, at the token rate), and the first audio's delay.
double fakes_delay_ms() {
    int words = 0;
    for (std::size_t i = 0; i < kReply[0].size();) {
        while (i < kReply[0].size() && kReply[0][i] == ' ') ++i;
        while (i < kReply[0].size() && kReply[0][i] != ' ') ++i;
        ++words;
    }
    return kFinalMs + kFirstTokenMs + (words - 1) * 1000.0 / kTokensPerS + kFirstAudioMs;
}

// 20 ms frames of a tone standing for `text` (the ElevenLabs fake's 60 ms per character).
std::size_t frames_for(const std::string& text) { return (text.size() * kToneMsPerChar + 19) / 20; }

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) {
        std::fprintf(stderr, "usage: %s VOICEAGENTD_PATH [CALLS] [TTS_TRANSPORT]\n", argv[0]);
        return 2;
    }
    int calls = argc > 2 ? std::atoi(argv[2]) : 10;
    std::string transport = argc > 3 ? argv[3] : "http";

    fake::DeepgramFake::Options dg;
    dg.phrase = "what are your hours";
    dg.final_delay_ms = kFinalMs;
    fake::DeepgramFake deepgram(dg);
    fake::OpenAiFake::Options oa;
    std::string reply;
    for (const auto& s : kReply) reply += (reply.empty() ? "" : " ") + s;
    oa.replies = {{reply, "", json::object()}};
    oa.first_token_ms = kFirstTokenMs;
    oa.tokens_per_s = kTokensPerS;
    fake::OpenAiFake openai(oa);
    fake::ElevenLabsFake::Options el;
    el.tones = true;
    el.tone_ms_per_char = kToneMsPerChar;
    el.first_audio_ms = kFirstAudioMs;
    el.realtime_factor = kRealtimeFactor;
    fake::ElevenLabsFake elevenlabs(el);

    bench::DaemonProcess daemon(argv[1], {{"VOICEAGENT_SERVER_WORKER_THREADS", "2"},
                                          {"VOICEAGENT_RECORDINGS_ENABLED", "true"},
                                          {"VOICEAGENT_DEEPGRAM_API_KEY", dg.api_key},
                                          {"VOICEAGENT_DEEPGRAM_BASE_URL", deepgram.base_url()},
                                          {"VOICEAGENT_OPENAI_API_KEY", oa.api_key},
                                          {"VOICEAGENT_OPENAI_BASE_URL", openai.base_url()},
                                          {"VOICEAGENT_ELEVENLABS_API_KEY", el.api_key},
                                          {"VOICEAGENT_ELEVENLABS_BASE_URL", elevenlabs.base_url()},
                                          {"VOICEAGENT_ELEVENLABS_WS_URL", elevenlabs.ws_url()},
                                          {"VOICEAGENT_ELEVENLABS_TRANSPORT", transport}});
    int pid = daemon.pid();
    std::string host = daemon.base_url().substr(daemon.base_url().find("://") + 3);
    httplib::Client api(host.substr(0, host.rfind(':')), std::stoi(host.substr(host.rfind(':') + 1)));
    api.set_read_timeout(60, 0);
    httplib::Headers auth{{"Authorization", "Bearer " + daemon.admin_key()}};
    json agent{{"name", "bench-realtime"},
               {"first_message", kGreeting},
               {"system_prompt", "You tell callers the opening hours."},
               {"stt", {{"provider", "deepgram"}, {"model", "nova-2"}, {"endpointing_ms", 300}}},
               {"llm", {{"provider", "openai"}, {"model", "gpt-4o-mini"}}},
               {"tts", {{"provider", "elevenlabs"}, {"voice", "voice-1"}}},
               {"silence", {{"timeout_ms", 60000}}}};
    auto created = api.Post("/api/v1/agents", auth, agent.dump(), "application/json");
    if (!created || created->status != 201) {
        std::fprintf(stderr, "cannot create the agent: %s\n", created ? created->body.c_str() : "no answer");
        return 1;
    }
    std::vector<bench::SimulatedCall> pending;
    try {
        pending = bench::simulate_twilio_calls(api, auth, "bench-realtime", calls);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    // Calls arrive over `ramp_ms` (10 ms apart, at most 5 s in all). Each speaks first `first_ms` after its stream
    // starts (its greeting is over by then), and a second time at the same moment as every other call
    // (`together_ms` after the first call arrived), once all are up.
    const int ramp_ms = std::min(5000, 10 * calls);
    const int first_ms = 2500, together_ms = ramp_ms + 6000;
    double rss_before = bench::rss_bytes(pid);
    double anon_before = bench::rss_anon_bytes(pid);
    double cpu_before = bench::cpu_seconds(pid);
    auto started = std::chrono::steady_clock::now();
    boost::asio::io_context io;
    std::vector<fake::CallerResult> results(pending.size());
    std::vector<std::unique_ptr<boost::asio::steady_timer>> timers;
    auto voice = bench::caller_voice(400);
    for (std::size_t i = 0; i < pending.size(); ++i) {
        int arrival = int(std::int64_t(ramp_ms) * std::int64_t(i) / std::int64_t(pending.size()));
        fake::CallerScript script;
        // after_ms counts from the stream's start for the first turn, from the end of the previous turn after.
        script.turns.push_back({voice, "", -1, first_ms});
        script.turns.push_back({voice, "", -1, together_ms - arrival - first_ms - 400});
        script.answer_silence_ms = 600;
        script.hang_up_after_ms = 3000;  // patient: a pause mid-answer is not taken for its end
        script.max_call_ms = together_ms + 30000;
        bench::start_twilio_caller(io, timers, pending[i], i, arrival, script, results[i]);
    }
    bench::DaemonSampler sampler(pid, started, ramp_ms + 1000, together_ms + 4000);
    io.run();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    double cpu = bench::cpu_seconds(pid) - cpu_before;
    sampler.stop();

    // Per turn: the caller's speech ends 20 ms after its last frame went out (turn_end_ms is that frame's send
    // time); the answer's first audio is the first bot media after that.
    double fakes_ms = fakes_delay_ms();
    std::vector<double> added[2], all;
    int failed = 0, violations = 0, unanswered = 0;
    std::size_t expected = frames_for(kGreeting), heard = 0;
    for (const auto& s : kReply) expected += 2 * frames_for(s);
    long lost = 0;
    for (const auto& r : results) {
        if (!r.error.empty() || r.ended_by != "caller") ++failed;
        violations += int(r.violations.size());
        heard += r.bot_media_us.size();
        lost += std::max<long>(0, long(expected) - long(r.bot_media_us.size()));
        for (std::size_t t = 0; t < r.turn_end_ms.size() && t < 2; ++t) {
            std::int64_t end_us = (r.turn_end_ms[t] + 20) * 1000;
            auto first = std::upper_bound(r.bot_media_us.begin(), r.bot_media_us.end(), end_us);
            if (first == r.bot_media_us.end()) {
                ++unanswered;
                continue;
            }
            double ms = double(*first - end_us) / 1000.0 - fakes_ms;
            added[t].push_back(ms);
            all.push_back(ms);
        }
    }
    auto pct = [](const std::vector<double>& v, double p) { return bench::percentile(v, p); };
    std::printf("voiceagentd realtime benchmark: %d concurrent Twilio-protocol calls on deepgram -> openai -> elevenlabs "
                "(%s) fakes, %d completed, %d failed, %d protocol violations, %.1f s\n",
                calls, transport.c_str(), calls - failed, failed, violations, elapsed);
    std::printf("fakes' own delays: deepgram final %d ms after speech, openai first token %d ms then %.0f tokens/s, "
                "elevenlabs first audio %d ms then %.0fx real time: %.0f ms per answer (the first sentence is %s)\n",
                kFinalMs, kFirstTokenMs, kTokensPerS, kFirstAudioMs, kRealtimeFactor, fakes_ms, kReply[0].c_str());
    std::printf("daemon-added latency (end of caller speech to first answer audio at the caller, minus %.0f ms): "
                "p50 %.1f ms, p99 %.1f ms (%zu answers; %d turns never answered)\n",
                fakes_ms, pct(all, 0.5), pct(all, 0.99), all.size(), unanswered);
    std::printf("  first turn (calls arriving over %.1f s): p50 %.1f ms, p99 %.1f ms (%zu); second turn (all %d calls "
                "at once): p50 %.1f ms, p99 %.1f ms (%zu)\n",
                ramp_ms / 1000.0, pct(added[0], 0.5), pct(added[0], 0.99), added[0].size(), calls, pct(added[1], 0.5),
                pct(added[1], 0.99), added[1].size());
    std::printf("most requests in flight at once: deepgram %d streams, openai %d chat streams, elevenlabs %d "
                "syntheses (the calls need %d each when all speak at once)\n",
                deepgram.max_open_streams(), openai.max_in_flight(), elevenlabs.max_in_flight(), calls);
    std::printf("frames lost: %ld of %zu answer frames the callers should have heard (%zu per call: greeting and two "
                "answers); heard %zu; elevenlabs sent %zu frames' worth of audio\n",
                lost, expected * results.size(), expected, heard, elevenlabs.audio_bytes_sent() / 160);
    std::printf("daemon CPU from all calls up to after the second answers: %.2f s over %.1f s = %.1f%% of a core, "
                "%.3f%% of a core per call (whole run: %.2f s over %.1f s)\n",
                sampler.cpu(), sampler.seconds(), 100 * sampler.cpu() / std::max(0.001, sampler.seconds()),
                100 * sampler.cpu() / std::max(0.001, sampler.seconds()) / calls, cpu, elapsed);
    std::printf("daemon RSS: %.1f MiB before, %.1f MiB peak = %.1f KiB per call\n", rss_before / 1048576,
                sampler.rss_peak() / 1048576, (sampler.rss_peak() - rss_before) / 1024 / calls);
    std::printf("  of which anonymous (heap, stacks; the rest is code pages of the binary and its libraries the first "
                "calls fault in): %.1f MiB before, %.1f MiB peak = %.1f KiB per call\n",
                anon_before / 1048576, sampler.rss_anon_peak() / 1048576,
                (sampler.rss_anon_peak() - anon_before) / 1024 / calls);
    return failed ? 1 : 0;
}
