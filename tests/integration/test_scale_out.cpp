// Several daemons as one (docs/scale-out.md): two voiceagentd processes on their own ports, sharing records through
// one SQLite file in WAL mode, and events, live sessions and forwarded requests through a real redis-server on
// loopback.
#include <catch2/catch.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <csignal>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include "cli/ws_client.hpp"
#include "support/campaigns.hpp"
#include "core/redis/redis_client.hpp"
#include "providers/fake/twilio_fake.hpp"
#include "providers/twilio/signature.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"
#include "support/eventually.hpp"
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
    // A connection to the shared Redis, to look at what the daemons keep there.
    std::unique_ptr<va::RedisConnection> redis_client() const {
        auto options = va::parse_redis_url(redis.url());
        REQUIRE(options);
        return std::make_unique<va::RedisConnection>(*options);
    }
};

// The live-session hash of a call as {field: value} (an empty object when there is none).
json live_hash(va::RedisConnection& redis, const std::string& call_id) {
    auto r = redis.command({"HGETALL", "va:live:" + call_id});
    REQUIRE(r);
    json out = json::object();
    for (std::size_t i = 0; i + 1 < r->elements.size(); i += 2) out[r->elements[i].str] = r->elements[i + 1].str;
    return out;
}

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

// The next `n` events of the stream as "type[:detail]", each checked to belong to `call_id` (analyses aside; an
// empty `call_id`: any call, for a caller that does not know the id yet).
std::vector<std::string> next_events(WsClient& events, const std::string& call_id, std::size_t n) {
    std::vector<std::string> out;
    while (out.size() < n) {
        auto text = events.read();
        REQUIRE(text);
        json e = json::parse(*text);
        // Post-call analysis runs as a job after the call, so its event may come in the middle of the next call's.
        if (e["type"] == "call:analysis") continue;
        INFO(e.dump());
        if (!call_id.empty()) CHECK(e["call_id"] == call_id);
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

    // The events up to the greeting, read on B before Redis dies.
    constexpr std::size_t kBeforeKill = 4;
    const std::vector<std::string> before(kChatCall.begin(), kChatCall.begin() + kBeforeKill);
    const std::vector<std::string> after_kill(kChatCall.begin() + kBeforeKill, kChatCall.end());
    std::vector<std::string> crossed;
    std::string id = chat_call(*p.a, p.key(), [&] {
        // Redis dies with the call live, once the events so far have crossed to B (read there, not waited for);
        // the caller's turn and the agent's answer happen while it is down (kill() returns once it has exited).
        crossed = next_events(*on_b, "", kBeforeKill);
        p.redis.kill();
    });
    CHECK(crossed == before);
    CHECK(a.get("/api/v1/calls/" + id).json()["end_reason"] == "agent_end_call");
    // A tried to pass the call's later events on while Redis was down: only then does it come back.
    REQUIRE(eventually([&] { return p.a->log().find("events: cannot append to Redis") != std::string::npos; },
                       std::chrono::seconds(30)));
    p.redis.start();
    // What A published while Redis was down was kept, and B reads on after the restart: the rest of the call, in
    // order.
    CHECK(next_events(*on_b, id, after_kill.size()) == after_kill);
    std::string after = chat_call(*p.a, p.key());
    CHECK(next_events(*on_b, after, kChatCall.size()) == kChatCall);
    CHECK(p.a->alive());
    CHECK(p.b->alive());
}

TEST_CASE("scale-out: login attempts are limited across daemons, not per daemon") {
    // A refill so slow that no token comes back during the test, however long each login takes on a busy machine.
    Pair p(Env{{"VOICEAGENT_AUTH_LOGIN_PER_MINUTE", "0.001"}});
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
    json ended;
    while (auto text = on_b->read()) {
        json e = json::parse(*text);
        if (e["call_id"] == id && e["type"] == "call:ended") {
            ended = e;
            break;
        }
    }
    REQUIRE(ended.is_object());
    // The reason is the instance monitor's, which B writes only for a daemon whose heartbeat lease has lapsed.
    CHECK(ended["data"]["reason"] == "interrupted: daemon daemon-a stopped during the call");
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

// A chat call on A, connected and waiting for the caller: its id and media socket.
struct LiveChat {
    std::string id;
    std::unique_ptr<WsClient> media;
};

LiveChat live_chat_on(const DaemonProcess& d, const std::string& key) {
    Api api(d.base_url(), key);
    auto created = api.post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "chat"}});
    REQUIRE(created.status == 201);
    LiveChat chat{created.json()["call"]["id"], nullptr};
    chat.media = std::make_unique<WsClient>(d.base_url() + created.json()["media_url"].get<std::string>(), key);
    REQUIRE(read_until(*chat.media, "listening").is_object());
    return chat;
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
    // The attempts in flight hold slots in Redis, and the dials go through the queue in Redis.
    auto redis = p.redis.pool();
    auto slots = [&] { return redis->command({"ZCARD", "va:slots:" + id})->integer; };
    CHECK(eventually([&] { return slots() > 0; }, std::chrono::seconds(20)));
    json done = wait_for_status(a, id, "completed", std::chrono::seconds(120));
    INFO(done.dump());
    // Each slot was released as its attempt ended: a lapsed one (lease 1.5 s) would still be a member.
    CHECK(eventually([&] { return slots() == 0; }, std::chrono::milliseconds(500)));
    CHECK(redis->command({"EXISTS", "va:jobs:stream:campaign.dial:10"})->integer == 1);
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
    options.script.hang_up_after_ms = 2000;
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
    // Kill A once it has a call of its own in progress (answered, not ended): that call is the one B must fail and
    // the retry policy must dial again. Counting A's calls alone let a kill land after all of them had ended.
    auto live_on_a = [&] {
        int n = 0;
        const json items = b.get("/api/v1/calls?campaign_id=" + id + "&limit=500").json()["items"];
        for (const auto& c : items)
            if (c["instance_id"] == "daemon-a" && c["ended_at"].is_null() && c["status"] == "in-progress") ++n;
        return n;
    };
    va::test::eventually([&] { return calls_per_daemon(b, id)["daemon-a"] >= 2 && live_on_a() >= 1; },
                         std::chrono::seconds(60));
    REQUIRE(live_on_a() >= 1);
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

