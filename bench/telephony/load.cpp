// Telephony load generator: N concurrent calls (arriving over 5 s, then all up at once) over the Twilio media
// protocol (mu-law 8 kHz JSON frames every 20 ms) against a running voiceagentd, the carrier fake playing every
// caller from one thread of this process. The agent uses zero-cost providers (scripted recognition, scripted LLM,
// tone TTS), so the figures are the daemon's own: its CPU and RSS per call, the pacing lateness of the frames it
// sends (at the daemon, from /metrics, and as the fake receives them), its added voice-to-voice latency (the
// daemon's own per-turn metric: end-of-speech decision to first answer frame), and frames lost (answer frames
// missing against the call that got the most).
// With BURST callers (the fifth argument), the N calls ramp up and are each hearing a long answer when BURST more
// callers connect in the same instant; the lateness of the calls already up during the burst window is reported
// apart from the new calls', which is what says whether start-up work stays off the threads that pace.
// Usage: va_bench_telephony BASE_URL API_KEY DAEMON_PID [CALLS] [BURST]
#include <sys/resource.h>
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

namespace {

// The daemon's pacing histogram for the twilio channel: (upper bound in seconds, cumulative count), and the count.
struct Lateness {
    std::vector<std::pair<double, double>> buckets;
    double count = 0;
    // The bucket bound (ms) the q-th frame falls under; `since` subtracts an earlier reading (a window's frames).
    double at(double q, const Lateness* since = nullptr) const {
        double total = count - (since ? since->count : 0);
        for (std::size_t i = 0; i < buckets.size(); ++i) {
            double c = buckets[i].second - (since ? since->buckets[i].second : 0);
            if (c >= q * total) return buckets[i].first * 1000;
        }
        return std::numeric_limits<double>::infinity();
    }
};

Lateness read_lateness(httplib::Client& api, const httplib::Headers& auth) {
    Lateness l;
    if (auto m = api.Get("/metrics", auth); m && m->status == 200) {
        std::istringstream lines(m->body);
        std::string line;
        const std::string prefix = "voiceagent_pacing_lateness_seconds_bucket{channel=\"twilio\",le=\"";
        while (std::getline(lines, line)) {
            if (line.rfind(prefix, 0) != 0) continue;
            std::string le = line.substr(prefix.size(), line.find('"', prefix.size()) - prefix.size());
            double cumulative = std::stod(line.substr(line.rfind(' ') + 1));
            if (le == "+Inf") l.count = cumulative;
            else l.buckets.emplace_back(std::stod(le), cumulative);
        }
    }
    return l;
}

// Lateness of each frame as the caller received it (ms), against the schedule of its stretch of speech: frame k of a
// stretch is due 20k ms after the stretch's earliest-running frame, as the daemon's pacer schedules on an absolute
// clock. Stretches are split by a gap of more than 500 ms (between greeting and answers the gaps are over a
// second). Only frames received within [from_us, until_us) of the steady clock count.
void caller_lateness(const va::fake::CallerResult& r, std::int64_t from_us, std::int64_t until_us, std::vector<double>& out) {
    const auto& t = r.bot_media_us;
    std::size_t begin = 0;
    while (begin < t.size()) {
        std::size_t end = begin + 1;
        while (end < t.size() && t[end] - t[end - 1] <= 500000) ++end;
        std::int64_t base = std::numeric_limits<std::int64_t>::max();
        for (std::size_t k = begin; k < end; ++k) base = std::min(base, t[k] - std::int64_t(k - begin) * 20000);
        for (std::size_t k = begin; k < end; ++k) {
            std::int64_t at = r.started_steady_us + t[k];
            if (at >= from_us && at < until_us) out.push_back(double(t[k] - std::int64_t(k - begin) * 20000 - base) / 1000.0);
        }
        begin = end;
    }
}

std::int64_t steady_us(std::chrono::steady_clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::microseconds>(t.time_since_epoch()).count();
}

bool create_agent(httplib::Client& api, const httplib::Headers& auth, const std::string& name, const std::string& reply) {
    json agent{{"name", name},
               {"first_message", "Hello."},
               {"stt", {{"provider", "scripted"}, {"script", {"what are your hours", "what are your hours"}}, {"endpointing_ms", 300}}},
               {"llm", {{"provider", "scripted"}}},
               {"tts", {{"provider", "tone"}}},
               {"silence", {{"timeout_ms", 60000}}},
               {"script", {{"intents", {{{"name", "hours"}, {"keywords", {"hours"}}, {"reply", reply}}}}, {"fallback", "Sorry?"}}}};
    auto created = api.Post("/api/v1/agents", auth, agent.dump(), "application/json");
    if (created && created->status == 201) return true;
    std::fprintf(stderr, "cannot create the agent: %s\n", created ? created->body.c_str() : "no answer");
    return false;
}

void print_lateness(const char* what, std::vector<double> v) {
    std::printf("%s: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%zu frames)\n", what, percentile(v, 0.5), percentile(v, 0.99),
                v.empty() ? 0.0 : *std::max_element(v.begin(), v.end()), v.size());
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 4) {
        std::fprintf(stderr, "usage: %s BASE_URL API_KEY DAEMON_PID [CALLS] [BURST]\n", argv[0]);
        return 2;
    }
    std::string base = argv[1], key = argv[2];
    int pid = std::atoi(argv[3]);
    int calls = argc > 4 ? std::atoi(argv[4]) : 500;
    int burst = argc > 5 ? std::atoi(argv[5]) : 0;
    if (calls < 1 || calls > 5000 || burst < 0 || burst > 5000) {
        std::fprintf(stderr, "CALLS is 1 to 5000, BURST 0 to 5000\n");
        return 2;
    }
    // Two sockets per call (its WebSocket, and the daemon's end on the same machine is the daemon's): the soft
    // descriptor limit goes up to the hard one.
    if (rlimit l{}; getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur < l.rlim_max) {
        l.rlim_cur = l.rlim_max;
        setrlimit(RLIMIT_NOFILE, &l);
    }
    if (rlimit l{}; getrlimit(RLIMIT_NOFILE, &l) == 0 && l.rlim_cur != RLIM_INFINITY && l.rlim_cur < rlim_t(calls + burst + 64)) {
        std::fprintf(stderr, "the descriptor limit (%llu) is below %d calls\n", (unsigned long long)l.rlim_cur, calls + burst);
        return 2;
    }
    std::string host = base.substr(base.find("://") + 3);
    httplib::Client api(host.substr(0, host.rfind(':')), std::stoi(host.substr(host.rfind(':') + 1)));
    httplib::Headers auth{{"Authorization", "Bearer " + key}};
    // With a burst, the calls already up hear a long answer (12 sentences of 15 words at the tone's 60 ms a word:
    // 10.8 s), so all of them are pacing while the burst's callers connect.
    std::string long_reply;
    for (int i = 0; i < 12; ++i) long_reply += "We open at nine in the morning and we close at six every day of the week. ";
    if (!create_agent(api, auth, "bench-twilio", "We open at nine. We close at six.") ||
        (burst && !create_agent(api, auth, "bench-twilio-long", long_reply)))
        return 1;

