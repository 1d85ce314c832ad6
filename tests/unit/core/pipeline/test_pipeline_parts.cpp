#include <catch2/catch.hpp>

#include "core/pipeline/conversation.hpp"
#include "core/pipeline/sentences.hpp"

using namespace va;
using nlohmann::json;

TEST_CASE("sentences complete as tokens stream in") {
    SentenceSplitter s;
    CHECK(s.push("Sure, I can ").empty());
    // The period closes the token: the sentence ends now, not a token later when the space shows.
    auto first = s.push("book that.");
    REQUIRE(first.size() == 1);
    CHECK(first[0] == "Sure, I can book that.");
    auto next = s.push(" We have 3.5 hours free! Shall");
    REQUIRE(next.size() == 1);
    CHECK(next[0] == "We have 3.5 hours free!");
    CHECK(s.push(" I reserve it?") == std::vector<std::string>{"Shall I reserve it?"});
    CHECK(s.flush().empty());
}

TEST_CASE("sentences: numbers, abbreviations, initials and domains split over tokens stay whole") {
    SentenceSplitter s;
    CHECK(s.push("It costs 3").empty());
    CHECK(s.push(".").empty());  // a digit before the period: the next token may be "5"
    CHECK(s.push("5 dollars at that").empty());
    CHECK(s.push(".com site").empty());
    CHECK(s.push(" with Dr.").empty());
    CHECK(s.push(" J.").empty());
    CHECK(s.push(" Smith, e.g.").empty());
    CHECK(s.push(" today. Mr. Lee").size() == 1);
    CHECK(s.flush() == "Mr. Lee");
    SentenceSplitter t;
    auto all = t.push("It costs 3.5 dollars at that.com site with Dr. J. Smith, e.g. today.");
    REQUIRE(all.size() == 1);
    CHECK(all[0] == "It costs 3.5 dollars at that.com site with Dr. J. Smith, e.g. today.");
}

TEST_CASE("sentences: a number that ends a sentence waits one token, closing quotes stay with their sentence") {
    SentenceSplitter s;
    CHECK(s.push("We open at 9").empty());
    CHECK(s.push(".").empty());
    CHECK(s.push(" He said \"fine.\"") == std::vector<std::string>{"We open at 9.", "He said \"fine.\""});
    // A terminator streamed on its own after a sentence ended is not a sentence of its own.
    CHECK(s.push("What?") == std::vector<std::string>{"What?"});
    CHECK(s.push("!").empty());
    CHECK(s.push(" Yes").empty());
    CHECK(s.flush() == "Yes");
    CHECK(s.push("...").empty());
    CHECK(s.flush().empty());
}

TEST_CASE("sentences: a reply that never ends a sentence is cut at a space, so what waits stays bounded") {
    SentenceSplitter s;
    std::size_t spoken = 0;
    for (int i = 0; i < 2000; ++i) {  // 2 MB in 1 KB chunks, no terminator
        for (auto& sentence : s.push(std::string(1023, 'a') + " ")) {
            CHECK(sentence.size() <= SentenceSplitter::kMaxSentenceBytes);
            spoken += sentence.size() + 1;
        }
    }
    CHECK(spoken > 2000 * 1024 - 2 * SentenceSplitter::kMaxSentenceBytes);
    CHECK(s.flush().size() <= SentenceSplitter::kMaxSentenceBytes);
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
