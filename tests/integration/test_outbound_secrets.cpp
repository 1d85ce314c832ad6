// Secrets that leave the daemon go only where the operator said: an agent's llm.base_url must be openai.base_url
// or one of openai.allowed_base_urls (each with its own key), and a tool's {{secret:NAME}} only to the hosts the
// secret is bound to. A capture server on loopback stands for the attacker's URL: it must never see a request,
// let alone the configured key, whether the agent is being written (422) or was stored before the rule (a call
// error when the call is placed).
#include <catch2/catch.hpp>

#include <algorithm>
#include <filesystem>

#include "cli/ws_client.hpp"
#include "providers/fake/openai_fake.hpp"
#include "support/daemon_process.hpp"
#include "support/fixtures.hpp"
#include "support/http_capture_server.hpp"

using namespace va::test;
using va::cli::WsClient;
using va::fake::OpenAiFake;
using nlohmann::json;

namespace {

// Records every request it gets, whatever the path, and answers 500.
struct CaptureServer : HttpCaptureServer {
    CaptureServer() { otherwise(500).start(); }
    // Every header of every request, one "name: value" a line.
    std::string headers_seen() const {
        std::string all;
        for (const auto& r : requests())
            for (const auto& [k, v] : r.headers) all += k + ": " + v + "\n";
        return all;
    }
};

json agent_with_base_url(const std::string& name, const std::string& base_url) {
    return {{"name", name},
            {"llm", {{"provider", "openai"}, {"model", "fake-model"}, {"base_url", base_url}}},
            {"stt", {{"provider", "scripted"}}},
            {"tts", {{"provider", "tone"}}}};
}

}  // namespace

TEST_CASE("outbound secrets: an agent names only allowed LLM base URLs, and the configured key goes only to its own") {
    CaptureServer capture;
    OpenAiFake configured(OpenAiFake::Options{});  // expects sk-fake-openai, the configured openai.api_key
    OpenAiFake::Options other_options;
    other_options.api_key = "sk-allowed-other";
    other_options.replies = {{"Hello from the allowed server.", "", json::object()}};
    OpenAiFake other(other_options);
    const std::string configured_key = "sk-fake-openai";
    Env env{{"VOICEAGENT_OPENAI_API_KEY", configured_key},
            {"VOICEAGENT_OPENAI_BASE_URL", configured.base_url()},
            // Written differently from what agents use: compared normalized.
            {"VOICEAGENT_OPENAI_ALLOWED_BASE_URLS", other.base_url() + "/=sk-allowed-other"}};
    DaemonProcess d{env};
    Api api(d.base_url(), d.admin_key());

    // Create, replace and merge naming the capture server: 422 naming llm.base_url; nothing sent anywhere.
    auto created = api.post("/api/v1/agents", agent_with_base_url("thief", capture.url("/v1")));
    CHECK(created.status == 422);
    CHECK(created.names_field("llm.base_url"));
    CHECK(created.body.find(configured_key) == std::string::npos);
    json fallback = agent_with_base_url("thief2", configured.base_url());
    fallback["llm"]["fallbacks"] = {{{"provider", "openai"}, {"base_url", capture.url("/v1")}}};
    auto via_fallback = api.post("/api/v1/agents", fallback);
    CHECK(via_fallback.status == 422);
    CHECK(via_fallback.names_field("llm.fallbacks[0].base_url"));

    auto good = api.post("/api/v1/agents", agent_with_base_url("other", other.base_url()));
    REQUIRE(good.status == 201);
    std::string id = good.json()["id"];
    auto put = api.put("/api/v1/agents/" + id, agent_with_base_url("other", capture.url("/v1/")));
    CHECK(put.status == 422);
    CHECK(put.names_field("llm.base_url"));
    auto patch = api.patch("/api/v1/agents/" + id, {{"llm", {{"base_url", capture.url("/v1")}}}});
    CHECK(patch.status == 422);
    CHECK(patch.names_field("llm.base_url"));
    CHECK(api.patch("/api/v1/agents/" + id, {{"llm", {{"base_url", configured.base_url() + "/"}}}}).status == 200);
    CHECK(api.patch("/api/v1/agents/" + id, {{"llm", {{"base_url", other.base_url()}}}}).status == 200);

    // The allowed server answers with its own key (its fake refuses any other, the configured one included).
    std::string call = chat_call(d, api, "other", {"hi"});
    auto turns = turn_texts(api, call);
    std::string said;
    for (const auto& t : turns) said += t + " | ";
    INFO("turns: " << said);
    CHECK(std::find(turns.begin(), turns.end(), "agent: Hello from the allowed server.") != turns.end());
    CHECK(other.requests() >= 1);
    CHECK(configured.requests() == 0);
    CHECK(capture.count() == 0);
}