TEST_CASE("scale-out: a hang-up sent to daemon B ends a chat call live on daemon A, its live session is in Redis meanwhile") {
    Pair p;
    p.add_agent();
    Api b(p.b->base_url(), p.key());
    auto redis = p.redis_client();

    auto created = Api(p.a->base_url(), p.key()).post("/api/v1/calls/local", {{"agent_id", "receptionist"}, {"channel", "chat"}});
    REQUIRE(created.status == 201);
    std::string id = created.json()["call"]["id"];
    CHECK(live_hash(*redis, id).empty());  // queued: no session yet
    WsClient media(p.a->base_url() + created.json()["media_url"].get<std::string>(), p.key());
    REQUIRE(read_until(media, "listening").is_object());

    // The session's hash names its daemon, and lapses three leases (4.5 s) after its last renewal.
    REQUIRE(eventually([&] { return !live_hash(*redis, id).empty(); }));
    json hash = live_hash(*redis, id);
    CHECK(hash["instance"] == "daemon-a");
    CHECK(hash["workspace_id"] == created.json()["call"]["workspace_id"]);
    CHECK(hash["channel"] == "chat");
    auto ttl = redis->command({"PTTL", "va:live:" + id});
    REQUIRE(ttl);
    CHECK(ttl->integer > 0);
    CHECK(ttl->integer <= 4500);
    // Renewed while the call lives: its time to live, which only falls between renewals, goes back up (read well
    // after a renewal, so the next one is sure to set it higher).
    auto live_ttl = [&] {
        auto r = redis->command({"PTTL", "va:live:" + id});
        return r ? r->integer : -3;
    };
    long long seen = 0;
    REQUIRE(eventually([&] { return (seen = live_ttl()) > 0 && seen < 4300; }));
    CHECK(eventually([&] { return live_ttl() > seen; }));
    CHECK(live_hash(*redis, id)["instance"] == "daemon-a");

    auto hung = b.post("/api/v1/calls/" + id + "/hangup", json::object());
    INFO(hung.body);
    CHECK(hung.status == 202);
    CHECK(hung.json()["status"] == "hanging up");
    CHECK(hung.json()["instance_id"] == "daemon-a");
    json end = read_until(media, "end");
    REQUIRE(end.is_object());
    CHECK(end["reason"] == "api_hangup");
    json stored = wait_for_call_until(b, id, [](const json& c) { return !c["ended_at"].is_null(); });
    CHECK(stored["status"] == "completed");
    CHECK(stored["end_reason"] == "api_hangup");
    CHECK(eventually([&] { return live_hash(*redis, id).empty(); }));

    // Once ended, a hang-up through either daemon says so.
    auto again = b.post("/api/v1/calls/" + id + "/hangup", json::object());
    CHECK(again.status == 409);
    CHECK(again.json()["error"]["message"] == "the call has already ended");
}

