// Analytics aggregates: one agent's day of calls kept as running figures (counts, sums and fixed-bucket
// histograms), so a call is added in constant time and a summary never scans calls. Percentiles come from the
// histograms (linear within a bucket), which is exact enough for dashboards and keeps a day's row small.
// Thread-safety: pure functions.
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "core/store/store.hpp"

namespace va {

// Adds an ended, analysed call (its outcome set) to a day's `stats`.
void add_call_stats(nlohmann::json& stats, const Call& call, const std::vector<CallTurn>& turns);

// What GET /analytics/summary shows of a day: calls, answered, answer_rate, duration_avg_s, duration_p95_s,
// v2v_p50_ms, v2v_p95_ms, outcomes, interruptions_per_call.
nlohmann::json summarize_stats(const nlohmann::json& stats);

// The `p`-quantile (0..1) of a histogram with these upper bounds (the last bucket is open-ended); null when empty.
nlohmann::json histogram_quantile(const std::vector<double>& bounds, const nlohmann::json& counts, double p);

}  // namespace va
