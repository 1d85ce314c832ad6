// The responder on a virtual clock: an LLM the test plays (it streams what the test says, when the test says it)
// and tools the test answers. Streamed tokens become text and sentences on the strand, a tool call is one more
// round with the tool's answer in the history, and a cancelled answer delivers nothing more.
#include <catch2/catch.hpp>

#include <memory>
#include <string>
#include <vector>

#include "core/pipeline/responder.hpp"
#include "core/pipeline/virtual_executor.hpp"

using namespace va;
using nlohmann::json;

namespace {

struct PlayedLlm final : public LlmClient {
    struct Request {
        LlmRequest request;
        LlmCallbacks callbacks;
        std::shared_ptr<bool> cancelled = std::make_shared<bool>(false);
    };
    std::vector<Request> requests;

    class Stream final : public LlmStream {
    public:
        explicit Stream(std::shared_ptr<bool> c) : m_cancelled(std::move(c)) {}
        void cancel() override { *m_cancelled = true; }

    private:
        std::shared_ptr<bool> m_cancelled;
    };

    std::unique_ptr<LlmStream> start(LlmRequest request, LlmCallbacks callbacks) override {
        requests.push_back({std::move(request), std::move(callbacks)});
        return std::make_unique<Stream>(requests.back().cancelled);
    }
    // What the provider's thread would do; the responder posts each to the strand.
    void token(const std::string& t) { requests.back().callbacks.on_token(t); }
    void tool(ToolCall call) { requests.back().callbacks.on_tool_call(call); }
    void done() { requests.back().callbacks.on_done(Ok{}); }
};

struct Heard {
    std::string text;
    std::vector<std::string> sentences;
    std::vector<AgentReply> replies;
    std::vector<std::int64_t> sentence_at;
};

struct Rig {
    std::shared_ptr<VirtualExecutor> clock = std::make_shared<VirtualExecutor>(0);
    std::shared_ptr<PlayedLlm> llm = std::make_shared<PlayedLlm>();
    json agent;
    Conversation conversation;
    std::vector<ToolCall> tool_calls;
    std::vector<json> tool_runs;
    Heard heard;
    std::unique_ptr<Responder> responder;

    explicit Rig(json a = json::object())
        : agent(a.is_object() && !a.empty() ? a : json{{"name", "t"}, {"system_prompt", "You help."}}),
          conversation(agent, json::object()) {
        ResponderOptions options;
        options.tool_ran = [this](const json& run) { tool_runs.push_back(run); };
        responder = std::make_unique<Responder>(
            clock, llm, conversation,
            [this](const json&, const ToolCall& call) {
                tool_calls.push_back(call);
                return ToolResult{true, R"({"open": "nine to five"})", "", 200, 40};
            },
            options);
    }
    void ask(const std::string& words) {
        conversation.add_user(words);
        responder->answer({[this](const std::string& t) { heard.text += t; },
                           [this](const std::string& s) {
                               heard.sentences.push_back(s);
                               heard.sentence_at.push_back(clock->now_ms());
                           },
                           [this](AgentReply r) { heard.replies.push_back(std::move(r)); }});
    }
};

}  // namespace

TEST_CASE("responder: streamed tokens reach the strand as text and as sentences, then the reply") {
    Rig r;
    r.ask("hello");
    REQUIRE(r.llm->requests.size() == 1);
    CHECK(r.llm->requests[0].request.messages.back().content == "hello");
    r.clock->advance(300);
    r.llm->token("Hello there. ");
    r.llm->token("How are");
    CHECK(r.heard.text.empty());  // nothing is delivered off the strand
    r.clock->run();
    CHECK(r.heard.text == "Hello there. How are");
    REQUIRE(r.heard.sentences.size() == 1);  // the first sentence is out while the model writes the second
    CHECK(r.heard.sentences[0] == "Hello there.");
    CHECK(r.heard.sentence_at[0] == 300);
    r.clock->advance(100);
    r.llm->token(" you?");
    r.llm->done();
    r.clock->run();
    CHECK(r.heard.sentences == std::vector<std::string>{"Hello there.", "How are you?"});
    REQUIRE(r.heard.replies.size() == 1);
    const AgentReply& reply = r.heard.replies[0];
    CHECK(reply.status);
    CHECK(reply.text == "Hello there. How are you?");
    CHECK(reply.first_token_at == 300);
    CHECK(reply.end_reason.empty());
}