TEST_CASE("scale-out: a hang-up for a call whose daemon was killed answers a clear error within seconds") {
    // The forward waits far longer than the owner's presence lasts (3 s): the silence is what ends the wait.
    Pair p(Env{{"VOICEAGENT_REDIS_FORWARD_TIMEOUT_MS", "60000"}});
    p.add_agent();
    Api b(p.b->base_url(), p.key());
    auto redis = p.redis_client();
    std::string id;
    {
        LiveChat chat = live_chat_on(*p.a, p.key());
        id = chat.id;
        REQUIRE(eventually([&] { return !live_hash(*redis, id).empty(); }));
        p.a->stop(SIGKILL);
    }
    // 503: the owner is not there (503 is "not answering" or "stopped answering"; 504 would be a timeout).
    auto hung = b.post("/api/v1/calls/" + id + "/hangup", json::object());
    INFO(hung.body);
    CHECK(hung.status == 503);
    CHECK(hung.json()["error"]["message"].get<std::string>().find("daemon daemon-a") != std::string::npos);
    // After A's lease (1.5 s) B fails the call, and a hang-up finds it ended.
    json stored = wait_for_call_until(b, id, [](const json& c) { return !c["ended_at"].is_null(); });
    CHECK(stored["status"] == "failed");
    CHECK(b.post("/api/v1/calls/" + id + "/hangup", json::object()).status == 409);
    CHECK(p.b->alive());
}

TEST_CASE("scale-out: transfer requests are checked on whichever daemon gets them") {
    Pair p;
    p.add_agent();
    Api a(p.a->base_url(), p.key());
    Api b(p.b->base_url(), p.key());
    LiveChat chat = live_chat_on(*p.a, p.key());
    std::string path = "/api/v1/calls/" + chat.id + "/transfer";

    auto missing = b.post(path, json::object());
    CHECK(missing.status == 400);
    CHECK(missing.names_field("to"));
    for (const json& to : {json("5551234567"), json("+1555abc4567"), json("+"), json("+0123456"),
                           json("+1234567890123456"), json(15551234567)}) {
        auto bad = b.post(path, {{"to", to}});
        INFO(to.dump() << " -> " << bad.body);
        CHECK(bad.status == 400);
        CHECK(bad.names_field("to"));
    }
    auto extra = b.post(path, {{"to", "+15551234567"}, {"reason", "escalation"}});
    CHECK(extra.status == 400);
    CHECK(extra.names_field("reason"));
    CHECK(b.raw("POST", path, "to=%2B15551234567", "application/x-www-form-urlencoded").status == 415);
    CHECK(b.post("/api/v1/calls/call_nosuch/transfer", {{"to", "+15551234567"}}).status == 404);
    std::string viewer = create_user_token(*p.a, a, "viewer@example.com", "viewer");
    CHECK(Api(p.b->base_url(), viewer).post(path, {{"to", "+15551234567"}}).status == 403);

    // Well-formed, but a chat call has no carrier to hand it to; vactl says why and fails.
    auto chat_transfer = b.post(path, {{"to", "+15551234567"}});
    CHECK(chat_transfer.status == 422);
    CHECK(chat_transfer.json()["error"]["message"].get<std::string>().find("chat call") != std::string::npos);
    auto vactl = run_vactl({"--server", p.b->base_url(), "--token", p.key(), "calls", "transfer", chat.id, "+15551234567"});
    CHECK(vactl.exit_code != 0);
    CHECK(vactl.err.find("chat call") != std::string::npos);

    REQUIRE(b.post("/api/v1/calls/" + chat.id + "/hangup", json::object()).status == 202);
    REQUIRE(read_until(*chat.media, "end").is_object());
    wait_for_call_until(b, chat.id, [](const json& c) { return !c["ended_at"].is_null(); });
    CHECK(b.post(path, {{"to", "+15551234567"}}).status == 409);
}

