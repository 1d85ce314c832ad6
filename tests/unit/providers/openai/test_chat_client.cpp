#include <catch2/catch.hpp>

#include <chrono>
#include <future>
#include <thread>

#include "providers/fake/openai_fake.hpp"
#include "support/eventually.hpp"
#include "providers/openai/chat_client.hpp"

using namespace va;
using va::fake::OpenAiFake;
using va::test::eventually;
using nlohmann::json;

namespace {

struct Outcome {
    std::string text;
    std::vector<ToolCall> tools;
    Status status = Ok{};
    double seconds = 0;
    LlmUsage usage;
};

openai::ChatSettings settings_for(const OpenAiFake& fake) {
    openai::ChatSettings s;
    s.base_url = fake.base_url();
    s.api_key = "sk-fake-openai";
    s.model = "fake-model";
    s.initial_backoff_ms = 20;
    s.timeout_ms = 10000;
    return s;
}

Outcome run(openai::ChatSettings settings, LlmRequest request = {{{"system", "Be brief."}, {"user", "hello"}}, {}}) {
    auto client = openai::make_chat_client(std::move(settings));
    Outcome out;
    std::promise<void> done;
    auto started = std::chrono::steady_clock::now();
    auto stream = client->start(std::move(request), {[&](const std::string& t) { out.text += t; },
                                                     [&](const ToolCall& c) { out.tools.push_back(c); },
                                                     [&](Status s) {
                                                         out.status = std::move(s);
                                                         done.set_value();
                                                     },
                                                     [&](const LlmUsage& u) { out.usage = u; }});
    REQUIRE(done.get_future().wait_for(std::chrono::seconds(20)) == std::future_status::ready);
    out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    return out;
}

}  // namespace

TEST_CASE("openai: tokens stream in, and the request carries model, messages, stream and tools") {
    for (bool crlf : {false, true}) {
        OpenAiFake::Options o;
        o.crlf = crlf;
        OpenAiFake fake(o);
        LlmRequest request{{{"system", "Be brief."}, {"user", "hello"}},
                           {{"end_call", "End the call", {{"type", "object"}, {"properties", json::object()}}}}};
        auto out = run(settings_for(fake), request);
        REQUIRE(out.status);
        CHECK(out.text == "Hello from the fake model.");
        CHECK(out.usage.prompt_tokens == 12);  // from the stream's usage chunk
        CHECK(out.usage.completion_tokens == 7);
        CHECK(out.tools.empty());
        json sent = fake.last_request();
        CHECK(sent["model"] == "fake-model");
        CHECK(sent["stream"] == true);
        CHECK(sent["messages"][1] == json{{"role", "user"}, {"content", "hello"}});
        CHECK(sent["tools"][0]["function"]["name"] == "end_call");
    }
}

TEST_CASE("openai: tool-call fragments are assembled by index") {
    OpenAiFake::Options o;
    o.replies = {{"Let me check.", "lookup_order", {{"order_id", "A-1234"}, {"verbose", true}}}};
    OpenAiFake fake(o);
    auto out = run(settings_for(fake));
    REQUIRE(out.status);
    CHECK(out.text == "Let me check.");
    REQUIRE(out.tools.size() == 1);
    CHECK(out.tools[0].name == "lookup_order");
    CHECK(out.tools[0].arguments == json{{"order_id", "A-1234"}, {"verbose", true}});
}

TEST_CASE("openai: a wrong key is not retried, and says so") {
    OpenAiFake fake({});
    auto s = settings_for(fake);
    s.api_key = "sk-wrong";
    auto out = run(s);
    REQUIRE_FALSE(out.status);
    CHECK(out.status.error().code == ErrorCode::unauthenticated);
    CHECK(out.status.error().message.find("Incorrect API key") != std::string::npos);
    CHECK(fake.requests() == 1);
}

TEST_CASE("openai: 429 honours retry-after-ms, 500 and 503 are retried twice at most") {
    OpenAiFake fake({});
    fake.push_fault({OpenAiFake::Fault::status, 429, "", "300", "", 0, {}});
    auto out = run(settings_for(fake));
    REQUIRE(out.status);
    CHECK(out.seconds >= 0.3);
    CHECK(fake.requests() == 2);

    fake.push_fault({OpenAiFake::Fault::status, 500, "", "", "", 0, {}});
    fake.push_fault({OpenAiFake::Fault::status, 503, "", "", "", 0, {}});
    fake.push_fault({OpenAiFake::Fault::status, 503, "", "", "", 0, {}});
    out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);  // two retries, then the third failure stands
    CHECK(out.status.error().code == ErrorCode::unavailable);
    CHECK(fake.requests() == 5);

    fake.push_fault({OpenAiFake::Fault::status, 500, "", "", "false", 0, {}});  // x-should-retry: false
    out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);
    CHECK(fake.requests() == 6);
}

