// Several daemons as one (docs/scale-out.md): two voiceagentd processes on their own ports, sharing records through
// one SQLite file in WAL mode and events through a real redis-server on loopback.
#include <catch2/catch.hpp>

#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "cli/ws_client.hpp"
#include "support/campaigns.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"
#include "support/redis_server.hpp"

using namespace va::test;
using va::cli::WsClient;
using nlohmann::json;

namespace {

// Two daemons, A and B: separate data directories and ports, one database file, one JWT secret (tokens and carrier
// links work on either), one Redis. A starts first and creates the workspace and its admin key.
struct Pair {
    RedisServer redis;
    std::string shared = make_temp_dir("va-scale");
    Env extra;  // more settings for both daemons
    std::unique_ptr<DaemonProcess> a, b;

    Env env(const std::string& instance) const {
        Env e{{"VOICEAGENT_STORAGE_SQLITE_PATH", shared + "/voiceagent.db"},
              {"VOICEAGENT_AUTH_JWT_SECRET", "a-secret-shared-by-every-daemon-0123456789"},
              {"VOICEAGENT_REDIS_URL", redis.url()},
              {"VOICEAGENT_SERVER_INSTANCE_ID", instance},
              {"VOICEAGENT_SERVER_INSTANCE_LEASE_MS", "1500"}};
        for (const auto& [k, v] : extra) e[k] = v;
        return e;
    }
    explicit Pair(Env more = {}) : extra(std::move(more)) {
        a = std::make_unique<DaemonProcess>(env("daemon-a"));
        b = std::make_unique<DaemonProcess>(env("daemon-b"));
    }
    ~Pair() {
        a.reset();
        b.reset();
        std::filesystem::remove_all(shared);
    }
    std::string key() const { return a->admin_key(); }
    // The receptionist agent, created through A (B reads it from the shared records).
    void add_agent() const {
        REQUIRE(Api(a->base_url(), key()).post("/api/v1/agents", example_agent("receptionist.json")).status == 201);
    }
    // An event stream of every call of the workspace, on `d`, once the daemon says it is subscribed.
    std::unique_ptr<WsClient> events_on(const DaemonProcess& d) const;
};

json read_until(WsClient& ws, const std::string& type) {
    while (auto text = ws.read()) {
        json m = json::parse(*text);
        if (m.value("type", "") == type) return m;
    }
    return nullptr;
}

std::unique_ptr<WsClient> Pair::events_on(const DaemonProcess& d) const {
    auto ws = std::make_unique<WsClient>(d.base_url() + "/api/v1/events", key());
    REQUIRE(read_until(*ws, "subscribed").is_object());
    return ws;
}

// The next `n` events of the stream as "type[:detail]", each checked to belong to `call_id`.
std::vector<std::string> next_events(WsClient& events, const std::string& call_id, std::size_t n) {
    std::vector<std::string> out;
    while (out.size() < n) {
        auto text = events.read();
        REQUIRE(text);
        json e = json::parse(*text);
        INFO(e.dump());
        CHECK(e["call_id"] == call_id);
        std::string entry = e["type"];
        if (e["type"] == "call:transcript") entry += ":" + e["data"]["role"].get<std::string>();
        if (e["type"] == "call:status") entry += ":" + e["data"]["status"].get<std::string>();
        out.push_back(entry);
    }
    return out;
}

const std::vector<std::string> kChatCall{"call:status:queued",    "call:started",          "call:status:in-progress",
                                         "call:transcript:agent", "call:transcript:user",  "call:transcript:agent",
                                         "call:status:completed", "call:ended"};

// A chat call on `d` that says goodbye (the receptionist ends the call); returns its id. `before_goodbye` runs
// while the call is live.
std::string chat_call(const DaemonProcess& d, const std::string& key, const std::function<void()>& before_goodbye = {}) {
    Api api(d.base_url(), key);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "chat"}});
    REQUIRE(created.status == 201);
    WsClient media(d.base_url() + created.json()["media_url"].get<std::string>(), key);
    REQUIRE(read_until(media, "listening").is_object());
    if (before_goodbye) before_goodbye();
    media.send_text(R"({"type":"text","text":"goodbye"})");
    REQUIRE(read_until(media, "end").is_object());
    return created.json()["call"]["id"];
}

}  // namespace

TEST_CASE("scale-out: a subscriber on daemon B receives the events of a call on daemon A, in order and once") {
    Pair p;
    p.add_agent();
    auto on_b = p.events_on(*p.b);
    auto on_a = p.events_on(*p.a);

    std::string first = chat_call(*p.a, p.key());
    CHECK(next_events(*on_b, first, kChatCall.size()) == kChatCall);
    CHECK(next_events(*on_a, first, kChatCall.size()) == kChatCall);  // A's own, not echoed back through Redis
    // The other way round. The next events on each stream are the second call's: nothing of the first came twice.
    std::string second = chat_call(*p.b, p.key());
    CHECK(next_events(*on_a, second, kChatCall.size()) == kChatCall);
    CHECK(next_events(*on_b, second, kChatCall.size()) == kChatCall);
    // Both daemons see the same records.
    Api a(p.a->base_url(), p.key());
    Api b(p.b->base_url(), p.key());
    CHECK(b.get("/api/v1/calls/" + first).json()["status"] == "completed");
    CHECK(a.get("/api/v1/calls/" + second).json()["status"] == "completed");
}