namespace {

// Two daemons with one Twilio account (the fake), the receptionist answering +15550001111 with simulated
// recognition, and inbound calls reaching daemon A.
struct TwilioPair {
    va::fake::TwilioFake fake{va::fake::TwilioFake::Options{}};
    Pair p{{{"VOICEAGENT_TWILIO_ACCOUNT_SID", fake.options().account_sid},
            {"VOICEAGENT_TWILIO_AUTH_TOKEN", fake.options().auth_token},
            {"VOICEAGENT_TWILIO_API_BASE_URL", fake.base_url()}}};
    Api a{p.a->base_url(), p.key()};
    Api b{p.b->base_url(), p.key()};

    TwilioPair() {
        json agent = example_agent("receptionist.json");
        agent["stt"] = {{"provider", "scripted"}, {"script", json::array()}, {"endpointing_ms", 500}};
        auto created = a.post("/api/v1/agents", agent);
        REQUIRE(created.status == 201);
        REQUIRE(a.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"},
                                          {"agent_id", created.json()["id"]}})
                    .status == 201);
    }
    // An inbound call answered by A whose caller stays quiet on the line; its SID and call id once in progress.
    std::pair<std::string, std::string> live_call() {
        va::fake::CallerScript script;
        script.turns.push_back({{}, "1", -1, 15000});  // a key press, long after: the caller just listens
        auto sid = fake.place_inbound(p.a->base_url() + "/api/v1/webhooks/twilio/voice", "+15557654321", "+15550001111",
                                      script);
        REQUIRE(sid);
        json call;
        REQUIRE(eventually([&] {
            call = call_by_provider_id(a, *sid);
            return call.is_object() && call["status"] == "in-progress";
        }, std::chrono::seconds(10)));
        return {*sid, call["id"].get<std::string>()};
    }
};

}  // namespace

TEST_CASE("scale-out: a Twilio call live on daemon A is transferred through daemon B") {
    TwilioPair t;
    auto [sid, id] = t.live_call();
    auto moved = t.b.post("/api/v1/calls/" + id + "/transfer", {{"to", "+15551234567"}});
    INFO(moved.body);
    CHECK(moved.status == 202);
    CHECK(moved.json()["status"] == "transferring");
    CHECK(moved.json()["instance_id"] == "daemon-a");
    auto call = t.fake.wait_for_end(sid, std::chrono::seconds(10));
    REQUIRE(call);
    CHECK(call->transferred_to == "+15551234567");
    json stored = wait_for_call_until(t.b, id, [](const json& c) { return !c["ended_at"].is_null(); });
    CHECK(stored["end_reason"] == "transferred:+15551234567");
}

TEST_CASE("scale-out: Twilio's status callback for a call live on A, sent to B, ends A's session with Twilio's figures") {
    TwilioPair t;
    auto [sid, id] = t.live_call();
    std::string path = "/api/v1/webhooks/twilio/status/" + id;
    va::twilio::Params params{{"CallSid", sid}, {"CallStatus", "completed"}, {"CallDuration", "7"}};
    std::string signature = va::twilio::signature(t.fake.options().auth_token, t.p.b->base_url() + path, params);
    auto answered = Api(t.p.b->base_url())
                        .with_header("X-Twilio-Signature", signature)
                        .raw("POST", path, "CallSid=" + sid + "&CallStatus=completed&CallDuration=7",
                             "application/x-www-form-urlencoded");
    INFO(answered.body);
    CHECK(answered.status == 204);
    // A's session ended at once (long before the caller's key press), with the carrier's status and duration.
    auto call = t.fake.wait_for_end(sid, std::chrono::seconds(10));
    REQUIRE(call);
    CHECK(call->caller.ended_by != "caller");
    json stored = wait_for_call_until(t.b, id, [](const json& c) { return !c["ended_at"].is_null(); });
    CHECK(stored["status"] == "completed");
    CHECK(stored["end_reason"] == "caller_hangup");
    CHECK(stored["duration_s"].get<double>() == 7.0);
}

namespace {

// A loopback port free now (bound, read, released), for a daemon whose URLs must name its port before it starts.
int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd >= 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    ::close(fd);
    return ntohs(addr.sin_port);
}

}  // namespace

