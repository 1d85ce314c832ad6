// Campaigns end to end against the Twilio fake: contacts imported from CSV (bad rows reported by line), scripted
// outcomes per number (answer, busy, no-answer, failed) settled by the retry policy, the concurrency limit checked by
// the fake (which counts simultaneous calls), the do-not-call list, calling windows, pause/resume/cancel, and a
// daemon killed with SIGKILL mid-campaign that, started again, loses no contact and dials none twice per attempt.
#include <catch2/catch.hpp>

#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <thread>

#include "core/store/store.hpp"
#include "core/util/time.hpp"
#include "providers/fake/twilio_fake.hpp"
#include "support/campaigns.hpp"
#include "support/daemon_process.hpp"
#include "support/eventually.hpp"
#include "support/fixtures.hpp"

using namespace va::test;
using va::fake::CallerScript;
using va::fake::TwilioFake;
using nlohmann::json;

TEST_CASE("campaigns: 200 contacts with scripted outcomes finish with the right attempts, never over the limit") {
    TwilioFake fake(fake_options());
    DaemonProcess daemon(daemon_env(fake));
    Api api(daemon.base_url(), daemon.admin_key());
    add_agent(api);

    // Per number, what each successive call does; max 3 attempts, retried on busy, no-answer and failed.
    std::map<std::string, std::vector<std::string>> outcomes;
    std::map<std::string, std::pair<std::string, int>> expected;  // number -> final state, attempts
    std::string csv = "phone,first_name,plan\n";
    for (int i = 0; i < 200; ++i) {
        std::string n = number(i);
        csv += n + ",Person" + std::to_string(i) + ",gold\n";
        switch (i % 10) {
            case 0: outcomes[n] = {"answer"}; expected[n] = {"done", 1}; break;       // a real media call
            case 1: case 2: case 3: outcomes[n] = {"completed"}; expected[n] = {"done", 1}; break;
            case 4: outcomes[n] = {"busy", "completed"}; expected[n] = {"done", 2}; break;
            case 5: outcomes[n] = {"no-answer"}; expected[n] = {"failed", 3}; break;
            case 6: outcomes[n] = {"failed", "busy", "completed"}; expected[n] = {"done", 3}; break;
            case 7: outcomes[n] = {"no-answer", "completed"}; expected[n] = {"done", 2}; break;
            case 8: outcomes[n] = {"busy"}; expected[n] = {"failed", 3}; break;
            default: outcomes[n] = {"completed"}; expected[n] = {"done", 1}; break;
        }
    }
    // Bad rows are reported by line without rejecting the good ones; a duplicate is merged.
    csv += "not-a-number,Bad,gold\n";       // line 202
    csv += number(1) + ",Again,platinum\n";  // line 203: merged into line 3
    csv += "+1,Short,gold\n";               // line 204
    fake.set_outcomes("completed", outcomes);

    // One number is on the do-not-call list: it is never dialled.
    const std::string blocked = number(199);
    REQUIRE(api.post("/api/v1/dnc", {{"phone", blocked}, {"reason", "asked not to be called"}}).status == 201);
    expected[blocked] = {"dnc", 0};

    json campaign = create_campaign(api, {{"concurrency", 8},
                                          {"retry", {{"max_attempts", 3}, {"backoff_s", 1}, {"on", {"busy", "no-answer", "failed"}}}}});
    std::string id = campaign["id"];
    json imported = import_csv(api, id, csv);
    CHECK(imported["added"] == 200);
    CHECK(imported["duplicates"] == 1);
    REQUIRE(imported["errors"].size() == 2);
    CHECK(imported["errors"][0]["line"] == 202);
    CHECK(imported["errors"][1]["line"] == 204);

    fake.reset_max_active();
    auto started = api.post("/api/v1/campaigns/" + id + "/start", json::object());
    INFO(started.body);
    REQUIRE(started.status == 200);
    json done = wait_for_status(api, id, "completed", std::chrono::seconds(170));
    INFO(done.dump());

    // The fake saw at most the limit at once, and the campaign did use it.
    CHECK(fake.max_active_calls() <= 8);
    CHECK(fake.max_active_calls() >= 4);
    auto dialled = dials_per_number(fake);
    int total_attempts = 0;
    for (const json& c : all_contacts(api, id)) {
        std::string n = c["phone"];
        INFO(n << " " << c.dump());
        CHECK(c["state"] == expected[n].first);
        CHECK(c["attempts"] == expected[n].second);
        CHECK(dialled[n] == expected[n].second);  // each attempt dialled exactly once
        total_attempts += c["attempts"].get<int>();
        if (n == number(1)) CHECK(c["variables"] == json{{"first_name", "Again"}, {"plan", "platinum"}});
    }
    CHECK(done["counts"]["done"] == 159);    // eight outcome plans in ten end answered; one number is on the list
    CHECK(done["counts"]["failed"] == 40);
    CHECK(done["counts"]["dnc"] == 1);
    CHECK(done["attempts"] == total_attempts);
    CHECK(done["eta_s"] == 0);

    // Each attempt is a call of the campaign; an answered one greeted the person by the name in the CSV.
    auto calls = api.get("/api/v1/calls?campaign_id=" + id + "&limit=500");
    REQUIRE(calls.status == 200);
    const json items = calls.json()["items"];
    CHECK(int(items.size()) == total_attempts);
    bool greeted = false;
    for (const auto& call : items) {
        if (call["to"] != number(10) || call["status"] != "completed") continue;
        auto turns = turn_texts(api, call["id"]);
        REQUIRE(!turns.empty());
        CHECK(turns[0] == "agent: Hi Person10.");
        greeted = true;
    }
    CHECK(greeted);
}

