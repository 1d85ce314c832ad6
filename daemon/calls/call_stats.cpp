#include "daemon/calls/call_stats.hpp"
#include "core/util/json.hpp"

#include <algorithm>

namespace va {

using nlohmann::json;

namespace {

const std::vector<double> kDurationBounds{5, 10, 20, 30, 45, 60, 90, 120, 180, 300, 600, 1200, 3600};           // s
const std::vector<double> kV2vBounds{100, 200, 300, 400, 500, 600, 800, 1000, 1250, 1500, 2000, 3000, 5000};  // ms

void observe(json& stats, const char* key, const std::vector<double>& bounds, double value) {
    json& counts = stats[key];
    if (!counts.is_array() || counts.size() != bounds.size() + 1) counts = json(std::vector<int>(bounds.size() + 1, 0));
    std::size_t bucket = std::size_t(std::lower_bound(bounds.begin(), bounds.end(), value) - bounds.begin());
    counts[bucket] = counts[bucket].get<int>() + 1;
}

int integer(const json& stats, const char* key) { return stats.contains(key) && stats[key].is_number() ? stats[key].get<int>() : 0; }

}  // namespace

json histogram_quantile(const std::vector<double>& bounds, const json& counts, double p) {
    if (!counts.is_array() || counts.size() != bounds.size() + 1) return nullptr;
    double total = 0;
    for (const auto& c : counts) total += c.get<double>();
    if (total == 0) return nullptr;
    double rank = p * total, seen = 0;
    for (std::size_t i = 0; i < counts.size(); ++i) {
        double n = counts[i].get<double>();
        if (n > 0 && seen + n >= rank) {
            double lower = i == 0 ? 0 : bounds[i - 1];
            if (i == bounds.size()) return lower;  // the open bucket: its lower bound is all we know
            return lower + (bounds[i] - lower) * std::clamp((rank - seen) / n, 0.0, 1.0);
        }
        seen += n;
    }
    return bounds.back();
}

void add_call_stats(json& stats, const Call& call, const std::vector<CallTurn>& turns) {
    if (!stats.is_object()) stats = json::object();
    stats["calls"] = integer(stats, "calls") + 1;
    bool answered = call.outcome == "answered" || call.outcome == "completed-goal";
    if (answered) {
        stats["answered"] = integer(stats, "answered") + 1;
        stats["duration_sum_s"] = stats.value("duration_sum_s", 0.0) + call.duration_s;
        observe(stats, "duration_hist", kDurationBounds, call.duration_s);
    }
    json& outcomes = stats["outcomes"];
    if (!outcomes.is_object()) outcomes = json::object();
    std::string outcome = call.outcome.empty() ? "unknown" : call.outcome;
    outcomes[outcome] = outcomes.value(outcome, 0) + 1;
    int interrupted = int(std::count_if(turns.begin(), turns.end(), [](const CallTurn& t) { return t.interrupted; }));
    stats["interruptions"] = integer(stats, "interruptions") + interrupted;
    json metrics = parse_json(call.metrics.empty() ? "{}" : call.metrics);
    if (metrics.is_object() && metrics.contains("turns") && metrics["turns"].is_array())
        for (const auto& turn : metrics["turns"])
            if (turn.is_object() && turn.contains("voice_to_voice_ms") && turn["voice_to_voice_ms"].is_number())
                observe(stats, "v2v_hist", kV2vBounds, turn["voice_to_voice_ms"].get<double>());
}

json summarize_stats(const json& stats) {
    int calls = integer(stats, "calls"), answered = integer(stats, "answered");
    json out{{"calls", calls},
             {"answered", answered},
             {"answer_rate", calls ? double(answered) / calls : 0.0},
             {"duration_avg_s", answered ? json(stats.value("duration_sum_s", 0.0) / answered) : json()},
             {"duration_p95_s", histogram_quantile(kDurationBounds, stats.value("duration_hist", json()), 0.95)},
             {"v2v_p50_ms", histogram_quantile(kV2vBounds, stats.value("v2v_hist", json()), 0.50)},
             {"v2v_p95_ms", histogram_quantile(kV2vBounds, stats.value("v2v_hist", json()), 0.95)},
             {"outcomes", stats.value("outcomes", json::object())},
             {"interruptions_per_call", calls ? double(integer(stats, "interruptions")) / calls : 0.0}};
    return out;
}

}  // namespace va
