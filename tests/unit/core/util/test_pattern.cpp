// User patterns on RE2: linear time whatever the pattern, bounded, and the features the agents use.
#include <catch2/catch.hpp>

#include "core/util/log.hpp"
#include "core/util/pattern.hpp"

using namespace va;

TEST_CASE("pattern: catastrophic backtracking patterns answer (RE2 is linear time)") {
    // ^(a+)+$ against many a's then b took std::regex exponential time: minutes for 30 characters.
    auto p = Pattern::compile("^(a+)+$");
    REQUIRE(p);
    CHECK_FALSE(p->search(std::string(100000, 'a') + "b"));
    CHECK(p->search(std::string(100000, 'a')));
    auto q = Pattern::compile("(x+x+)+y");
    REQUIRE(q);
    CHECK_FALSE(q->search(std::string(50000, 'x')));
}

TEST_CASE("pattern: case-insensitive search, first group, replacement") {
    auto p = Pattern::compile("on (monday|friday)", {true});
    REQUIRE(p);
    CHECK(p->search("See you ON Friday"));
    CHECK(p->find("See you ON Friday") == std::string("Friday"));
    auto whole = Pattern::compile("\\d+ dollars");
    REQUIRE(whole);
    CHECK(whole->find("about 300 dollars") == std::string("300 dollars"));
    CHECK_FALSE(whole->find("nothing"));
    std::string text = "a1b22c";
    CHECK(Pattern::compile("[0-9]+")->replace_all(text, "#") == 2);
    CHECK(text == "a#b#c");
}

TEST_CASE("pattern: unsupported, invalid and over-long patterns are refused with a reason") {
    for (const char* bad : {"(a)\\1", "(?=x)", "(unclosed", "[z-a]"}) {
        INFO(bad);
        auto p = Pattern::compile(bad);
        REQUIRE_FALSE(p);
        CHECK(p.error().code == ErrorCode::invalid_request);
        CHECK(p.error().message.find("regular expression") != std::string::npos);
    }
    auto longer = Pattern::compile(std::string(kMaxPatternLength + 1, 'a'));
    REQUIRE_FALSE(longer);
    CHECK(longer.error().message.find("longer than") != std::string::npos);
    CHECK(Pattern::compile(std::string(kMaxPatternLength, 'a')));
    // A pattern within the length bound whose program outgrows max_mem is refused, not compiled.
    CHECK_FALSE(Pattern::compile("((((a{100}){100}){100}){100})"));
}

TEST_CASE("pattern: log redaction runs on RE2 and still hides secrets in long hostile lines") {
    CHECK(redact("Authorization: Bearer abc.def-123") == "Authorization: Bearer [redacted]");
    CHECK(redact("key vak_12345 used") == "key vak_[redacted] used");
    CHECK(redact("{\"password\": \"hunter2\"}") == "{\"password\": \"[redacted]\"}");
    CHECK(redact("https://user:pw@example.com/x") == "https://[redacted]@example.com/x");
    // libstdc++'s regex recursed per character here; RE2 does not.
    std::string line(200000, 'a');
    CHECK(redact(line) == line);
}