namespace {

// A directory of the test's own, removed at the end whatever the outcome.
struct TempDir {
    std::string path = make_temp_dir("va-campaign-test");
    ~TempDir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
};

// Writes `text` to `path` at once (a temporary file renamed over it), so the daemon never reads half of it.
void write_atomically(const std::string& path, const std::string& text) {
    std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << text;
    }
    std::filesystem::rename(tmp, path);
}

// The contact with `phone`; null when there is none.
json contact_of(const Api& api, const std::string& id, const std::string& phone) {
    for (const json& c : all_contacts(api, id))
        if (c["phone"] == phone) return c;
    return nullptr;
}

// Polls the campaign's progress until `done` holds for it (about 30 s at most); the last answer.
template <class P>
json wait_for_progress(const Api& api, const std::string& id, P done) {
    json p;
    eventually([&] { return done(p = progress(api, id)); }, std::chrono::seconds(30));
    return p;
}

// How many calls the carrier was asked to place to any number but those in `except`.
std::size_t dials_except(const TwilioFake& fake, const std::set<std::string>& except) {
    std::size_t n = 0;
    for (const auto& c : fake.calls()) n += except.count(c.to) == 0;
    return n;
}

// A one-contact campaign to `phone`, started, and waited for until the carrier is asked to call it: the daemon's
// dispatcher has looked at its campaigns and its job queue has run a dial since this was called. What another
// campaign did not dial by then, it did not dial at a moment that counted.
void dial_through_another_campaign(const Api& api, const TwilioFake& fake, const std::string& phone) {
    std::string other = create_campaign(api, {{"concurrency", 1}})["id"];
    import_csv(api, other, "phone\n" + phone + "\n");
    REQUIRE(api.post("/api/v1/campaigns/" + other + "/start", json::object()).status == 200);
    REQUIRE(eventually([&] { return dials_per_number(fake)[phone] == 1; }, std::chrono::seconds(30)));
}

}  // namespace

