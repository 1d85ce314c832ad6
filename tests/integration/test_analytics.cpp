// Analytics per agent and day, kept by the post-call job as calls end: the figures match the calls made.
#include <catch2/catch.hpp>

#include <filesystem>
#include <thread>

#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using nlohmann::json;

TEST_CASE("analytics: the summary counts each call of the day, with outcomes, and vactl shows it") {
    DaemonProcess d;
    Api api(d.base_url(), d.admin_key());
    auto agent = api.post("/api/v1/agents", example_agent("receptionist.json"));
    REQUIRE(agent.status == 201);
    std::string agent_id = agent.json()["id"];
    std::vector<std::string> ids;
    for (int i = 0; i < 3; ++i) ids.push_back(chat_call(d, api, "receptionist", {"what are your hours"}));
    json summary;
    for (int i = 0; i < 200; ++i) {
        summary = api.get("/api/v1/analytics/summary").json();
        if (summary["items"].size() == 1 && summary["items"][0]["calls"] == 3) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    INFO(summary.dump());
    REQUIRE(summary["items"].size() == 1);
    const json& day = summary["items"][0];
    CHECK(day["agent_id"] == agent_id);
    CHECK(day["calls"] == 3);
    CHECK(day["answered"] == 3);
    CHECK(day["answer_rate"] == 1.0);
    CHECK(day["outcomes"] == json{{"answered", 3}});
    CHECK(day["interruptions_per_call"] == 0.0);
    double total = 0;
    for (const auto& id : ids) {
        json call = api.get("/api/v1/calls/" + id).json();
        CHECK(call["outcome"] == "answered");
        total += call["duration_s"].get<double>();
    }
    CHECK(day["duration_avg_s"].get<double>() == Approx(total / 3));
    CHECK(api.get("/api/v1/analytics/summary?since=yesterday").status == 400);
    CHECK(api.get("/api/v1/analytics/summary?agent_id=agt_none").json()["items"].empty());

    std::string home = make_temp_dir("va-vactl-analytics");
    auto r = run_vactl({"--server", d.base_url(), "-o", "json", "analytics", "--agent", "receptionist"},
                       {{"XDG_CONFIG_HOME", home}, {"VOICEAGENT_DATA_DIR", d.data_dir()}});
    INFO(r.out << r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(json::parse(r.out)["items"][0]["calls"] == 3);
    auto table = run_vactl({"--server", d.base_url(), "analytics"}, {{"XDG_CONFIG_HOME", home}, {"VOICEAGENT_DATA_DIR", d.data_dir()}});
    CHECK(table.exit_code == 0);
    CHECK(table.out.find("ANSWER_RATE") != std::string::npos);
    std::filesystem::remove_all(home);
}