TEST_CASE("scale-out: Redis restarted mid-call: the call goes on, and its events reach the other daemon after") {
    Pair p;
    p.add_agent();
    auto on_b = p.events_on(*p.b);
    Api a(p.a->base_url(), p.key());

    std::string id = chat_call(*p.a, p.key(), [&] {
        // Redis dies with the call live (once the events so far have crossed); the caller's turn and the agent's
        // answer happen while it is down.
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        p.redis.kill();
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    });
    CHECK(a.get("/api/v1/calls/" + id).json()["end_reason"] == "agent_end_call");
    p.redis.start();
    // What A published while Redis was down was kept, and B reads on after the restart: the whole call, in order.
    CHECK(next_events(*on_b, id, kChatCall.size()) == kChatCall);
    std::string after = chat_call(*p.a, p.key());
    CHECK(next_events(*on_b, after, kChatCall.size()) == kChatCall);
    CHECK(p.a->alive());
    CHECK(p.b->alive());
}

TEST_CASE("scale-out: login attempts are limited across daemons, not per daemon") {
    Pair p;
    // login_burst is 5 per address and per account: spread over two daemons, the sixth attempt is refused all the
    // same (a per-daemon limit would allow ten).
    std::vector<int> statuses;
    for (int i = 0; i < 8; ++i) {
        const DaemonProcess& d = i % 2 ? *p.b : *p.a;
        statuses.push_back(Api(d.base_url()).post("/api/v1/auth/login", {{"email", "nobody@example.com"},
                                                                         {"password", "guess-" + std::to_string(i)}})
                               .status);
    }
    CHECK(statuses == std::vector<int>{401, 401, 401, 401, 401, 429, 429, 429});
}

TEST_CASE("scale-out: when a daemon dies mid-call, another fails its call with the reason once its lease lapses") {
    Pair p;
    p.add_agent();
    auto on_b = p.events_on(*p.b);
    Api a(p.a->base_url(), p.key());
    Api b(p.b->base_url(), p.key());
    auto created = a.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "chat"}});
    REQUIRE(created.status == 201);
    std::string id = created.json()["call"]["id"];
    {
        WsClient media(p.a->base_url() + created.json()["media_url"].get<std::string>(), p.key());
        REQUIRE(read_until(media, "listening").is_object());
        p.a->stop(SIGKILL);
    }
    auto killed_at = std::chrono::steady_clock::now();
    json ended;
    while (auto text = on_b->read()) {
        json e = json::parse(*text);
        if (e["call_id"] == id && e["type"] == "call:ended") {
            ended = e;
            break;
        }
    }
    REQUIRE(ended.is_object());
    CHECK(ended["data"]["reason"] == "interrupted: daemon daemon-a stopped during the call");
    // After the lease (1.5 s) and within a few heartbeats (0.3 s) of it.
    auto waited = std::chrono::steady_clock::now() - killed_at;
    CHECK(waited >= std::chrono::milliseconds(1000));
    CHECK(waited < std::chrono::seconds(10));
    json stored = b.get("/api/v1/calls/" + id).json();
    CHECK(stored["status"] == "failed");
    CHECK(stored["end_reason"] == "interrupted: daemon daemon-a stopped during the call");
    CHECK(stored["instance_id"] == "daemon-a");
    CHECK(p.b->alive());
}

namespace {

// Both daemons dial through one Twilio fake and share the job queue in Redis.
Env campaign_env(const TwilioFake& fake) {
    Env e = daemon_env(fake);
    e["VOICEAGENT_JOBS_BACKEND"] = "redis";
    return e;
}

// Which daemons placed the campaign's calls (the calls' owners).
std::map<std::string, int> calls_per_daemon(const Api& api, const std::string& campaign_id) {
    std::map<std::string, int> out;
    auto calls = api.get("/api/v1/calls?campaign_id=" + campaign_id + "&limit=500");
    REQUIRE(calls.status == 200);
    const json items = calls.json()["items"];
    for (const auto& c : items) ++out[c["instance_id"].get<std::string>()];
    return out;
}

}  // namespace