TEST_CASE("openai: insufficient_quota is not retried") {
    OpenAiFake fake({});
    fake.push_fault({OpenAiFake::Fault::quota, 429, "1", "", "", 0, {}});
    auto out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);
    CHECK(out.status.error().code == ErrorCode::quota);
    CHECK(fake.requests() == 1);
}

TEST_CASE("openai: a failure after tokens reached the caller is not retried") {
    OpenAiFake fake({});
    fake.push_fault({OpenAiFake::Fault::error_mid_stream, 0, "", "", "", 0, {}});
    auto out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);
    CHECK(out.status.error().message.find("overloaded mid-stream") != std::string::npos);
    CHECK_FALSE(out.text.empty());
    CHECK(fake.requests() == 1);

    fake.push_fault({OpenAiFake::Fault::drop_mid_stream, 0, "", "", "", 0, {}});
    out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);
    CHECK(fake.requests() == 2);
}

TEST_CASE("openai: a slow first byte can be cancelled, and no callback follows the cancel") {
    OpenAiFake fake({});
    fake.push_fault({OpenAiFake::Fault::slow_first_byte, 0, "", "", "", 3000, {}});
    auto client = openai::make_chat_client(settings_for(fake));
    std::atomic<int> callbacks{0};
    auto stream = client->start({{{"user", "hi"}}, {}}, {[&](const std::string&) { ++callbacks; },
                                                         [&](const ToolCall&) { ++callbacks; },
                                                         [&](Status) { ++callbacks; },
                                                         [&](const LlmUsage&) { ++callbacks; }});
    // Cancelled while the request waits for its first byte: the cancel is over before that byte is sent.
    REQUIRE(eventually([&] { return fake.requests() == 1; }));
    stream->cancel();
    stream.reset();  // joins its thread
    CHECK(fake.first_bytes_sent() == 0);
    CHECK(callbacks == 0);
}

TEST_CASE("openai chat: an agent's base_url is the configured one or an allowed one, each with its own key") {
    va::openai::ChatSettings defaults;
    defaults.base_url = "http://127.0.0.1:9000/v1";
    defaults.api_key = "sk-configured";
    defaults.allowed_base_urls = {{"http://ollama.internal:11434/v1", ""}, {"https://api.groq.com/openai/v1", "gsk-own"}};
    auto same = va::openai::agent_settings(defaults, {{"base_url", "HTTP://127.0.0.1:9000/v1/"}, {"model", "m"}});
    REQUIRE(same);
    CHECK(same->api_key == "sk-configured");
    CHECK(same->base_url == "http://127.0.0.1:9000/v1");
    CHECK(same->model == "m");
    auto groq = va::openai::agent_settings(defaults, {{"base_url", "https://api.groq.com:443/openai/v1"}});
    REQUIRE(groq);
    CHECK(groq->api_key == "gsk-own");
    CHECK(groq->base_url == "https://api.groq.com/openai/v1");
    auto ollama = va::openai::agent_settings(defaults, {{"base_url", "http://ollama.internal:11434/v1"}});
    REQUIRE(ollama);
    CHECK(ollama->api_key.empty());  // never the configured key
    for (const std::string url : {"http://127.0.0.1:9001/v1", "http://127.0.0.1:9000/v2", "https://127.0.0.1:9000/v1",
                                  "http://evil.example/v1", "http://user@127.0.0.1:9000/v1"}) {
        INFO(url);
        auto refused = va::openai::agent_settings(defaults, {{"base_url", url}});
        REQUIRE(!refused);
        CHECK(refused.error().code == va::ErrorCode::unprocessable);
        REQUIRE(refused.error().details.size() == 1);
        CHECK(refused.error().details[0].field == "llm.base_url");
        CHECK(refused.error().message.find("sk-configured") == std::string::npos);
    }
    // The factory refuses at call time too, so a stored definition cannot reach the network.
    auto factory = va::openai::chat_factory(defaults);
    nlohmann::json agent{{"llm", {{"provider", "openai"}, {"base_url", "http://evil.example/v1"}}}};
    CHECK(!factory->create(agent, nlohmann::json::object()));
    CHECK(!factory->check(agent["llm"]));
    CHECK(factory->check({{"provider", "openai"}}));
}

