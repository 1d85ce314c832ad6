// Telephony load generator: N concurrent calls (arriving over 5 s, then all up at once) over the Twilio media protocol (mu-law 8 kHz JSON frames every
// 20 ms) against a running voiceagentd, the carrier fake playing every caller from one thread of this process.
// The agent uses zero-cost providers (scripted recognition, scripted LLM, tone TTS), so the figures are the
// daemon's own: its CPU and RSS per call, the pacing jitter of the frames it sends (as the fake receives them),
// its added voice-to-voice latency (the daemon's own per-turn metric: end-of-speech decision to first answer
// frame), and frames lost (answer frames missing against the call that got the most).
// Usage: va_bench_telephony BASE_URL API_KEY DAEMON_PID [CALLS]
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>
#include <thread>

#include "bench/common/proc_stats.hpp"
#include "bench/common/twilio_calls.hpp"
#include "providers/fake/media_caller.hpp"

using nlohmann::json;
using va::bench::cpu_seconds;
using va::bench::percentile;
using va::bench::rss_bytes;

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s BASE_URL API_KEY DAEMON_PID [CALLS]\n", argv[0]);
        return 2;
    }
    std::string base = argv[1], key = argv[2];
    int pid = std::atoi(argv[3]);
    int calls = argc > 4 ? std::atoi(argv[4]) : 500;
    std::string host = base.substr(base.find("://") + 3);
    httplib::Client api(host.substr(0, host.rfind(':')), std::stoi(host.substr(host.rfind(':') + 1)));
    httplib::Headers auth{{"Authorization", "Bearer " + key}};
    json agent{{"name", "bench-twilio"},
               {"first_message", "Hello."},
               {"stt", {{"provider", "scripted"}, {"script", {"what are your hours", "what are your hours"}}, {"endpointing_ms", 300}}},
               {"llm", {{"provider", "scripted"}}},
               {"tts", {{"provider", "tone"}}},
               {"silence", {{"timeout_ms", 60000}}},
               {"script", {{"intents", {{{"name", "hours"}, {"keywords", {"hours"}}, {"reply", "We open at nine. We close at six."}}}},
                           {"fallback", "Sorry?"}}}};
    auto created = api.Post("/api/v1/agents", auth, agent.dump(), "application/json");
    if (!created || created->status != 201) {
        std::fprintf(stderr, "cannot create the agent: %s\n", created ? created->body.c_str() : "no answer");
        return 1;
    }

    // All calls are set up first, then all start at once: every greeting and every turn lands in the same moment.
    std::vector<va::bench::SimulatedCall> pending;
    try {
        pending = va::bench::simulate_twilio_calls(api, auth, "bench-twilio", calls);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    // Calls arrive over `ramp_ms` (a daemon sees calls come in, not 500 handshakes in the same millisecond) and
    // stay up until all are connected. Each caller is quiet while greeted, says something (400 ms of a 300 Hz tone
    // at speech level), hears the answer, holds the line long enough for every other call to arrive, says
    // something again, hears the answer and hangs up.
    const int ramp_ms = 5000;
    va::fake::CallerScript script;
    auto voice = va::bench::caller_voice(400);
    script.turns.push_back({voice, "", -1, -1});
    script.turns.push_back({std::vector<std::int16_t>(std::size_t(8 * (ramp_ms + 1000)), 0), "", -1, -1});  // holding
    script.turns.push_back({voice, "", -1, 0});  // holding was silence: nothing to wait for
    script.answer_silence_ms = 600;
    script.hang_up_after_ms = 600;

    double rss_before = rss_bytes(pid);
    double cpu_before = cpu_seconds(pid);
    auto started = std::chrono::steady_clock::now();
    boost::asio::io_context io;
    std::vector<va::fake::CallerResult> results(pending.size());
    double rss_peak = 0;
    std::vector<std::unique_ptr<boost::asio::steady_timer>> arrivals;
    for (std::size_t i = 0; i < pending.size(); ++i)
        va::bench::start_twilio_caller(io, arrivals, pending[i], i,
                                       int(ramp_ms * std::int64_t(i) / std::int64_t(pending.size())), script, results[i]);
    // RSS at its peak, sampled while the calls run; CPU over a steady second stretch when all calls are up and
    // holding (their media flowing both ways), which is what a call costs once established.
    double steady_cpu = 0, steady_s = 0;
    std::thread sampler([&] {
        auto at = [&](int ms) { return started + std::chrono::milliseconds(ms); };
        std::this_thread::sleep_until(at(ramp_ms + 1500));
        double cpu0 = cpu_seconds(pid);
        auto t0 = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() < at(ramp_ms + 4500)) {
            rss_peak = std::max(rss_peak, rss_bytes(pid));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        steady_cpu = cpu_seconds(pid) - cpu0;
        steady_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (int n = 0; n < 600 && !io.stopped(); ++n) {
            rss_peak = std::max(rss_peak, rss_bytes(pid));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    });
    io.run();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    double cpu = cpu_seconds(pid) - cpu_before;
    sampler.join();

    int failed = 0, violations = 0;
    std::vector<double> jitter, v2v;
    std::map<std::size_t, int> frames_count;
    for (const auto& r : results) {
        if (!r.error.empty() || r.ended_by != "caller") ++failed;
        violations += int(r.violations.size());
        ++frames_count[r.bot_media_us.size()];
        for (std::size_t k = 1; k < r.bot_media_us.size(); ++k) {
            double gap_ms = double(r.bot_media_us[k] - r.bot_media_us[k - 1]) / 1000.0;
            if (gap_ms < 100) jitter.push_back(std::abs(gap_ms - 20.0));  // within one stretch of speech
        }
    }
    std::size_t most = 0;
    for (const auto& [count, n] : frames_count) most = std::max(most, count);
    long lost = 0;
    for (const auto& r : results) lost += long(most - r.bot_media_us.size());
    for (const auto& p : pending) {
        auto r = api.Get("/api/v1/calls/" + p.id, auth);
        if (!r || r->status != 200) continue;
        json call = json::parse(r->body);
        for (const auto& t : call["metrics"]["turns"])
            if (t.contains("voice_to_voice_ms")) v2v.push_back(t["voice_to_voice_ms"].get<double>());
    }
    // The daemon's own view of its pacing: how late each frame left against its deadline (the /metrics histogram,
    // so a percentile is the bucket bound it falls under).
    std::vector<std::pair<double, double>> buckets;  // (le, cumulative)
    double lateness_count = 0;
    if (auto m = api.Get("/metrics", auth); m && m->status == 200) {
        std::istringstream lines(m->body);
        std::string line;
        const std::string prefix = "voiceagent_pacing_lateness_seconds_bucket{channel=\"twilio\",le=\"";
        while (std::getline(lines, line)) {
            if (line.rfind(prefix, 0) != 0) continue;
            std::string le = line.substr(prefix.size(), line.find('"', prefix.size()) - prefix.size());
            double cumulative = std::stod(line.substr(line.rfind(' ') + 1));
            if (le == "+Inf") lateness_count = cumulative;
            else buckets.emplace_back(std::stod(le), cumulative);
        }
    }
    auto lateness = [&](double q) {
        for (const auto& [le, cumulative] : buckets)
            if (cumulative >= q * lateness_count) return le * 1000;
        return std::numeric_limits<double>::infinity();
    };

    std::printf("voiceagentd telephony benchmark: %d concurrent Twilio-protocol calls, %d completed, %d failed, "
                "%d protocol violations, %.1f s\n", calls, calls - failed, failed, violations, elapsed);
    std::printf("daemon CPU with all %d calls up: %.2f s over %.1f s = %.1f%% of a core, %.3f%% of a core per call "
                "(whole run, ramp and turns included: %.2f s over %.1f s)\n", calls, steady_cpu, steady_s,
                100 * steady_cpu / steady_s, 100 * steady_cpu / steady_s / calls, cpu, elapsed);
    std::printf("daemon RSS: %.1f MiB before, %.1f MiB peak = %.1f KiB per call\n", rss_before / 1048576,
                rss_peak / 1048576, (rss_peak - rss_before) / 1024 / calls);
    std::printf("outbound frame pacing jitter at the daemon (lateness against each frame's deadline): p50 <= %.1f ms, "
                "p99 <= %.1f ms (%.0f frames)\n", lateness(0.5), lateness(0.99), lateness_count);
    std::printf("outbound frame pacing jitter as the load generator received it (its own delays included): "
                "p50 %.2f ms, p99 %.2f ms (%zu intervals)\n", percentile(jitter, 0.5), percentile(jitter, 0.99), jitter.size());
    std::printf("daemon-added voice-to-voice latency: p50 %.1f ms, p99 %.1f ms (%zu turns)\n", percentile(v2v, 0.5),
                percentile(v2v, 0.99), v2v.size());
    std::printf("frames lost: %ld (each call should get %zu greeting and answer frames)\n", lost, most);
    return failed ? 1 : 0;
}