TEST_CASE("campaigns: a contact outside its calling window waits for the window, in its own time zone") {
    TwilioFake fake(fake_options());
    // The campaign runner's clock is the wall clock plus the milliseconds in this file (a test-only hook of the
    // daemon): the test moves it to the window's opening rather than wait for the hour.
    TempDir dir;
    const std::string clock_file = dir.path + "/campaign-clock";
    write_atomically(clock_file, "0");
    Env env = daemon_env(fake);
    env["VOICEAGENT_TEST_CAMPAIGN_CLOCK_FILE"] = clock_file;
    DaemonProcess daemon(env);
    Api api(daemon.base_url(), daemon.admin_key());
    add_agent(api);
    fake.set_outcomes("completed", {});

    // The window opens two hours from now (UTC, on a whole minute) and lasts an hour, so now is outside it today
    // and was yesterday. A second contact lives at UTC+14, where the same hours are half a day away.
    std::time_t now = std::time(nullptr);
    std::time_t open = (now / 60 + 120) * 60;
    auto hhmm = [](std::time_t t) {
        std::tm tm{};
        gmtime_r(&t, &tm);
        char buf[8];
        std::snprintf(buf, sizeof buf, "%02d:%02d", tm.tm_hour, tm.tm_min);
        return std::string(buf);
    };
    json campaign = create_campaign(api, {{"concurrency", 2},
                                          {"window", {{"start", hhmm(open)}, {"end", hhmm(open + 3600)}, {"timezone", "UTC"}}}});
    std::string id = campaign["id"];
    import_csv(api, id, "phone,timezone\n" + number(1) + ",\n" + number(2) + ",Pacific/Kiritimati\n");
    REQUIRE(api.post("/api/v1/campaigns/" + id + "/start", json::object()).status == 200);

    // Before the window: the dispatcher looks at each contact and sends it back to wait for its own window (the
    // time it set, next_attempt_at, shows it looked), counting no attempt and dialling nobody. The UTC contact
    // waits for today's opening. The UTC+14 one's window opens at the same wall-clock hours in its zone, 14 hours
    // earlier in UTC: today's opened 12 hours ago and closed an hour later, so it waits for tomorrow's, 10 hours
    // after the UTC one.
    const std::string utc_open = va::format_rfc3339(std::int64_t(open) * 1000);
    const std::string kiritimati_open = va::format_rfc3339(std::int64_t(open + 10 * 3600) * 1000);
    REQUIRE(eventually([&] {
        return contact_of(api, id, number(1))["next_attempt_at"] == utc_open &&
               contact_of(api, id, number(2))["next_attempt_at"] == kiritimati_open;
    }, std::chrono::seconds(30)));
    CHECK(fake.calls().empty());
    for (const json& c : all_contacts(api, id)) {
        INFO(c.dump());
        CHECK(c["state"] == "pending");
        CHECK(c["attempts"] == 0);
    }

    // The runner's clock reaches the opening (and goes on from there with the wall clock): the UTC contact is
    // called. The UTC+14 one keeps waiting: the look that found the first one due did not find it due.
    write_atomically(clock_file, std::to_string(std::int64_t(open) * 1000 - va::now_ms()));
    REQUIRE(eventually([&] { return dials_per_number(fake)[number(1)] == 1; }, std::chrono::seconds(30)));
    CHECK(dials_per_number(fake)[number(2)] == 0);
    json waiting = contact_of(api, id, number(2));
    INFO(waiting.dump());
    CHECK(waiting["state"] == "pending");
    CHECK(waiting["attempts"] == 0);
    CHECK(waiting["next_attempt_at"] == kiritimati_open);
    CHECK(progress(api, id)["status"] == "running");
}