    std::vector<va::bench::SimulatedCall> pending, bursting;
    try {
        pending = va::bench::simulate_twilio_calls(api, auth, burst ? "bench-twilio-long" : "bench-twilio", calls);
        bursting = va::bench::simulate_twilio_calls(api, auth, "bench-twilio", burst);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }

    // Calls arrive over `ramp_ms` (a daemon sees calls come in, not 500 handshakes in the same millisecond) and
    // stay up until all are connected. Each caller is quiet while greeted, says something (400 ms of a 300 Hz tone
    // at speech level), hears the answer, holds the line long enough for every other call to arrive, says
    // something again, hears the answer and hangs up. With a burst, the first N callers hang up after their long
    // answer, and the burst's callers all connect at `burst_ms`, when every call before them hears its answer
    // (from about 1.5 s after it connected); the window measured is the 3 s that follow.
    const int ramp_ms = 5000, burst_ms = ramp_ms + 2000, window_ms = 3000;
    va::fake::CallerScript script, short_script;
    auto voice = va::bench::caller_voice(400);
    script.turns.push_back({voice, "", -1, -1});
    short_script = script;
    script.turns.push_back({std::vector<std::int16_t>(std::size_t(8 * (ramp_ms + 1000)), 0), "", -1, -1});  // holding
    script.turns.push_back({voice, "", -1, 0});  // holding was silence: nothing to wait for
    for (auto* s : {&script, &short_script}) {
        s->answer_silence_ms = 600;
        s->hang_up_after_ms = 600;
    }

