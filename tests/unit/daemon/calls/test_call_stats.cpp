#include <catch2/catch.hpp>

#include "daemon/calls/call_stats.hpp"

using namespace va;
using nlohmann::json;

TEST_CASE("analytics: quantiles come from the histogram, linear within a bucket") {
    std::vector<double> bounds{10, 20, 40};
    CHECK(histogram_quantile(bounds, json{0, 0, 0, 0}, 0.5).is_null());
    CHECK(histogram_quantile(bounds, json{10, 0, 0, 0}, 0.5).get<double>() == Approx(5));
    CHECK(histogram_quantile(bounds, json{0, 4, 4, 0}, 0.5).get<double>() == Approx(20));
    CHECK(histogram_quantile(bounds, json{0, 4, 4, 0}, 0.75).get<double>() == Approx(30));
    CHECK(histogram_quantile(bounds, json{0, 0, 0, 3}, 0.95).get<double>() == Approx(40));  // open bucket: its floor
}

TEST_CASE("analytics: calls add up into a day's figures") {
    json stats = json::object();
    auto call = [](const std::string& outcome, double duration, const std::string& metrics) {
        Call c;
        c.outcome = outcome;
        c.duration_s = duration;
        c.metrics = metrics;
        return c;
    };
    CallTurn cut;
    cut.role = "agent";
    cut.interrupted = true;
    add_call_stats(stats, call("answered", 30, R"({"turns":[{"voice_to_voice_ms":450},{"voice_to_voice_ms":650}]})"), {cut});
    add_call_stats(stats, call("completed-goal", 90, R"({"turns":[{"voice_to_voice_ms":550}]})"), {});
    add_call_stats(stats, call("busy", 0, "{}"), {});
    add_call_stats(stats, call("voicemail", 20, "{}"), {});
    json s = summarize_stats(stats);
    CHECK(s["calls"] == 4);
    CHECK(s["answered"] == 2);
    CHECK(s["answer_rate"].get<double>() == Approx(0.5));
    CHECK(s["duration_avg_s"].get<double>() == Approx(60));
    CHECK(s["outcomes"] == json{{"answered", 1}, {"completed-goal", 1}, {"busy", 1}, {"voicemail", 1}});
    CHECK(s["interruptions_per_call"].get<double>() == Approx(0.25));
    double p50 = s["v2v_p50_ms"].get<double>();
    CHECK((p50 >= 500 && p50 <= 600));
    CHECK(s["v2v_p95_ms"].get<double>() <= 800);
    CHECK(summarize_stats(json::object())["calls"] == 0);
}