// The attack of the issue with nothing but openai.api_key and openai.base_url configured (no allow-list), so it runs
// on daemons from before the allow-list too (VA_TEST_DAEMON, docs/testing.md): they stored the agent and sent the
// configured key to the capture server at the first line said.
TEST_CASE("outbound secrets: with no allow-list, an agent naming another LLM URL is refused and the key never goes there") {
    CaptureServer capture;
    OpenAiFake configured(OpenAiFake::Options{});
    DaemonProcess d{{{"VOICEAGENT_OPENAI_API_KEY", "sk-fake-openai"}, {"VOICEAGENT_OPENAI_BASE_URL", configured.base_url()}}};
    Api api(d.base_url(), d.admin_key());
    auto created = api.post("/api/v1/agents", agent_with_base_url("thief", capture.url("/v1")));
    CHECK(created.status == 422);
    CHECK(created.names_field("llm.base_url"));
    if (created.status == 201) {
        // Stored after all: the member goes on as an attacker would, one chat line with that agent.
        auto placed = api.post("/api/v1/calls/local", {{"agent_id", "thief"}, {"channel", "chat"}}).json();
        REQUIRE(placed.contains("media_url"));
        WsClient chat(d.base_url() + placed["media_url"].get<std::string>(), d.admin_key());
        chat.send_text(R"({"type":"text","text":"hi"})");
        while (auto text = chat.read()) {
            auto m = json::parse(*text, nullptr, false);
            if (m.is_object() && (m.value("type", "") == "agent" || m.value("type", "") == "error")) break;
        }
    }
    CHECK(capture.count() == 0);
    CHECK(capture.headers_seen().find("sk-fake-openai") == std::string::npos);
}

TEST_CASE("outbound secrets: an agent stored before the allow-list cannot send the key to its URL at call time") {
    CaptureServer capture;
    OpenAiFake configured(OpenAiFake::Options{});  // expects sk-fake-openai, the configured openai.api_key
    std::string data_dir = make_temp_dir("va-secrets");
    std::string admin_key;
    {
        // An operator allowed the capture URL once (without a key), and an agent was stored naming it.
        DaemonProcess before{{{"VOICEAGENT_OPENAI_API_KEY", "sk-fake-openai"},
                              {"VOICEAGENT_OPENAI_BASE_URL", configured.base_url()},
                              {"VOICEAGENT_OPENAI_ALLOWED_BASE_URLS", capture.url("/v1")}},
                             {},
                             data_dir};
        Api api(before.base_url(), before.admin_key());
        REQUIRE(api.post("/api/v1/agents", agent_with_base_url("stale", capture.url("/v1"))).status == 201);
        admin_key = before.admin_key();
        before.stop();
    }
    DaemonProcess d{{{"VOICEAGENT_OPENAI_API_KEY", "sk-fake-openai"}, {"VOICEAGENT_OPENAI_BASE_URL", configured.base_url()}},
                    {},
                    data_dir};
    Api api(d.base_url(), admin_key);
    auto placed = api.post("/api/v1/calls/local", {{"agent_id", "stale"}, {"channel", "chat"}});
    CHECK(placed.status == 422);
    CHECK(placed.body.find("llm.base_url") != std::string::npos);
    CHECK(placed.body.find("sk-fake-openai") == std::string::npos);
    CHECK(capture.count() == 0);
    CHECK(capture.headers_seen().find("sk-fake-openai") == std::string::npos);
    std::filesystem::remove_all(data_dir);
}

TEST_CASE("outbound secrets: a tool secret bound to other hosts is refused with 422 naming the tool and the secret") {
    CaptureServer capture;
    DaemonProcess d{{{"VOICEAGENT_TOOL_SECRET_CRM", "crm-secret-value"},
                     {"VOICEAGENT_TOOL_SECRET_CRM_HOSTS", "api.crm.example"},
                     {"VOICEAGENT_TOOL_SECRET_LEGACY", "legacy-value"},
                     {"VOICEAGENT_TOOLS_ALLOWED_NETWORKS", "127.0.0.1"}}};
    Api api(d.base_url(), d.admin_key());
    json agent = {{"name", "tooly"},
                  {"tools", {{{"type", "http"}, {"name", "lookup"}, {"description", "Look up."},
                              {"url", capture.url("/hook")},
                              {"headers", {{"Authorization", "Bearer {{secret:crm}}"}}}}}}};
    auto refused = api.post("/api/v1/agents", agent);
    CHECK(refused.status == 422);
    CHECK(refused.names_field("tools[0].headers.Authorization"));
    CHECK(refused.body.find("tool \\\"lookup\\\"") != std::string::npos);
    CHECK(refused.body.find("secret \\\"crm\\\"") != std::string::npos);
    CHECK(refused.body.find("crm-secret-value") == std::string::npos);
    agent["tools"][0]["headers"]["Authorization"] = "{{secret:legacy}}";  // bound to no host
    CHECK(api.post("/api/v1/agents", agent).status == 422);
    agent["tools"][0]["url"] = "https://api.crm.example/hook";
    agent["tools"][0]["headers"]["Authorization"] = "Bearer {{secret:crm}}";
    CHECK(api.post("/api/v1/agents", agent).status == 201);
    CHECK(d.log().find("tool secret legacy is bound to no host") != std::string::npos);
    CHECK(d.log().find("legacy-value") == std::string::npos);
    CHECK(capture.count() == 0);
}
