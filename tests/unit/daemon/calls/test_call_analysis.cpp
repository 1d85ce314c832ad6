#include <catch2/catch.hpp>

#include "daemon/calls/call_analysis.hpp"
#include "providers/local/scripted_llm.hpp"

using namespace va;
using nlohmann::json;

namespace {

CallTurn turn(const std::string& role, const std::string& text) {
    CallTurn t;
    t.role = role;
    t.text = text;
    return t;
}

Call ended(const std::string& status, const std::string& direction = "outbound", std::int64_t started_at = 1) {
    Call c;
    c.status = status;
    c.direction = direction;
    c.started_at = started_at;
    return c;
}

}  // namespace

TEST_CASE("analysis: a call's outcome comes from its status and the callee's first words") {
    CHECK(call_outcome(ended("busy"), {}) == "busy");
    CHECK(call_outcome(ended("no-answer"), {}) == "no-answer");
    CHECK(call_outcome(ended("failed"), {}) == "failed");
    CHECK(call_outcome(ended("canceled"), {}) == "failed");
    CHECK(call_outcome(ended("completed", "outbound", 0), {}) == "no-answer");  // never streamed, nobody spoke
    std::vector<CallTurn> machine{turn("agent", "Hello!"), turn("user", "Hi, you have reached Sam. Please leave a message after the tone.")};
    CHECK(call_outcome(ended("completed"), machine) == "voicemail");
    std::vector<CallTurn> person{turn("agent", "Hello!"), turn("user", "Yes, I would like to book."),
                                 turn("user", "leave a message for my wife too")};
    CHECK(call_outcome(ended("completed"), person) == "answered");
}

TEST_CASE("analysis: the request carries the schema and the transcript, and the answer is read and checked") {
    json spec = json::parse(R"({"fields": {"type": "object", "properties": {"interested": {"type": "boolean"},
                                                                       "day": {"type": "string"}}},
                                  "instructions": "Be terse."})");
    auto request = analysis_request(spec, {turn("agent", "Hello."), turn("user", "I am interested, friday works."), turn("agent", "")});
    CHECK(request.purpose == "analysis");
    REQUIRE(request.messages.size() == 2);
    CHECK(request.messages[0].content.find("\"interested\"") != std::string::npos);
    CHECK(request.messages[0].content.find("Be terse.") != std::string::npos);
    CHECK(request.messages[1].content == "agent: Hello.\ncaller: I am interested, friday works.\n");

    auto fenced = parse_analysis("```json\n{\"summary\": \"Keen.\", \"fields\": {\"interested\": true, \"day\": null}}\n```", spec["fields"]);
    REQUIRE(fenced);
    CHECK((*fenced)["summary"] == "Keen.");
    CHECK((*fenced)["fields"]["interested"] == true);
    auto wrong = parse_analysis(R"({"summary": "x", "fields": {"interested": "very"}})", spec["fields"]);
    REQUIRE(!wrong);
    CHECK(wrong.error().message.find("/interested") != std::string::npos);
    CHECK(!parse_analysis("I could not decide.", spec["fields"]));
    CHECK(!parse_analysis(R"({"fields": {}})", spec["fields"]));
}

TEST_CASE("analysis: the scripted LLM summarises and extracts fields offline") {
    json agent = json::parse(R"json({"name": "a", "script": {"fallback": "ok", "analysis": {"fields": {
        "interested": {"keywords": ["yes", "interested"]},
        "day": {"pattern": "on (monday|tuesday|friday)"},
        "budget": {"pattern": "\\d+ dollars"}}}}})json");
    auto llm = local::scripted_llm_factory()->create(agent, json::object());
    REQUIRE(llm);
    json spec{{"fields", {{"type", "object"}}}};
    std::string text;
    bool done = false;
    LlmCallbacks cb;
    cb.on_token = [&](const std::string& t) { text += t; };
    cb.on_done = [&](Status s) { done = s.ok(); };
    (*llm)->start(analysis_request(spec, {turn("agent", "Shall we meet?"), turn("user", "Yes, on Friday please."),
                                          turn("agent", "Friday it is.")}),
                  cb);
    REQUIRE(done);
    auto parsed = parse_analysis(text, spec["fields"]);
    REQUIRE(parsed);
    CHECK((*parsed)["summary"] == "The caller said \"Yes, on Friday please.\". The agent's last words: \"Friday it is.\"");
    CHECK((*parsed)["fields"]["interested"] == true);
    CHECK((*parsed)["fields"]["day"] == "Friday");
    CHECK((*parsed)["fields"]["budget"].is_null());
}
