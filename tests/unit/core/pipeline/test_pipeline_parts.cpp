#include <catch2/catch.hpp>

#include "core/pipeline/conversation.hpp"
#include "core/pipeline/sentences.hpp"

using namespace va;
using nlohmann::json;

TEST_CASE("sentences complete as tokens stream in") {
    SentenceSplitter s;
    CHECK(s.push("Sure, I can ").empty());
    CHECK(s.push("book that.").empty());  // no whitespace after the period yet: maybe "that.com"
    auto first = s.push(" We have 3.5 hours free! Shall");
    REQUIRE(first.size() == 2);
    CHECK(first[0] == "Sure, I can book that.");
    CHECK(first[1] == "We have 3.5 hours free!");
    CHECK(s.push(" I reserve it?").empty());
    CHECK(s.flush() == "Shall I reserve it?");
    CHECK(s.flush().empty());
}

TEST_CASE("conversation builds the LLM request from prompt, greeting, turns and tools") {
    json agent = {{"name", "a"},
                  {"system_prompt", "You help {{name}}."},
                  {"first_message", "Hi {{name}}!"},
                  {"variables", {{"name", "there"}}},
                  {"end_call_phrases", {"Goodbye"}},
                  {"tools", {{{"type", "end_call"}}, {{"type", "transfer_call"}, {"to", "+15551234567"}}}}};
    Conversation c(agent, merge_variables(agent, {{"name", "Asha"}}));
    CHECK(c.greeting() == "Hi Asha!");
    c.add_user("hello");
    c.add_agent("How can I help?");
    auto r = c.request();
    REQUIRE(r.messages.size() == 4);
    CHECK(r.messages[0].role == "system");
    CHECK(r.messages[0].content == "You help Asha.");
    CHECK(r.messages[1].content == "Hi Asha!");
    CHECK(r.messages[2].role == "user");
    REQUIRE(r.tools.size() == 2);
    CHECK(r.tools[1].name == "transfer_call");
    CHECK(c.ends_call("Thanks, goodbye!"));
    CHECK_FALSE(c.ends_call("See you"));
    CHECK(merge_variables(agent, json::object())["name"] == "there");
}

// A member writes the prompt and an API caller the variables: before the bound, this prompt became 1.6 GB.
TEST_CASE("conversation: placeholders cannot multiply a prompt past the fill budget") {
    std::string prompt;
    for (int i = 0; i < 20000; ++i) prompt += "{{x}} ";  // 120 KB of placeholders
    json agent = {{"name", "a"}, {"system_prompt", prompt}, {"first_message", "Hello {{x}}"}};
    Conversation c(agent, merge_variables(agent, {{"x", std::string(80 * 1024, 'v')}}));
    const std::string system = c.request().messages.front().content;
    CHECK(system.size() <= kMaxFilledBytes);
    CHECK(system.find(std::string(80 * 1024, 'v')) != std::string::npos);  // what fits is still filled
    CHECK(system.find("{{x}}") != std::string::npos);                      // the rest stays as written
    CHECK(c.greeting().size() == 6 + 80 * 1024);
    // Text longer than the budget on its own is kept whole; only growth is refused.
    std::string long_text(kMaxFilledBytes + 10, 'a');
    CHECK(fill_placeholders(long_text + "{{x}}", {{"x", "0123456789"}}) == long_text + "{{x}}");
    CHECK(fill_placeholders("{{x}}" + long_text, {{"x", ""}}) == long_text);
}