    double rss_before = rss_bytes(pid);
    double cpu_before = cpu_seconds(pid);
    auto started = std::chrono::steady_clock::now();
    boost::asio::io_context io;
    std::vector<va::fake::CallerResult> results(pending.size()), burst_results(bursting.size());
    std::vector<std::unique_ptr<boost::asio::steady_timer>> arrivals;
    for (std::size_t i = 0; i < pending.size(); ++i)
        va::bench::start_twilio_caller(io, arrivals, pending[i], i,
                                       int(ramp_ms * std::int64_t(i) / std::int64_t(pending.size())),
                                       burst ? short_script : script, results[i]);
    for (std::size_t i = 0; i < bursting.size(); ++i)
        va::bench::start_twilio_caller(io, arrivals, bursting[i], pending.size() + i, burst_ms, short_script, burst_results[i]);
    // CPU over a steady stretch when all calls are up: without a burst, while they hold (media flowing in, the last
    // arrivals' answers out), which is what a call costs once established; with one, over the burst window. RSS at
    // its peak. The daemon's lateness histogram is read at the window's edges.
    const int cpu_from = burst ? burst_ms : ramp_ms + 1500, cpu_until = burst ? burst_ms + window_ms : ramp_ms + 4500;
    Lateness at_burst, after_burst;
    httplib::Client metrics(host.substr(0, host.rfind(':')), std::stoi(host.substr(host.rfind(':') + 1)));
    metrics.set_read_timeout(std::chrono::seconds(30));  // an overloaded daemon answers late; a reading lost is worse
    double steady_cpu = 0, steady_s = 0, rss_peak = 0;
    std::thread sampler([&] {
        auto at = [&](int ms) { return started + std::chrono::milliseconds(ms); };
        auto sample = [&] {
            rss_peak = std::max(rss_peak, rss_bytes(pid));
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        };
        while (std::chrono::steady_clock::now() < at(cpu_from)) sample();
        if (burst) at_burst = read_lateness(metrics, auth);
        double cpu0 = cpu_seconds(pid);
        auto t0 = std::chrono::steady_clock::now();
        while (std::chrono::steady_clock::now() < at(cpu_until)) sample();
        steady_cpu = cpu_seconds(pid) - cpu0;
        steady_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        if (burst) after_burst = read_lateness(metrics, auth);
        for (int n = 0; n < 1200 && !io.stopped(); ++n) sample();  // at most 60 s more
    });
    io.run();
    double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    double cpu = cpu_seconds(pid) - cpu_before;
    sampler.join();