TEST_CASE("campaigns: pause stops new dials at once, resume goes on, cancel ends it with campaign:finished") {
    TwilioFake::Options options = fake_options();
    options.script.hang_up_after_ms = 1500;  // calls last a while, so there is always one in flight
    TwilioFake fake(options);
    DaemonProcess daemon(daemon_env(fake));
    Api api(daemon.base_url(), daemon.admin_key());
    add_agent(api);
    fake.set_outcomes("answer", {});
    // Numbers of the one-contact campaigns that show the daemon has gone on dialling since a pause or a cancel.
    const std::string after_pause = number(100), after_cancel = number(101);
    auto campaign_dials = [&] { return dials_except(fake, {after_pause, after_cancel}); };

    json campaign = create_campaign(api, {{"concurrency", 2}});
    std::string id = campaign["id"];
    std::string csv = "phone\n";
    for (int i = 0; i < 30; ++i) csv += number(i) + "\n";
    import_csv(api, id, csv);
    // Not before it is started; not twice.
    REQUIRE(api.post("/api/v1/campaigns/" + id + "/pause", json::object()).status == 409);
    REQUIRE(api.post("/api/v1/campaigns/" + id + "/start", json::object()).status == 200);
    CHECK(api.post("/api/v1/campaigns/" + id + "/start", json::object()).status == 409);

    REQUIRE(eventually([&] { return fake.calls().size() >= 3; }, std::chrono::seconds(30)));
    auto paused = api.post("/api/v1/campaigns/" + id + "/pause", json::object());
    REQUIRE(paused.status == 200);
    CHECK(paused.json()["status"] == "paused");
    // A dial that passed its status check just before the pause may still reach the carrier; none after it. Once
    // nothing is dialing, those calls have ended, and any dial job still queued finds the campaign paused.
    json p = wait_for_progress(api, id, [](const json& q) { return q["counts"]["dialing"] == 0; });
    REQUIRE(p["counts"]["dialing"] == 0);
    std::size_t at_pause = campaign_dials();
    dial_through_another_campaign(api, fake, after_pause);
    CHECK(campaign_dials() == at_pause);
    CHECK(progress(api, id)["counts"]["dialing"] == 0);

    REQUIRE(api.post("/api/v1/campaigns/" + id + "/resume", json::object()).status == 200);
    CHECK(eventually([&] { return campaign_dials() >= at_pause + 2; }, std::chrono::seconds(30)));

    auto canceled = api.post("/api/v1/campaigns/" + id + "/cancel", json::object());
    REQUIRE(canceled.status == 200);
    CHECK(canceled.json()["status"] == "canceled");
    // Calls in flight finish; the rest are canceled, never dialled.
    p = wait_for_progress(api, id, [](const json& q) { return q["counts"]["dialing"] == 0; });
    CHECK(p["counts"]["dialing"] == 0);
    std::size_t at_cancel = campaign_dials();
    dial_through_another_campaign(api, fake, after_cancel);
    CHECK(campaign_dials() == at_cancel);
    p = progress(api, id);
    INFO(p.dump());
    CHECK(p["counts"]["canceled"].get<int>() + p["counts"]["done"].get<int>() + p["counts"]["failed"].get<int>() == 30);
    CHECK(p["counts"]["canceled"].get<int>() >= 20);
    // Each contact was dialled once per attempt it counts: none while paused or after the cancel.
    auto dialled = dials_per_number(fake);
    for (const json& c : all_contacts(api, id)) {
        INFO(c.dump());
        CHECK(dialled[c["phone"]] == c["attempts"].get<int>());
    }
    CHECK(api.post("/api/v1/campaigns/" + id + "/resume", json::object()).status == 409);
}