TEST_CASE("responder: an HTTP tool call is a round of its own, and the LLM answers again with the tool's result") {
    json agent{{"name", "t"},
               {"system_prompt", "You help."},
               {"tools",
                {{{"type", "http"}, {"name", "hours"}, {"description", "Opening hours."}, {"url", "https://x.example/h"},
                  {"filler", "One moment."}}}}};
    Rig r(agent);
    r.ask("when are you open");
    r.llm->token("Let me check. ");
    r.llm->tool({"call_1", "hours", json::object()});
    r.llm->done();
    r.clock->run();
    REQUIRE(r.tool_calls.size() == 1);
    CHECK(r.tool_calls[0].id == "call_1");
    REQUIRE(r.tool_runs.size() == 1);
    CHECK(r.tool_runs[0]["name"] == "hours");
    CHECK(r.tool_runs[0]["ok"] == true);
    CHECK(r.heard.replies.empty());  // one turn for the caller: not done yet
    REQUIRE(r.llm->requests.size() == 2);
    const auto& messages = r.llm->requests[1].request.messages;
    REQUIRE(messages.size() >= 2);
    CHECK(messages.back().role == "tool");
    CHECK(messages.back().tool_call_id == "call_1");
    CHECK(messages[messages.size() - 2].tool_calls.size() == 1);
    r.llm->token("We open at nine.");
    r.llm->done();
    r.clock->run();
    REQUIRE(r.heard.replies.size() == 1);
    CHECK(r.heard.replies[0].text == "Let me check. We open at nine.");
    CHECK(r.heard.sentences == std::vector<std::string>{"Let me check.", "We open at nine."});
    r.clock->advance(1000);  // the tool answered at once: its filler is never said
    CHECK(r.heard.text == "Let me check. We open at nine.");
}

TEST_CASE("responder: end_call and an end-call phrase end the call") {
    SECTION("end_call") {
        Rig r(json{{"name", "t"}, {"system_prompt", "x"}, {"tools", {{{"type", "end_call"}}}}});
        r.ask("bye");
        r.llm->token("Goodbye!");
        r.llm->tool({"c", "end_call", json::object()});
        r.llm->done();
        r.clock->run();
        REQUIRE(r.heard.replies.size() == 1);
        CHECK(r.heard.replies[0].end_reason == "agent_end_call");
    }
    SECTION("a phrase") {
        Rig r(json{{"name", "t"}, {"system_prompt", "x"}, {"end_call_phrases", {"have a nice day"}}});
        r.ask("thanks");
        r.llm->token("Have a nice day!");
        r.llm->done();
        r.clock->run();
        REQUIRE(r.heard.replies.size() == 1);
        CHECK(r.heard.replies[0].end_reason == "agent_end_phrase");
    }
}

TEST_CASE("responder: a cancel mid-stream drops the tokens that come after it, and the reply") {
    Rig r;
    r.ask("tell me a story");
    r.llm->token("Once upon a time. ");
    r.clock->run();
    CHECK(r.heard.text == "Once upon a time. ");
    r.llm->token("There was ");  // on its way to the strand when the caller barges in
    r.responder->cancel();
    CHECK(*r.llm->requests[0].cancelled);
    r.llm->token("a king.");
    r.llm->done();
    r.clock->advance(1000);
    CHECK(r.heard.text == "Once upon a time. ");
    CHECK(r.heard.sentences == std::vector<std::string>{"Once upon a time."});
    CHECK(r.heard.replies.empty());
    // A new question is answered afresh.
    r.ask("go on");
    r.llm->token("Fine.");
    r.llm->done();
    r.clock->run();
    REQUIRE(r.heard.replies.size() == 1);
    CHECK(r.heard.replies[0].text == "Fine.");
}