TEST_CASE("scale-out: a campaign run by two daemons holds its limit and dials each contact once per attempt") {
    TwilioFake::Options options = fake_options();
    options.script.hang_up_after_ms = 300;
    TwilioFake fake(options);
    Pair p(campaign_env(fake));
    Api a(p.a->base_url(), p.key());
    Api b(p.b->base_url(), p.key());
    add_agent(a);
    // Mostly quick carrier outcomes, every fourth a real media call, some busy once: retries cross daemons too.
    std::map<std::string, std::vector<std::string>> outcomes;
    std::string csv = "phone\n";
    for (int i = 0; i < 60; ++i) {
        csv += number(i) + "\n";
        outcomes[number(i)] = i % 4 == 0 ? std::vector<std::string>{"answer"}
                              : i % 5 == 0 ? std::vector<std::string>{"busy", "completed"}
                                           : std::vector<std::string>{"completed"};
    }
    fake.set_outcomes("completed", outcomes);
    json campaign = create_campaign(a, {{"concurrency", 5},
                                        {"retry", {{"max_attempts", 3}, {"backoff_s", 0}, {"on", {"busy"}}}}});
    std::string id = campaign["id"];
    import_csv(a, id, csv);
    auto on_b = p.events_on(*p.b);
    fake.reset_max_active();
    REQUIRE(b.post("/api/v1/campaigns/" + id + "/start", json::object()).status == 200);  // started through B
    json done = wait_for_status(a, id, "completed", std::chrono::seconds(120));
    INFO(done.dump());
    CHECK(done["counts"]["done"] == 60);
    CHECK(fake.max_active_calls() <= 5);
    CHECK(fake.max_active_calls() >= 3);
    auto dialled = dials_per_number(fake);
    for (const json& c : all_contacts(b, id)) {
        INFO(c.dump());
        CHECK(dialled[c["phone"]] == c["attempts"].get<int>());  // each attempt dialled exactly once
    }
    // Both daemons placed calls, and B's subscriber saw the calls A placed.
    auto owners = calls_per_daemon(a, id);
    INFO("calls per daemon: a=" << owners["daemon-a"] << " b=" << owners["daemon-b"]);
    CHECK(owners["daemon-a"] > 0);
    CHECK(owners["daemon-b"] > 0);
    std::set<std::string> ended_seen_on_b;
    const json calls = a.get("/api/v1/calls?campaign_id=" + id + "&limit=500").json()["items"];
    std::set<std::string> a_calls;
    for (const auto& c : calls)
        if (c["instance_id"] == "daemon-a") a_calls.insert(c["id"].get<std::string>());
    while (ended_seen_on_b.size() < a_calls.size()) {
        auto text = on_b->read();
        REQUIRE(text);
        json e = json::parse(*text);
        if (e["type"] == "call:ended" && a_calls.count(e["call_id"].get<std::string>()))
            ended_seen_on_b.insert(e["call_id"].get<std::string>());
    }
    CHECK(ended_seen_on_b == a_calls);
}

TEST_CASE("scale-out: SIGKILL of one daemon mid-campaign loses no contact, and the other finishes it") {
    TwilioFake::Options options = fake_options();
    options.script.hang_up_after_ms = 800;
    TwilioFake fake(options);
    Env env = campaign_env(fake);
    env["VOICEAGENT_JOBS_LEASE_MS"] = "1500";
    Pair p(env);
    Api a(p.a->base_url(), p.key());
    Api b(p.b->base_url(), p.key());
    add_agent(a);
    fake.set_outcomes("answer", {});
    json campaign = create_campaign(a, {{"concurrency", 4},
                                        {"retry", {{"max_attempts", 3}, {"backoff_s", 0}, {"on", {"failed"}}}}});
    std::string id = campaign["id"];
    std::string csv = "phone\n";
    for (int i = 0; i < 30; ++i) csv += number(i) + "\n";
    import_csv(a, id, csv);
    fake.reset_max_active();
    REQUIRE(a.post("/api/v1/campaigns/" + id + "/start", json::object()).status == 200);
    // Kill A once it has calls of its own in flight.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
    while (std::chrono::steady_clock::now() < deadline) {
        auto owners = calls_per_daemon(b, id);
        if (owners["daemon-a"] >= 2 && fake.calls().size() >= 6) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    REQUIRE(calls_per_daemon(b, id)["daemon-a"] >= 2);
    p.a->stop(SIGKILL);
    json done = wait_for_status(b, id, "completed", std::chrono::seconds(120));
    INFO(done.dump());
    CHECK(done["counts"]["pending"] == 0);
    CHECK(done["counts"]["dialing"] == 0);
    CHECK(done["counts"]["done"].get<int>() + done["counts"]["failed"].get<int>() == 30);
    CHECK(done["counts"]["done"].get<int>() >= 26);
    auto dialled = dials_per_number(fake);
    int retried = 0;
    for (const json& c : all_contacts(b, id)) {
        INFO(c.dump());
        // Never twice for one attempt; an attempt the kill cut off between storing its call and asking the carrier
        // was not dialled at all (it counts, and is tried again).
        int attempts = c["attempts"].get<int>();
        CHECK(dialled[c["phone"]] <= attempts);
        CHECK(dialled[c["phone"]] >= attempts - 1);
        if (attempts > 1) ++retried;
    }
    CHECK(retried >= 1);  // A's interrupted calls were tried again, by B
    CHECK(fake.max_active_calls() <= 4);
    // A's calls that were live when it died are failed with the reason, by B.
    int interrupted = 0;
    const json calls = b.get("/api/v1/calls?campaign_id=" + id + "&limit=500").json()["items"];
    for (const auto& c : calls)
        if (c["end_reason"] == "interrupted: daemon daemon-a stopped during the call") ++interrupted;
    CHECK(interrupted >= 1);
}