TEST_CASE("campaigns: SIGKILL mid-campaign loses no contact and dials none twice for one attempt") {
    TwilioFake::Options options = fake_options();
    options.script.hang_up_after_ms = 600;
    TwilioFake fake(options);
    std::string dir = make_temp_dir("va-campaign-kill");
    std::string id;
    {
        DaemonProcess daemon(daemon_env(fake), {}, dir);
        Api api(daemon.base_url(), daemon.admin_key());
        add_agent(api);
        fake.set_outcomes("answer", {});
        json campaign = create_campaign(api, {{"concurrency", 4},
                                              {"retry", {{"max_attempts", 3}, {"backoff_s", 0}, {"on", {"failed"}}}}});
        id = campaign["id"];
        std::string csv = "phone\n";
        for (int i = 0; i < 40; ++i) csv += number(i) + "\n";
        import_csv(api, id, csv);
        REQUIRE(api.post("/api/v1/campaigns/" + id + "/start", json::object()).status == 200);
        REQUIRE(eventually([&] { return fake.calls().size() >= 10; }, std::chrono::seconds(60)));
        daemon.stop(SIGKILL);
    }
    // The fake notices the dead streams (so the restarted daemon's calls are not counted beside them); the
    // restarted daemon fails the interrupted calls and goes on.
    REQUIRE(eventually([&] { return fake.active_calls() == 0; }, std::chrono::seconds(30)));
    DaemonProcess daemon(daemon_env(fake), {}, dir);
    Api api(daemon.base_url(), daemon.admin_key());
    json done = wait_for_status(api, id, "completed", std::chrono::seconds(120));
    INFO(done.dump());
    CHECK(done["counts"]["pending"] == 0);
    CHECK(done["counts"]["dialing"] == 0);
    CHECK(done["counts"]["done"].get<int>() + done["counts"]["failed"].get<int>() == 40);
    CHECK(done["counts"]["done"].get<int>() >= 36);
    auto dialled = dials_per_number(fake);
    int interrupted = 0;
    for (const json& c : all_contacts(api, id)) {
        INFO(c.dump());
        // Never twice for one attempt. An attempt the kill cut off between storing its call and asking the carrier
        // was not dialled at all (it counts, and is tried again).
        int attempts = c["attempts"].get<int>();
        CHECK(dialled[c["phone"]] <= attempts);
        CHECK(dialled[c["phone"]] >= attempts - 1);
        if (attempts > 1) ++interrupted;
    }
    CHECK(interrupted >= 1);  // the calls the kill cut off were tried again
    CHECK(fake.max_active_calls() <= 4);
    std::filesystem::remove_all(dir);
}

TEST_CASE("campaigns: contacts claimed by a daemon killed before it queued their dials are dialled after the restart") {
    TwilioFake fake(fake_options());
    fake.set_outcomes("answer", {});
    std::string dir = make_temp_dir("va-campaign-orphans");
    std::string id;
    {
        DaemonProcess daemon(daemon_env(fake), {}, dir);
        Api api(daemon.base_url(), daemon.admin_key());
        add_agent(api);
        id = create_campaign(api, {{"concurrency", 3}})["id"];
        import_csv(api, id, "phone\n" + number(1) + "\n" + number(2) + "\n" + number(3) + "\n" + number(4) + "\n");
        REQUIRE(daemon.stop() == 0);
    }
    {
        // What the dispatcher's first step leaves when the daemon dies right after it: the campaign running and
        // three contacts claimed (dialing, attempt 1) with no dial job queued for them.
        auto store = va::open_sqlite_store({dir + "/voiceagent.db"});
        REQUIRE(store);
        auto now = std::int64_t(std::time(nullptr)) * 1000;
        REQUIRE((*store)->transition_campaign(id, {"draft"}, "running", now));
        auto claimed = (*store)->claim_campaign_contacts(id, 3, now, 3);
        REQUIRE(claimed);
        REQUIRE(claimed->size() == 3);
    }
    DaemonProcess daemon(daemon_env(fake), {}, dir);
    Api api(daemon.base_url(), daemon.admin_key());
    json done = wait_for_status(api, id, "completed", std::chrono::seconds(60));
    INFO(done.dump());
    CHECK(done["counts"]["done"] == 4);
    CHECK(done["attempts"] == 4);
    auto dialled = dials_per_number(fake);
    for (int i = 1; i <= 4; ++i) CHECK(dialled[number(i)] == 1);
    std::filesystem::remove_all(dir);
}

