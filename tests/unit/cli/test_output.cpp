#include <catch2/catch.hpp>

#include <sstream>

#include "cli/output.hpp"

using namespace va::cli;
using nlohmann::json;

TEST_CASE("print_table aligns columns to the widest cell and shortens times") {
    json items = json::array({{{"id", "agt_1"}, {"name", "receptionist"}, {"updated_at", "2026-11-24T03:34:04.123Z"}},
                              {{"id", "agt_22222"}, {"name", "x"}, {"updated_at", nullptr}}});
    std::ostringstream out;
    print_table({field("ID", "id"), field("NAME", "name"), field("UPDATED", "updated_at")}, items, out);
    CHECK(out.str() ==
          "ID         NAME          UPDATED\n"
          "agt_1      receptionist  2026-11-24 03:34:04\n"
          "agt_22222  x             -\n");
}

TEST_CASE("print_table of no items prints only the header") {
    std::ostringstream out;
    print_table({field("ID", "id"), field("NAME", "name")}, json::array(), out);
    CHECK(out.str() == "ID  NAME\n");
}

TEST_CASE("fields render absent values as '-' and non-strings as JSON") {
    json item{{"version", 3}, {"disabled", false}, {"label", nullptr}};
    CHECK(field("V", "version").value(item) == "3");
    CHECK(field("D", "disabled").value(item) == "false");
    CHECK(field("L", "label").value(item) == "-");
    CHECK(field("X", "missing").value(item) == "-");
}

TEST_CASE("print_fields aligns values after the longest header") {
    std::ostringstream out;
    print_fields({field("id", "id"), field("status", "status")}, json{{"id", "call_1"}, {"status", "completed"}}, out);
    CHECK(out.str() == "id:     call_1\nstatus: completed\n");
}

TEST_CASE("format_time and format_offset") {
    CHECK(format_time("2026-01-02T03:04:05.678Z") == "2026-01-02 03:04:05");
    CHECK(format_time(nullptr) == "-");
    CHECK(format_time("yesterday") == "yesterday");
    CHECK(format_offset(1234) == "00:01.2");
    CHECK(format_offset(62350) == "01:02.3");
    CHECK(format_offset(nullptr) == "--:--.-");
}

TEST_CASE("print_json is pretty with two spaces") {
    std::ostringstream out;
    print_json(json{{"a", 1}}, out);
    CHECK(out.str() == "{\n  \"a\": 1\n}\n");
}
