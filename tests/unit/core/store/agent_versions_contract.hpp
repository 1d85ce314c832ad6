// The Store contract for agent version history (part of store_contract.hpp, which includes it after its fixtures):
// every create and update keeps its version, the last kAgentVersionsKept are kept, deletion takes them along, and
// another workspace sees none of them.
// Thread-safety: called from the Catch thread only.
#pragma once

namespace contract {

inline std::vector<std::int64_t> version_numbers(const Page<AgentVersion>& page) {
    std::vector<std::int64_t> out;
    for (const auto& v : page.items) out.push_back(v.version);
    return out;
}

inline void agent_versions(Store& s) {
    auto a = workspace(s, "a");
    auto b = workspace(s, "b");
    Agent ag;
    ag.id = new_id("agt");
    ag.workspace_id = a.id;
    ag.name = "front";
    ag.definition = R"({"name":"front","greeting":"one"})";
    ag.created_at = ag.updated_at = now_ms();
    ag.updated_by = "usr_creator";
    REQUIRE(s.create_agent(ag));

    // The create is version 1, with who made it.
    auto first = s.list_agent_versions(a.id, ag.id, {});
    REQUIRE(first);
    REQUIRE(first->items.size() == 1);
    CHECK(first->items[0].version == 1);
    CHECK(first->items[0].name == "front");
    CHECK(first->items[0].definition == ag.definition);
    CHECK(first->items[0].updated_by == "usr_creator");
    CHECK(first->next_cursor.empty());

    // Each update adds the record as written: renamed, new definition, its writer (unknown is empty).
    ag.name = "front-desk";
    ag.definition = R"({"name":"front-desk","greeting":"two"})";
    ag.updated_by = "";
    auto updated = s.update_agent(ag);
    REQUIRE(updated);
    auto v2 = s.get_agent_version(a.id, ag.id, 2);
    REQUIRE(v2);
    CHECK(v2->name == "front-desk");
    CHECK(v2->definition == ag.definition);
    CHECK(v2->updated_at == updated->updated_at);
    CHECK(v2->updated_by.empty());
    CHECK(s.get_agent_version(a.id, ag.id, 1)->definition == R"({"name":"front","greeting":"one"})");
    CHECK(s.get_agent_version(a.id, ag.id, 3).error().code == ErrorCode::not_found);

    // A failed update (rename onto a taken name) keeps no version.
    agent(s, a, "taken");
    Agent clash = ag;
    clash.name = "taken";
    CHECK(s.update_agent(clash).error().code == ErrorCode::conflict);
    CHECK(s.get_agent_version(a.id, ag.id, 3).error().code == ErrorCode::not_found);

    // Another workspace sees no version of it, by list or by number.
    CHECK(s.list_agent_versions(b.id, ag.id, {})->items.empty());
    CHECK(s.get_agent_version(b.id, ag.id, 1).error().code == ErrorCode::not_found);

    // Pruning: after 60 versions only the last 50 remain, newest first, paged by version number.
    for (int i = 3; i <= 60; ++i) {
        ag.updated_by = "usr_" + std::to_string(i);
        REQUIRE(s.update_agent(ag));
    }
    CHECK(s.get_agent(a.id, ag.id)->version == 60);
    auto all = s.list_agent_versions(a.id, ag.id, {500, ""});
    REQUIRE(all);
    REQUIRE(all->items.size() == static_cast<std::size_t>(kAgentVersionsKept));
    CHECK(all->items.front().version == 60);
    CHECK(all->items.front().updated_by == "usr_60");
    CHECK(all->items.back().version == 11);
    CHECK(s.get_agent_version(a.id, ag.id, 10).error().code == ErrorCode::not_found);
    CHECK(s.get_agent_version(a.id, ag.id, 1).error().code == ErrorCode::not_found);
    auto page1 = s.list_agent_versions(a.id, ag.id, {3, ""});
    REQUIRE(page1);
    CHECK(version_numbers(*page1) == std::vector<std::int64_t>{60, 59, 58});
    CHECK(page1->next_cursor == "58");
    auto page2 = s.list_agent_versions(a.id, ag.id, {3, page1->next_cursor});
    CHECK(version_numbers(*page2) == std::vector<std::int64_t>{57, 56, 55});
    CHECK(s.list_agent_versions(a.id, ag.id, {3, "11"})->items.empty());
    CHECK(s.list_agent_versions(a.id, ag.id, {3, "x"}).error().code == ErrorCode::invalid_request);
    CHECK(s.list_agent_versions(a.id, ag.id, {3, "-1"}).error().code == ErrorCode::invalid_request);

    // Deleting the agent deletes its history; a new agent under the old name starts again at 1.
    REQUIRE(s.delete_agent(a.id, ag.id));
    CHECK(s.list_agent_versions(a.id, ag.id, {})->items.empty());
    auto again = agent(s, a, "front-desk");
    auto fresh = s.list_agent_versions(a.id, again.id, {});
    REQUIRE(fresh);
    CHECK(version_numbers(*fresh) == std::vector<std::int64_t>{1});
}

}  // namespace contract
