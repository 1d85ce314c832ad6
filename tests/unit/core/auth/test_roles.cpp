#include <catch2/catch.hpp>

#include "core/auth/roles.hpp"

using namespace va;

TEST_CASE("roles: names parse exactly and round-trip") {
    CHECK(parse_role("owner") == Role::owner);
    CHECK(parse_role("admin") == Role::admin);
    CHECK(parse_role("member") == Role::member);
    CHECK(parse_role("viewer") == Role::viewer);
    for (const char* bad : {"root", "Admin", "OWNER", "", " admin", "admin ", "superuser"}) {
        INFO(bad);
        CHECK_FALSE(parse_role(bad));
    }
    for (auto r : {Role::viewer, Role::member, Role::admin, Role::owner}) CHECK(parse_role(to_string(r)) == r);
}

TEST_CASE("roles: each role allows itself and everything below, nothing above") {
    const Role order[] = {Role::viewer, Role::member, Role::admin, Role::owner};
    for (int have = 0; have < 4; ++have)
        for (int need = 0; need < 4; ++need) {
            INFO(to_string(order[have]) << " needs " << to_string(order[need]));
            CHECK(role_allows(order[have], order[need]) == (have >= need));
        }
}