    int failed = 0, violations = 0;
    std::vector<double> late_all, late_up, late_new;
    const std::int64_t window_from = steady_us(started) + std::int64_t(burst_ms) * 1000,
                       window_until = window_from + std::int64_t(window_ms) * 1000;
    std::map<std::size_t, int> frames_count;
    std::size_t most = 0, most_new = 0;
    for (const auto& r : results) {
        if (!r.error.empty() || r.ended_by != "caller") ++failed;
        violations += int(r.violations.size());
        most = std::max(most, r.bot_media_us.size());
        caller_lateness(r, std::numeric_limits<std::int64_t>::min(), std::numeric_limits<std::int64_t>::max(), late_all);
        caller_lateness(r, window_from, window_until, late_up);
    }
    for (const auto& r : burst_results) {
        if (!r.error.empty() || r.ended_by != "caller") ++failed;
        violations += int(r.violations.size());
        most_new = std::max(most_new, r.bot_media_us.size());
        caller_lateness(r, window_from, window_until, late_new);
    }
    std::map<std::string, int> why;  // how the failed calls ended, to say what failed
    for (const auto* list : {&results, &burst_results})
        for (const auto& r : *list)
            if (!r.error.empty() || r.ended_by != "caller") ++why[r.error.empty() ? "ended by " + r.ended_by + " " + r.close_reason : r.error];
    for (const auto& [reason, n] : why) std::fprintf(stderr, "failed: %d: %s\n", n, reason.c_str());
    long lost = 0, lost_new = 0;
    for (const auto& r : results) lost += long(most - r.bot_media_us.size());
    for (const auto& r : burst_results) lost_new += long(most_new - r.bot_media_us.size());
    std::vector<double> v2v;
    for (const auto* list : {&pending, &bursting})
        for (const auto& p : *list) {
            auto r = api.Get("/api/v1/calls/" + p.id, auth);
            if (!r || r->status != 200) continue;
            json call = json::parse(r->body);
            for (const auto& t : call["metrics"]["turns"])
                if (t.contains("voice_to_voice_ms")) v2v.push_back(t["voice_to_voice_ms"].get<double>());
        }
    // The daemon's own view of its pacing: how late each frame left against its deadline (the /metrics histogram,
    // so a percentile is the bucket bound it falls under).
    Lateness daemon = read_lateness(api, auth);

    int total = calls + burst;
    std::printf("voiceagentd telephony benchmark: %d concurrent Twilio-protocol calls", calls);
    if (burst) std::printf(" then %d more in the same instant", burst);
    std::printf(", %d completed, %d failed, %d protocol violations, %.1f s\n", total - failed, failed, violations, elapsed);
    std::printf("daemon CPU %s: %.2f s over %.1f s = %.1f%% of a core, %.3f%% of a core per call "
                "(whole run, ramp and turns included: %.2f s over %.1f s)\n",
                burst ? "over the burst window" : "with all calls up", steady_cpu, steady_s, 100 * steady_cpu / steady_s,
                100 * steady_cpu / steady_s / total, cpu, elapsed);
    std::printf("daemon RSS: %.1f MiB before, %.1f MiB peak = %.1f KiB per call\n", rss_before / 1048576,
                rss_peak / 1048576, (rss_peak - rss_before) / 1024 / total);
    std::printf("pacing lateness at the daemon (each frame against its deadline, /metrics): p50 <= %.1f ms, "
                "p99 <= %.1f ms, max <= %.1f ms (%.0f frames)\n", daemon.at(0.5), daemon.at(0.99), daemon.at(1.0), daemon.count);
    if (burst && (at_burst.count == 0 || after_burst.count < at_burst.count))
        std::printf("  during the burst window: /metrics did not answer at both edges\n");
    else if (burst)
        std::printf("  during the burst window, all calls: p50 <= %.1f ms, p99 <= %.1f ms, max <= %.1f ms (%.0f frames)\n",
                    after_burst.at(0.5, &at_burst), after_burst.at(0.99, &at_burst), after_burst.at(1.0, &at_burst),
                    after_burst.count - at_burst.count);
    print_lateness("pacing lateness as the callers received the frames (the load generator's own delays included)", late_all);
    if (burst) {
        print_lateness("  during the burst window, the calls already up", late_up);
        print_lateness("  during the burst window, the new calls", late_new);
    }
    std::printf("daemon-added voice-to-voice latency: p50 %.1f ms, p99 %.1f ms (%zu turns)\n", percentile(v2v, 0.5),
                percentile(v2v, 0.99), v2v.size());
    std::printf("frames lost: %ld (each call should get %zu greeting and answer frames)", lost, most);
    if (burst) std::printf("; the new calls: %ld (%zu each)", lost_new, most_new);
    std::printf("\n");
    return failed ? 1 : 0;
}