TEST_CASE("campaigns: bad input gets clear errors") {
    TwilioFake fake(fake_options());
    DaemonProcess daemon(daemon_env(fake));
    Api api(daemon.base_url(), daemon.admin_key());
    add_agent(api);
    auto bad = [&](const json& body, const std::string& field) {
        json full{{"name", "x"}, {"agent_id", "reminder"}, {"from", "+15550001111"}};
        full.update(body);
        auto r = api.post("/api/v1/campaigns", full);
        INFO(r.body);
        CHECK(r.status == 400);
        CHECK(r.names_field(field));
    };
    bad(json{{"concurrency", 0}}, "concurrency");
    bad(json{{"concurrency", "many"}}, "concurrency");
    bad(json{{"window", {{"start", "25:00"}}}}, "window.start");
    bad(json{{"window", {{"timezone", "Mars/Olympus"}}}}, "window.timezone");
    bad(json{{"window", {{"days", json::array({"someday"})}}}}, "window.days[0]");
    bad(json{{"retry", {{"on", json::array({"answered"})}}}}, "retry.on[0]");
    bad(json{{"retry", {{"max_attempts", 0}}}}, "retry.max_attempts");
    bad(json{{"surprise", 1}}, "surprise");
    bad(json{{"agent_id", "nobody"}}, "agent_id");
    bad(json{{"from", "+19999999999"}}, "from");

    json campaign = create_campaign(api, {});
    std::string id = campaign["id"];
    CHECK(api.post("/api/v1/campaigns/" + id + "/start", json::object()).status == 409);  // no contacts yet
    auto no_phone = api.raw("POST", "/api/v1/campaigns/" + id + "/contacts", "name,city\nAnn,Oslo\n", "text/csv");
    CHECK(no_phone.status == 400);
    auto wrong_type = api.raw("POST", "/api/v1/campaigns/" + id + "/contacts", "phone\n+14155550100\n", "text/plain");
    CHECK(wrong_type.status == 415);
    auto broken = api.raw("POST", "/api/v1/campaigns/" + id + "/contacts", "[{\"phone\": ", "application/json");
    CHECK(broken.status == 400);
    auto json_rows = api.raw("POST", "/api/v1/campaigns/" + id + "/contacts",
                             R"([{"phone": "+14155550100", "first_name": "Ann"}, {"phone": 5}])", "application/json");
    REQUIRE(json_rows.status == 200);
    CHECK(json_rows.json()["added"] == 1);
    CHECK(json_rows.json()["errors"][0]["line"] == 2);
    CHECK(api.post("/api/v1/dnc", {{"phone", "12"}}).status == 400);
    CHECK(api.get("/api/v1/campaigns/cmp_nope").status == 404);
    CHECK(api.get("/api/v1/campaigns/" + id + "/contacts?state=weird").status == 400);

    // A retried create with the same Idempotency-Key gets the first campaign back, and makes no second one; the
    // key space is the campaigns' own, so the same key on an outbound call is another request.
    auto keyed = api.with_header("Idempotency-Key", "spring-2027");
    json body{{"name", "spring"}, {"agent_id", "reminder"}, {"from", "+15550001111"}};
    auto first = keyed.post("/api/v1/campaigns", body);
    REQUIRE(first.status == 201);
    auto again = keyed.post("/api/v1/campaigns", body);
    REQUIRE(again.status == 201);
    CHECK(again.json()["id"] == first.json()["id"]);
    CHECK(again.headers["idempotent-replayed"] == "true");
    CHECK(api.get("/api/v1/campaigns").json()["items"].size() == 2);
    auto too_long = api.with_header("Idempotency-Key", std::string(201, 'k')).post("/api/v1/campaigns", body);
    CHECK(too_long.status == 400);
    CHECK(too_long.names_field("Idempotency-Key"));
}