TEST_CASE("openai: a chunk with fields of the wrong type fails the answer, and nothing throws") {
    // Each once ended the process: nlohmann threw on a detached thread ("index": "zero" in a tool call).
    const char* chunks[] = {
        R"({"choices":[{"index":0,"delta":{"tool_calls":[{"index":"zero","function":{"name":"x"}}]}}]})",
        R"({"choices":5})",
        R"({"choices":[{"delta":[]}]})",
        R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"x","arguments":5}}]}}]})",
        R"({"choices":[{"delta":{"tool_calls":{"index":0}}}]})",
        R"({"choices":[{"delta":{"content":42}}]})",
        R"({"choices":["text"]})",
        R"({"choices":[{"delta":{"tool_calls":[{"index":99999999999}]}}]})",
        R"({"choices":[{"delta":{"tool_calls":[7]}}]})",
        R"([1,2,3])",
    };
    for (const char* chunk : chunks) {
        INFO(chunk);
        OpenAiFake fake(OpenAiFake::Options{});
        OpenAiFake::Fault f;
        f.kind = OpenAiFake::Fault::raw_chunk;
        f.chunk = chunk;
        fake.push_fault(f);
        auto out = run(settings_for(fake));
        REQUIRE_FALSE(out.status);
        CHECK(out.status.error().provider == "openai");
        CHECK_FALSE(out.status.error().transient());
        CHECK(out.status.error().code == ErrorCode::bad_gateway);  // the server's fault, not an internal error
        CHECK(out.status.error().message.find("invalid stream chunk") != std::string::npos);
        CHECK(fake.requests() == 1);  // a malformed answer is not asked again
    }
}

TEST_CASE("openai: an answer that grows without bound fails, a long tool call or an endless line alike") {
    // A server's bytes are bounded where they pile up: a tool call assembled from fragments, and one SSE line.
    struct Case {
        std::string chunk, message;
    };
    std::string huge_arguments = R"({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"name":"x","arguments":")" +
                                 std::string(300 * 1024, 'a') + R"("}}]}}]})";
    std::string endless_line = R"({"choices":[{"delta":{"content":")" + std::string(1100 * 1024, 'b') + R"("}}]})";
    for (const Case& c : {Case{huge_arguments, "a tool call is longer than"}, Case{endless_line, "stream line longer than"}}) {
        INFO(c.message);
        OpenAiFake fake(OpenAiFake::Options{});
        OpenAiFake::Fault f;
        f.kind = OpenAiFake::Fault::raw_chunk;
        f.chunk = c.chunk;
        fake.push_fault(f);
        auto out = run(settings_for(fake));
        REQUIRE_FALSE(out.status);
        CHECK(out.status.error().message.find(c.message) != std::string::npos);
        CHECK(out.status.error().code == ErrorCode::bad_gateway);
        CHECK(fake.requests() == 1);
    }
}

TEST_CASE("openai: odd but valid chunks, wrong-typed usage and error events are read without throwing") {
    OpenAiFake::Options o;
    OpenAiFake fake(o);
    // Usage with a string count is ignored; an error event whose message is not a string still fails cleanly.
    OpenAiFake::Fault usage;
    usage.kind = OpenAiFake::Fault::raw_chunk;
    usage.chunk = R"({"choices":[],"usage":{"prompt_tokens":"many","completion_tokens":2}})";
    fake.push_fault(usage);
    auto out = run(settings_for(fake));
    REQUIRE(out.status);
    CHECK(out.text == "Hello from the fake model.");
    OpenAiFake::Fault error;
    error.kind = OpenAiFake::Fault::raw_chunk;
    error.chunk = R"({"error":{"message":{"nested":true}}})";
    fake.push_fault(error);
    auto failed = run(settings_for(fake));
    REQUIRE_FALSE(failed.status);
    CHECK(failed.status.error().message.find("the LLM stream failed") != std::string::npos);
}

TEST_CASE("openai: a malformed retry-after header is ignored, not thrown on") {
    OpenAiFake fake(OpenAiFake::Options{});
    OpenAiFake::Fault f;
    f.http_status = 429;
    f.retry_after = ".";  // std::stod(".") threw on the stream's thread
    f.retry_after_ms = ".";
    fake.push_fault(f);
    auto out = run(settings_for(fake));
    REQUIRE(out.status);
    CHECK(out.text == "Hello from the fake model.");
}
