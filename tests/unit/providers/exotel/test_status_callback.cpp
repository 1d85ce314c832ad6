#include <catch2/catch.hpp>

#include "providers/exotel/rest_client.hpp"

using namespace va;

TEST_CASE("exotel status callbacks: JSON, urlencoded and multipart bodies give the same fields") {
    auto from_json = exotel::parse_status_callback(
        "application/json", R"({"CallSid":"c1","Status":"completed","ConversationDuration":320,"Legs":[{"Status":"completed"}]})");
    REQUIRE(from_json);
    CHECK((*from_json)["Status"] == "completed");
    CHECK((*from_json)["ConversationDuration"] == 320);

    auto from_form = exotel::parse_status_callback("application/x-www-form-urlencoded; charset=utf-8",
                                                   "CallSid=c1&Status=completed&ConversationDuration=320&CustomField=a%20b+c");
    REQUIRE(from_form);
    CHECK((*from_form)["ConversationDuration"] == "320");
    CHECK((*from_form)["CustomField"] == "a b c");

    std::string body = "--XyZ\r\nContent-Disposition: form-data; name=\"CallSid\"\r\n\r\nc1\r\n"
                       "--XyZ\r\nContent-Disposition: form-data; name=\"Status\"\r\n\r\nbusy\r\n"
                       "--XyZ\r\nContent-Disposition: form-data; name=\"ConversationDuration\"\r\n\r\n0\r\n--XyZ--\r\n";
    auto from_multipart = exotel::parse_status_callback("multipart/form-data; boundary=\"XyZ\"", body);
    REQUIRE(from_multipart);
    CHECK((*from_multipart)["CallSid"] == "c1");
    CHECK((*from_multipart)["Status"] == "busy");
    CHECK((*from_multipart)["ConversationDuration"] == "0");
}

TEST_CASE("exotel status callbacks: malformed bodies are refused with the reason") {
    CHECK(exotel::parse_status_callback("application/json", "[1,2").error().code == ErrorCode::invalid_request);
    CHECK(exotel::parse_status_callback("multipart/form-data", "x").error().code == ErrorCode::invalid_request);
    CHECK(exotel::parse_status_callback("multipart/form-data; boundary=b", "--b\r\nno end").error().code ==
          ErrorCode::invalid_request);
    CHECK(exotel::parse_status_callback("text/plain", "Status=completed").error().code == ErrorCode::unsupported_media_type);
}
