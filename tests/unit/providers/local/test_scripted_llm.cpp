#include <catch2/catch.hpp>

#include <fstream>

#include "providers/local/scripted_llm.hpp"

using namespace va;
using nlohmann::json;

namespace {

struct Reply {
    std::vector<std::string> tokens;
    std::vector<ToolCall> tools;
    int done = 0;
    std::string text() const {
        std::string t;
        for (auto& s : tokens) t += s;
        return t;
    }
};

Reply ask(LlmClient& llm, const std::string& said) {
    Reply r;
    LlmRequest req;
    req.messages = {{"system", "x"}, {"user", said}};
    llm.start(req, {[&](const std::string& t) { r.tokens.push_back(t); }, [&](const ToolCall& c) { r.tools.push_back(c); },
                    [&](Status s) { r.done += s.ok(); }, nullptr});
    return r;
}

json receptionist() {
    std::ifstream in(std::string(VA_SOURCE_DIR) + "/examples/agents/receptionist.json");
    return json::parse(in);
}

}  // namespace

TEST_CASE("scripted llm: intents by keyword and pattern, streamed word by word, with tools") {
    auto llm = local::scripted_llm_factory()->create(receptionist(), json::object());
    REQUIRE(llm);
    auto book = ask(**llm, "I want to BOOK an appointment");
    CHECK(book.text().rfind("Sure, I can book that for you.", 0) == 0);
    CHECK(book.tokens.size() > 5);
    CHECK(book.tokens[0] == "Sure, ");
    CHECK(book.tools.empty());
    CHECK(book.done == 1);

    auto human = ask(**llm, "can I talk to a person please");
    CHECK(human.text() == "Of course, let me transfer you to our front desk.");
    REQUIRE(human.tools.size() == 1);
    CHECK(human.tools[0].name == "transfer_call");
    CHECK(human.tools[0].arguments["to"] == "+15551234567");

    auto bye = ask(**llm, "thank you goodbye");
    REQUIRE(bye.tools.size() == 1);
    CHECK(bye.tools[0].name == "end_call");

    auto other = ask(**llm, "do you sell notebooks");  // "book" inside a word is not the keyword
    CHECK(other.text() == receptionist()["script"]["fallback"]);
    CHECK(other.done == 1);
}

TEST_CASE("scripted llm: variables fill placeholders in replies and fallback") {
    json agent = {{"name", "r"},
                  {"script", {{"intents", {{{"name", "hi"}, {"keywords", {"hello"}}, {"reply", "Hello {{name}}, see you at {{time}}."}}}},
                              {"fallback", "Pardon, {{name}}?"}}}};
    auto llm = local::scripted_llm_factory()->create(agent, {{"name", "Asha"}, {"time", "10"}});
    REQUIRE(llm);
    CHECK(ask(**llm, "hello").text() == "Hello Asha, see you at 10.");
    CHECK(ask(**llm, "what").text() == "Pardon, Asha?");
    CHECK(fill_placeholders("{{ a }} {{b}} {{missing}}", {{"a", 1}, {"b", "x"}}) == "1 x {{missing}}");
    auto none = local::scripted_llm_factory()->create({{"name", "empty"}}, json::object());
    REQUIRE(none);
    CHECK(ask(**none, "anything").text() == "Sorry, I did not understand that.");
}
