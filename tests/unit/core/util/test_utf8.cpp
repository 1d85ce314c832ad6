// UTF-8 validation: what the JSON library accepts when it writes strings, and nothing else.
#include <catch2/catch.hpp>

#include <string>

#include "core/util/utf8.hpp"

using va::utf8_error_offset;
using va::valid_utf8;

TEST_CASE("utf8: accepts ASCII and well-formed sequences of every length") {
    CHECK(valid_utf8(""));
    CHECK(valid_utf8("plain ascii"));
    CHECK(valid_utf8("Jos\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80 \xF4\x8F\xBF\xBF"));  // e-acute, euro, emoji, U+10FFFF
}

TEST_CASE("utf8: refuses stray, truncated, overlong, surrogate and out-of-range sequences at their first byte") {
    CHECK(utf8_error_offset("ab\xE9") == 2);                    // Latin-1
    CHECK(utf8_error_offset("a\x80") == 1);                     // a lone continuation byte
    CHECK(utf8_error_offset("a\xE2\x82") == 1);                 // truncated
    CHECK(utf8_error_offset("\xC0\xAF") == 0);                  // overlong '/'
    CHECK(utf8_error_offset("\xE0\x80\xAF") == 0);              // overlong, 3 bytes
    CHECK(utf8_error_offset("\xED\xA0\x80") == 0);              // a surrogate (U+D800)
    CHECK(utf8_error_offset("\xF4\x90\x80\x80") == 0);          // past U+10FFFF
    CHECK(utf8_error_offset("x\xC3\xA9\xFF") == 3);             // after a valid sequence
    CHECK(utf8_error_offset(std::string("a\0b", 3)) == 3);      // NUL is valid UTF-8
}
