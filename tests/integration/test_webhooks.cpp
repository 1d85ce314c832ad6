// Outbound webhooks end to end: a local receiver (allowlisted, as an operator would) gets signed call:started and
// call:ended deliveries, which are retried while it fails, survive a daemon killed with SIGKILL, and are logged per
// endpoint; endpoints at private or metadata addresses are refused.
#include <catch2/catch.hpp>

#include <algorithm>
#include <ctime>
#include <filesystem>
#include <mutex>
#include <thread>

#include "core/util/encoding.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"
#include "support/http_capture_server.hpp"

using namespace va::test;
using nlohmann::json;

namespace {

// A receiver that checks each delivery's signature with the secret it is given, and fails the first `fail_first`.
struct Receiver {
    std::mutex mutex;
    std::string secret;
    int fail_first = 0;
    int requests = 0;
    std::vector<std::string> accepted;   // event types answered 200
    std::vector<std::string> problems;   // bad signatures or shapes
    HttpCaptureServer server;            // last: stopped before the members its handler uses are destroyed

    Receiver() {
        server.route("POST", "/hook", [this](const httplib::Request& req, httplib::Response& res) {
            std::lock_guard lock(mutex);
            ++requests;
            std::string header = req.get_header_value("X-Voiceagent-Signature");
            auto comma = header.find(",v1=");
            if (header.rfind("t=", 0) != 0 || comma == std::string::npos) {
                problems.push_back("malformed signature header: " + header);
            } else {
                std::string t = header.substr(2, comma - 2);
                std::string expected = va::hex_encode(va::hmac_sha256(secret, t + "." + req.body));
                if (header.substr(comma + 4) != expected) problems.push_back("bad signature");
                if (std::abs(std::stoll(t) - std::time(nullptr)) > 300) problems.push_back("stale timestamp");
            }
            json body = json::parse(req.body, nullptr, false);
            if (!body.is_object() || body.value("type", "") != req.get_header_value("X-Voiceagent-Event"))
                problems.push_back("body and X-Voiceagent-Event disagree");
            if (requests <= fail_first) {
                res.status = 503;
                return;
            }
            accepted.push_back(body.value("type", ""));
            res.status = 200;
        });
        server.route("POST", "/broken", [](const httplib::Request&, httplib::Response& res) { res.status = 500; });
        server.start();
    }
    std::string url(const std::string& path) const { return server.url(path); }
    int count(const std::string& type) {
        std::lock_guard lock(mutex);
        return int(std::count(accepted.begin(), accepted.end(), type));
    }
};

const Env kEnv{{"VOICEAGENT_TOOLS_ALLOWED_NETWORKS", "127.0.0.1"},
               {"VOICEAGENT_JOBS_BACKOFF_BASE_MS", "100"},
               {"VOICEAGENT_JOBS_BACKOFF_MAX_MS", "400"},
               {"VOICEAGENT_JOBS_LEASE_MS", "2000"},
               {"VOICEAGENT_WEBHOOKS_MAX_ATTEMPTS", "4"}};

template <class P>
bool eventually(P pred, int seconds = 20) {
    for (int i = 0; i < seconds * 20; ++i) {
        if (pred()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return pred();
}

}  // namespace

TEST_CASE("webhooks: signed deliveries are retried while the receiver fails, and logged per endpoint") {
    Receiver receiver;
    receiver.fail_first = 3;
    DaemonProcess d{kEnv};
    Api api(d.base_url(), d.admin_key());
    REQUIRE(api.post("/api/v1/agents", example_agent("receptionist.json")).status == 201);

    // Refused destinations and events.
    for (const char* url : {"http://10.0.0.5/hook", "http://169.254.169.254/latest", "http://192.168.1.10/x", "ftp://example.com/"}) {
        auto refused = api.post("/api/v1/webhook-endpoints", {{"url", url}, {"events", {"call:ended"}}});
        INFO(url << ": " << refused.body);
        CHECK(refused.status == 400);
        CHECK(refused.json()["error"]["details"][0]["field"] == "url");
    }
    auto unknown = api.post("/api/v1/webhook-endpoints", {{"url", receiver.url("/hook")}, {"events", {"call:everything"}}});
    CHECK(unknown.status == 400);

    auto created = api.post("/api/v1/webhook-endpoints", {{"url", receiver.url("/hook")},
                                                          {"events", {"call:started", "call:ended"}},
                                                          {"description", "crm"}});
    INFO(created.body);
    REQUIRE(created.status == 201);
    std::string id = created.json()["id"];
    {
        std::lock_guard lock(receiver.mutex);
        receiver.secret = created.json()["secret"];
    }
    CHECK(receiver.secret.rfind("whsec_", 0) == 0);
    auto shown = api.get("/api/v1/webhook-endpoints/" + id).json();
    CHECK(!shown.contains("secret"));  // shown once only
    auto broken = api.post("/api/v1/webhook-endpoints", {{"url", receiver.url("/broken")}, {"events", {"call:ended"}}});
    REQUIRE(broken.status == 201);

    chat_call(d, api, "receptionist", {});
    REQUIRE(eventually([&] { return receiver.count("call:started") == 1 && receiver.count("call:ended") == 1; }));
    {
        std::lock_guard lock(receiver.mutex);
        INFO(json(receiver.problems).dump());
        CHECK(receiver.problems.empty());
        CHECK(receiver.requests >= 5);  // three refusals, then both events
    }
    // The receiver has answered; the daemon records the outcome a moment after.
    json log;
    CHECK(eventually([&] {
        log = api.get("/api/v1/webhook-endpoints/" + id + "/deliveries").json();
        if (log["items"].size() != 2) return false;
        for (const auto& delivery : log["items"])
            if (delivery["state"] != "delivered") return false;
        return true;
    }));
    REQUIRE(log["items"].size() == 2);
    int retried = 0;
    for (const auto& delivery : log["items"]) {
        CHECK(delivery["state"] == "delivered");
        CHECK(delivery["last_status"] == 200);
        retried += delivery["attempts"].get<int>() > 1;
    }
    CHECK(retried >= 1);
    // An endpoint that never answers 2xx is given up after its attempts, and says why.
    std::string broken_id = broken.json()["id"];
    json failed;
    REQUIRE(eventually([&] {
        failed = api.get("/api/v1/webhook-endpoints/" + broken_id + "/deliveries").json();
        return failed["items"].size() == 1 && failed["items"][0]["state"] == "failed";
    }));
    CHECK(failed["items"][0]["attempts"] == 4);
    CHECK(failed["items"][0]["last_status"] == 500);
    CHECK(failed["items"][0]["last_error"] == "the endpoint answered HTTP 500");
    CHECK(api.del("/api/v1/webhook-endpoints/" + broken_id).status == 204);
    CHECK(api.get("/api/v1/webhook-endpoints/" + broken_id).status == 404);
    CHECK(d.log().find(receiver.secret) == std::string::npos);
}

TEST_CASE("webhooks: deliveries pending when the daemon is killed are made after it restarts") {
    Receiver receiver;
    receiver.fail_first = 1000;  // down for now
    std::string dir = make_temp_dir("va-webhooks");
    std::string id;
    {
        DaemonProcess d{kEnv, {}, dir};
        Api api(d.base_url(), d.admin_key());
        REQUIRE(api.post("/api/v1/agents", example_agent("receptionist.json")).status == 201);
        auto created = api.post("/api/v1/webhook-endpoints", {{"url", receiver.url("/hook")}, {"events", {"call:ended"}}});
        REQUIRE(created.status == 201);
        id = created.json()["id"];
        {
            std::lock_guard lock(receiver.mutex);
            receiver.secret = created.json()["secret"];
        }
        chat_call(d, api, "receptionist", {});
        REQUIRE(eventually([&] {
            std::lock_guard lock(receiver.mutex);
            return receiver.requests >= 1;
        }));
        d.stop(SIGKILL);
    }
    {
        std::lock_guard lock(receiver.mutex);
        receiver.fail_first = 0;  // back up
        receiver.requests = 0;
    }
    DaemonProcess d{kEnv, {}, dir};
    Api api(d.base_url(), d.admin_key());
    REQUIRE(eventually([&] { return receiver.count("call:ended") == 1; }));
    json log;
    CHECK(eventually([&] {
        log = api.get("/api/v1/webhook-endpoints/" + id + "/deliveries").json();
        return log["items"].size() == 1 && log["items"][0]["state"] == "delivered";
    }));
    REQUIRE(log["items"].size() == 1);
    CHECK(log["items"][0]["state"] == "delivered");
    std::lock_guard lock(receiver.mutex);
    CHECK(receiver.problems.empty());
}

TEST_CASE("webhooks: vactl adds, lists, shows deliveries of and removes endpoints") {
    Receiver receiver;
    DaemonProcess d{kEnv};
    std::string home = make_temp_dir("va-vactl-webhooks");
    auto vactl = [&](std::vector<std::string> args) {
        std::vector<std::string> argv{"--server", d.base_url(), "-o", "json"};
        argv.insert(argv.end(), args.begin(), args.end());
        auto r = run_vactl(argv, {{"XDG_CONFIG_HOME", home}, {"VOICEAGENT_DATA_DIR", d.data_dir()}});
        INFO(r.out << r.err);
        REQUIRE(r.exit_code == 0);
        return json::parse(r.out);
    };
    json added = vactl({"webhooks", "add", receiver.url("/hook"), "--event", "call:started", "--event", "call:ended"});
    CHECK(added["secret"].get<std::string>().rfind("whsec_", 0) == 0);
    CHECK(added["events"] == json{"call:started", "call:ended"});
    json listed = vactl({"webhooks", "list"});
    REQUIRE(listed["items"].size() == 1);
    CHECK(listed["items"][0]["id"] == added["id"]);
    CHECK(vactl({"webhooks", "deliveries", added["id"]})["items"].empty());
    auto refused = run_vactl({"--server", d.base_url(), "webhooks", "add", "http://10.1.1.1/x", "--event", "call:ended"},
                             {{"XDG_CONFIG_HOME", home}, {"VOICEAGENT_DATA_DIR", d.data_dir()}});
    CHECK(refused.exit_code != 0);
    CHECK(refused.err.find("private") != std::string::npos);
    vactl({"webhooks", "remove", added["id"]});
    CHECK(vactl({"webhooks", "list"})["items"].empty());
    std::filesystem::remove_all(home);
}

TEST_CASE("webhooks: after a call, the analysis (summary, fields, outcome) is stored and delivered as call:analysis") {
    Receiver receiver;
    DaemonProcess d{kEnv};
    Api api(d.base_url(), d.admin_key());
    json agent = example_agent("receptionist.json");
    agent["analysis"] = json::parse(R"({"fields": {"type": "object", "properties": {
        "wants_appointment": {"type": "boolean"}, "day": {"type": "string"}}}, "goal_field": "wants_appointment"})");
    agent["script"]["analysis"] = json::parse(R"json({"fields": {"wants_appointment": {"keywords": ["appointment", "book"]},
        "day": {"pattern": "(monday|tuesday|wednesday|thursday|friday|tomorrow)"}}})json");
    auto created_agent = api.post("/api/v1/agents", agent);
    INFO(created_agent.body);
    REQUIRE(created_agent.status == 201);
    auto endpoint = api.post("/api/v1/webhook-endpoints", {{"url", receiver.url("/hook")}, {"events", {"call:analysis"}}});
    REQUIRE(endpoint.status == 201);
    {
        std::lock_guard lock(receiver.mutex);
        receiver.secret = endpoint.json()["secret"];
    }
    std::string id = chat_call(d, api, "receptionist", {"i want to book an appointment for tomorrow"});
    json call;
    REQUIRE(eventually([&] {
        call = api.get("/api/v1/calls/" + id).json();
        return call.value("outcome", json()).is_string();
    }));
    INFO(call.dump());
    CHECK(call["outcome"] == "completed-goal");
    CHECK(call["summary"].get<std::string>().find("i want to book an appointment for tomorrow") != std::string::npos);
    CHECK(call["analysis"]["fields"]["wants_appointment"] == true);
    CHECK(call["analysis"]["fields"]["day"] == "tomorrow");
    REQUIRE(eventually([&] { return receiver.count("call:analysis") == 1; }));
    std::lock_guard lock(receiver.mutex);
    CHECK(receiver.problems.empty());
}