TEST_CASE("scale-out: carriers get the URL of the daemon that runs the call, not the shared one") {
    va::fake::TwilioFake fake{va::fake::TwilioFake::Options{}};
    RedisServer redis;
    std::string shared = make_temp_dir("va-scale-url");
    std::string port_a = std::to_string(free_port()), port_b = std::to_string(free_port());
    // Both daemons share one public URL, as behind a load balancer (here it is B's address); each has its own.
    auto env = [&](const std::string& instance, const std::string& port) {
        return Env{{"VOICEAGENT_STORAGE_SQLITE_PATH", shared + "/voiceagent.db"},
                   {"VOICEAGENT_AUTH_JWT_SECRET", "a-secret-shared-by-every-daemon-0123456789"},
                   {"VOICEAGENT_REDIS_URL", redis.url()},
                   {"VOICEAGENT_SERVER_INSTANCE_ID", instance},
                   {"VOICEAGENT_SERVER_PUBLIC_BASE_URL", "http://127.0.0.1:" + port_b},
                   {"VOICEAGENT_SERVER_INSTANCE_URL", "http://127.0.0.1:" + port},
                   {"VOICEAGENT_TWILIO_ACCOUNT_SID", fake.options().account_sid},
                   {"VOICEAGENT_TWILIO_AUTH_TOKEN", fake.options().auth_token},
                   {"VOICEAGENT_TWILIO_API_BASE_URL", fake.base_url()}};
    };
    auto a = std::make_unique<DaemonProcess>(env("daemon-a", port_a), std::vector<std::string>{"--listen", "127.0.0.1:" + port_a});
    auto b = std::make_unique<DaemonProcess>(env("daemon-b", port_b), std::vector<std::string>{"--listen", "127.0.0.1:" + port_b});
    Api api_a(a->base_url(), a->admin_key());
    json agent = example_agent("receptionist.json");
    agent["stt"] = {{"provider", "scripted"}, {"script", json::array()}, {"endpointing_ms", 500}};
    auto created = api_a.post("/api/v1/agents", agent);
    REQUIRE(created.status == 201);
    REQUIRE(api_a.post("/api/v1/phones", {{"number", "+15550001111"}, {"provider", "twilio"},
                                          {"agent_id", created.json()["id"]}})
                .status == 201);

    // An outbound call placed by A: Twilio is told to stream to A and call A back, not the shared URL.
    auto placed = api_a.post("/api/v1/calls/outbound", {{"agent_id", "receptionist"}, {"to", "+15557654321"},
                                                         {"from", "+15550001111"}});
    INFO(placed.body);
    REQUIRE(placed.status == 202);
    std::string sid = placed.json()["call"]["provider_call_id"];
    auto call = fake.wait_for_end(sid, std::chrono::seconds(30));
    REQUIRE(call);
    auto twiml = va::fake::parse_twiml(call->instructions);
    CHECK(twiml.url == "ws://127.0.0.1:" + port_a + "/media/twilio/" + placed.json()["call"]["id"].get<std::string>());
    CHECK(call->caller.violations.empty());
    // Every status callback reached A and passed its signature check, signed for A's own URL.
    CHECK(call->statuses_sent.back() == "completed");
    for (int answer : call->callback_answers) CHECK(answer == 204);
    json stored = api_a.get("/api/v1/calls/" + placed.json()["call"]["id"].get<std::string>()).json();
    CHECK(stored["instance_id"] == "daemon-a");

    // A number's webhook still works at the shared URL (Twilio signs that URL), here answered by B.
    va::fake::CallerScript script;
    script.turns.push_back({{}, "", -1, 300});
    auto inbound = fake.place_inbound("http://127.0.0.1:" + port_b + "/api/v1/webhooks/twilio/voice", "+15557654321",
                                      "+15550001111", script);
    REQUIRE(inbound);
    auto answered = fake.wait_for_end(*inbound, std::chrono::seconds(30));
    REQUIRE(answered);
    INFO("inbound instructions: " << answered->instructions);
    CHECK(va::fake::parse_twiml(answered->instructions).url.rfind("ws://127.0.0.1:" + port_b + "/media/twilio/", 0) == 0);
    b.reset();
    a.reset();
    std::filesystem::remove_all(shared);
}
