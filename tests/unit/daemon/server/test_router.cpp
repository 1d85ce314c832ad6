#include <catch2/catch.hpp>

#include "daemon/server/router.hpp"

using namespace va::http;

namespace {
Request request(std::string method, std::string path) {
    Request r;
    r.method = std::move(method);
    r.path = std::move(path);
    return r;
}
Handler answer(int status) {
    return [status](Request&) {
        Response r;
        r.status = status;
        return r;
    };
}
}  // namespace

TEST_CASE("router matches exact segments and captures parameters") {
    Router router;
    router.add("GET", "/api/v1/agents", answer(200));
    router.add("GET", "/api/v1/agents/{id}", answer(201));
    router.add("DELETE", "/api/v1/agents/{id}", answer(204));
    router.add("GET", "/api/v1/calls/{id}/transcript", answer(202), {true, "Transcript", false});

    auto list = request("GET", "/api/v1/agents");
    auto m = router.match(list);
    REQUIRE(m.handler);
    CHECK((*m.handler)(list).status == 200);
    CHECK(list.route == "/api/v1/agents");

    auto one = request("GET", "/api/v1/agents/agt_42");
    m = router.match(one);
    REQUIRE(m.handler);
    CHECK((*m.handler)(one).status == 201);
    CHECK(one.param("id") == "agt_42");
    CHECK(one.route == "/api/v1/agents/{id}");

    auto transcript = request("GET", "/api/v1/calls/c1/transcript");
    m = router.match(transcript);
    REQUIRE(m.handler);
    CHECK(m.options.offload);
    CHECK(transcript.param("id") == "c1");
}

TEST_CASE("router distinguishes unknown paths from unknown methods") {
    Router router;
    router.add("GET", "/api/v1/agents/{id}", answer(200));
    router.add("DELETE", "/api/v1/agents/{id}", answer(204));
    auto put = request("PUT", "/api/v1/agents/x");
    auto m = router.match(put);
    CHECK_FALSE(m.handler);
    CHECK(m.path_known);
    CHECK(m.allowed == "GET, DELETE");
    for (const char* path : {"/api/v1/agents", "/api/v1/agents/", "/api/v1/agents/x/y", "/nothing", "", "relative"}) {
        auto r = request("GET", path);
        auto none = router.match(r);
        CHECK_FALSE(none.handler);
        CHECK_FALSE(none.path_known);
    }
    CHECK(router.routes().size() == 2);
    CHECK(router.routes()[1].method == "DELETE");
}

TEST_CASE("query strings and percent-encoding decode") {
    CHECK(url_decode("a%20b+c") == "a b c");
    CHECK(url_decode("100%") == "100%");
    CHECK(url_decode("%zz") == "%zz");
    auto q = parse_query("limit=5&cursor=agt_1&name=front+desk&flag&since=2026-01-01T00%3A00%3A00Z");
    CHECK(q["limit"] == "5");
    CHECK(q["cursor"] == "agt_1");
    CHECK(q["name"] == "front desk");
    CHECK(q.count("flag") == 1);
    CHECK(q["since"] == "2026-01-01T00:00:00Z");
    Request r;
    r.headers = {{"content-type", "application/json"}, {"x-a", "1"}, {"x-a", "2"}};
    CHECK(r.header("x-a") == "1");
    CHECK(r.header("missing").empty());
}
