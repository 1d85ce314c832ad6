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
    fake.push_fault({OpenAiFake::Fault::status, 429, "", "300", "", 0});
    auto out = run(settings_for(fake));
    REQUIRE(out.status);
    CHECK(out.seconds >= 0.3);
    CHECK(fake.requests() == 2);

    fake.push_fault({OpenAiFake::Fault::status, 500, "", "", "", 0});
    fake.push_fault({OpenAiFake::Fault::status, 503, "", "", "", 0});
    fake.push_fault({OpenAiFake::Fault::status, 503, "", "", "", 0});
    out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);  // two retries, then the third failure stands
    CHECK(out.status.error().code == ErrorCode::unavailable);
    CHECK(fake.requests() == 5);

    fake.push_fault({OpenAiFake::Fault::status, 500, "", "", "false", 0});  // x-should-retry: false
    out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);
    CHECK(fake.requests() == 6);
}

TEST_CASE("openai: insufficient_quota is not retried") {
    OpenAiFake fake({});
    fake.push_fault({OpenAiFake::Fault::quota, 429, "1", "", "", 0});
    auto out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);
    CHECK(out.status.error().code == ErrorCode::quota);
    CHECK(fake.requests() == 1);
}

TEST_CASE("openai: a failure after tokens reached the caller is not retried") {
    OpenAiFake fake({});
    fake.push_fault({OpenAiFake::Fault::error_mid_stream, 0, "", "", "", 0});
    auto out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);
    CHECK(out.status.error().message.find("overloaded mid-stream") != std::string::npos);
    CHECK_FALSE(out.text.empty());
    CHECK(fake.requests() == 1);

    fake.push_fault({OpenAiFake::Fault::drop_mid_stream, 0, "", "", "", 0});
    out = run(settings_for(fake));
    REQUIRE_FALSE(out.status);
    CHECK(fake.requests() == 2);
}

TEST_CASE("openai: a slow first byte can be cancelled, and no callback follows the cancel") {
    OpenAiFake fake({});
    fake.push_fault({OpenAiFake::Fault::slow_first_byte, 0, "", "", "", 3000});
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
