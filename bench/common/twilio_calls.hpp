// What the Twilio-protocol benchmarks (bench/telephony, bench/realtime) share: calls set up through the daemon's
// simulate endpoint, callers that play them over the Twilio media protocol (the carrier fake's MediaCaller), a
// caller's voice, and the sampling of the daemon's CPU and peak RSS while the calls run. Header-only.
// Thread-safety: set up and start from one thread; the callers run on the given io_context; the sampler on its own.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "bench/common/proc_stats.hpp"
#include "providers/fake/media_caller.hpp"

namespace va::bench {

struct SimulatedCall {
    std::string id, url, signature;
};

// `calls` Twilio calls of agent `agent_id`, set up (not yet connected) through POST /api/v1/calls/simulate.
inline std::vector<SimulatedCall> simulate_twilio_calls(httplib::Client& api, const httplib::Headers& auth,
                                                        const std::string& agent_id, int calls) {
    std::vector<SimulatedCall> out;
    for (int i = 0; i < calls; ++i) {
        auto r = api.Post("/api/v1/calls/simulate", auth,
                          nlohmann::json{{"carrier", "twilio"}, {"agent_id", agent_id}}.dump(), "application/json");
        if (!r || r->status != 201)
            throw std::runtime_error("cannot create call " + std::to_string(i) + ": " + (r ? r->body : "no answer"));
        auto j = nlohmann::json::parse(r->body);
        out.push_back({j["call"]["id"], j["stream_url"], j["headers"]["X-Twilio-Signature"]});
    }
    return out;
}

// Connects call `i` as a Twilio caller playing `script`, `at_ms` from now; `result` is filled when it is over.
inline void start_twilio_caller(boost::asio::io_context& io, std::vector<std::unique_ptr<boost::asio::steady_timer>>& timers,
                                const SimulatedCall& call, std::size_t i, int at_ms, fake::CallerScript script,
                                fake::CallerResult& result) {
    timers.push_back(std::make_unique<boost::asio::steady_timer>(io, std::chrono::milliseconds(at_ms)));
    timers.back()->async_wait([&io, &call, &result, i, script = std::move(script)](boost::system::error_code) {
        fake::MediaCaller::start(io, call.url, {{"X-Twilio-Signature", call.signature}},
                                 fake::twilio_dialect("MZ" + std::to_string(i), "CA" + std::to_string(i), "ACbench",
                                                      nlohmann::json{{"call_id", call.id}}),
                                 script, [&result](const fake::CallerResult& r) { result = r; });
    });
}

// `ms` of a 300 Hz tone at speech level at 8 kHz: what the benchmark callers say.
inline std::vector<std::int16_t> caller_voice(int ms) {
    std::vector<std::int16_t> voice(std::size_t(8 * ms));
    for (std::size_t i = 0; i < voice.size(); ++i)
        voice[i] = static_cast<std::int16_t>(8000 * std::sin(2 * M_PI * 300.0 * double(i) / 8000.0));
    return voice;
}

// Samples the daemon while the calls run: its CPU over [from_ms, until_ms) after `started` (a stretch when all
// calls are up), and its peak RSS until stop().
class DaemonSampler {
public:
    DaemonSampler(int pid, std::chrono::steady_clock::time_point started, int from_ms, int until_ms)
        : m_pid(pid), m_thread([=, this] {
              auto at = [&](int ms) { return started + std::chrono::milliseconds(ms); };
              while (!m_stop && std::chrono::steady_clock::now() < at(from_ms)) sample();
              double cpu0 = cpu_seconds(pid);
              auto t0 = std::chrono::steady_clock::now();
              while (!m_stop && std::chrono::steady_clock::now() < at(until_ms)) sample();
              m_cpu = cpu_seconds(pid) - cpu0;
              m_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
              while (!m_stop) sample();
          }) {}
    ~DaemonSampler() { stop(); }
    void stop() {
        m_stop = true;
        if (m_thread.joinable()) m_thread.join();
    }
    double rss_peak() const { return m_rss_peak; }
    double rss_anon_peak() const { return m_anon_peak; }  // rss_anon_bytes()' peak
    double cpu() const { return m_cpu; }          // CPU seconds over the stretch
    double seconds() const { return m_seconds; }  // the stretch's length

private:
    void sample() {
        m_rss_peak = std::max(m_rss_peak.load(), rss_bytes(m_pid));
        m_anon_peak = std::max(m_anon_peak.load(), rss_anon_bytes(m_pid));
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    int m_pid;
    std::atomic<bool> m_stop{false};
    std::atomic<double> m_rss_peak{0};
    std::atomic<double> m_anon_peak{0};
    double m_cpu = 0, m_seconds = 0;
    std::thread m_thread;
};

}  // namespace va::bench
