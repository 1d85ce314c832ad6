// Pipeline load generator: N concurrent local voice calls against a running voiceagentd whose agent uses
// zero-cost providers (scripted STT via caller_lines, scripted LLM, tone TTS), so only the daemon's own pipeline
// is measured. Each call waits for the greeting, then streams 600 ms of silence, a 400 ms tone and 600 ms of
// silence in real time, waits for the answer and hangs up. Prints daemon-added voice-to-voice latency (p50, p99: from the daemon's end-of-speech decision to the first
// answer frame, which is all daemon work when the providers take no time), daemon CPU per call and RSS per call.
// Usage: va_bench_pipeline BASE_URL API_KEY DAEMON_PID [CALLS]
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <barrier>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <httplib.h>
#include <mutex>
#include <sstream>
#include <thread>

#include "bench/common/proc_stats.hpp"

#include "cli/client.hpp"
#include "cli/ws_client.hpp"

using nlohmann::json;
using Clock = std::chrono::steady_clock;

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
    int calls = argc > 4 ? std::atoi(argv[4]) : 200;
    httplib::Client http(base);
    httplib::Headers auth{{"Authorization", "Bearer " + key}};
    json agent = {{"name", "bench"},
                  {"first_message", "Hi."},
                  {"stt", {{"provider", "scripted"}, {"endpointing_ms", 300}}},
                  {"tts", {{"provider", "tone"}}},
                  {"silence", {{"timeout_ms", 60000}}},
                  {"script", {{"intents", json::array()}, {"fallback", "Sure, here is your answer."}}}};
    http.Post("/api/v1/agents", auth, agent.dump(), "application/json");

    std::vector<std::int16_t> tone(16000 * 2 / 5);
    for (std::size_t i = 0; i < tone.size(); ++i) tone[i] = std::int16_t(8000 * std::sin(2 * M_PI * 300.0 * double(i) / 16000));
    std::vector<std::int16_t> silence(16000 * 3 / 5, 0);

    double rss_before = rss_bytes(pid);
    double cpu_before = cpu_seconds(pid);
    auto started = Clock::now();
    std::atomic<int> failures{0};
    std::mutex mutex;
    std::vector<std::string> ids;
    std::atomic<double> rss_peak{0};
    std::barrier connected(calls, [&]() noexcept { rss_peak = rss_bytes(pid); });

    std::vector<std::thread> threads;
    for (int c = 0; c < calls; ++c) {
        threads.emplace_back([&] {
            bool arrived = false;
            try {
                httplib::Client h(base);
                auto r = h.Post("/api/v1/calls/local", auth,
                                json{{"agent_id", "bench"}, {"channel", "local"}, {"caller_lines", {"hello"}}}.dump(),
                                "application/json");
                if (!r || r->status != 201) throw std::runtime_error("create failed");
                json created = json::parse(r->body);
                va::cli::WsClient ws(base + created["media_url"].get<std::string>(), key);
                auto wait = [&](const std::string& type) {
                    while (auto m = ws.read_message())
                        if (!m->binary && json::parse(m->data).value("type", "") == type) return true;
                    return false;
                };
                if (!wait("listening")) throw std::runtime_error("no greeting");
                connected.arrive_and_wait();
                arrived = true;
                auto next = Clock::now();
                // Like a microphone, the stream starts with the room's silence, from which the VAD learns its floor.
                for (const auto* audio : {&silence, &tone, &silence})
                    for (std::size_t i = 0; i < audio->size(); i += 320) {
                        ws.send_binary(std::string(reinterpret_cast<const char*>(audio->data() + i), 640));
                        next += std::chrono::milliseconds(20);
                        std::this_thread::sleep_until(next);
                    }
                if (!wait("listening")) throw std::runtime_error("no answer");
                ws.send_text(R"({"type":"hangup"})");
                wait("end");
                std::lock_guard lock(mutex);
                ids.push_back(created["call"]["id"]);
            } catch (const std::exception& e) {
                ++failures;
                std::fprintf(stderr, "call failed: %s\n", e.what());
                if (!arrived) connected.arrive_and_drop();
            }
        });
    }
    for (auto& t : threads) t.join();
    double elapsed = std::chrono::duration<double>(Clock::now() - started).count();
    double cpu = cpu_seconds(pid) - cpu_before;

    std::vector<double> v2v;
    for (const auto& id : ids) {
        auto r = http.Get("/api/v1/calls/" + id, auth);
        if (!r) continue;
        json call = json::parse(r->body);
        for (const auto& t : call["metrics"]["turns"])
            if (t.contains("voice_to_voice_ms")) v2v.push_back(t["voice_to_voice_ms"].get<double>());
    }
    std::printf("voiceagentd pipeline benchmark: %d concurrent local calls, %zu completed, %d failed, %.1f s\n", calls,
                ids.size(), failures.load(), elapsed);
    std::printf("daemon-added voice-to-voice latency: p50 %.1f ms, p99 %.1f ms (%zu turns)\n", percentile(v2v, 0.5),
                percentile(v2v, 0.99), v2v.size());
    std::printf("daemon CPU: %.2f s over %.1f s = %.1f%% of a core, %.3f%% of a core per call\n", cpu, elapsed,
                100 * cpu / elapsed, 100 * cpu / elapsed / calls);
    std::printf("daemon RSS: %.1f MiB before, %.1f MiB with all calls connected = %.1f KiB per call\n",
                rss_before / 1048576, rss_peak.load() / 1048576, (rss_peak.load() - rss_before) / 1024 / calls);
    return failures > 0 ? 1 : 0;
}
