// The Store contract: behaviour every backend must show. A backend's test file defines
// `std::unique_ptr<va::Store> make_contract_store()` (a fresh, empty store) and includes this header once; the
// TEST_CASEs below then run against that backend.
#pragma once

#include <catch2/catch.hpp>

#include <atomic>
#include <set>
#include <thread>

#include "core/store/store.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"

std::unique_ptr<va::Store> make_contract_store();

namespace contract {

using namespace va;

inline Workspace workspace(Store& s, const std::string& name = "ws") {
    Workspace ws{new_id("ws"), name, now_ms()};
    REQUIRE(s.create_workspace(ws));
    return ws;
}

inline User user(Store& s, const Workspace& ws, const std::string& email, const std::string& role = "member") {
    User u;
    u.id = new_id("usr");
    u.workspace_id = ws.id;
    u.email = email;
    u.name = "Name";
    u.role = role;
    u.password_hash = "$argon2id$fake";
    u.created_at = u.updated_at = now_ms();
    REQUIRE(s.create_user(u));
    return u;
}

inline Agent agent(Store& s, const Workspace& ws, const std::string& name) {
    Agent a;
    a.id = new_id("agt");
    a.workspace_id = ws.id;
    a.name = name;
    a.definition = R"({"name":")" + name + R"("})";
    a.created_at = a.updated_at = now_ms();
    REQUIRE(s.create_agent(a));
    return a;
}

inline Call call(Store& s, const Workspace& ws, const std::string& agent_id, const std::string& status = "completed",
                 const std::string& direction = "outbound", std::int64_t created_at = 0) {
    Call c;
    c.id = new_id("call");
    c.workspace_id = ws.id;
    c.agent_id = agent_id;
    c.direction = direction;
    c.channel = "twilio";
    c.from_number = "+15550000001";
    c.to_number = "+15550000002";
    c.status = status;
    c.created_at = created_at ? created_at : now_ms();
    REQUIRE(s.create_call(c));
    return c;
}

}  // namespace contract

TEST_CASE("store contract: workspaces round trip and page", "[store]") {
    auto s = make_contract_store();
    auto a = contract::workspace(*s, "alpha");
    auto got = s->get_workspace(a.id);
    REQUIRE(got);
    CHECK(got->name == "alpha");
    CHECK(got->created_at == a.created_at);
    CHECK(s->get_workspace("ws_missing").error().code == va::ErrorCode::not_found);
    CHECK(s->create_workspace(a).error().code == va::ErrorCode::conflict);
    CHECK(*s->count_users() == 0);
}

TEST_CASE("store contract: users are unique by email, scoped by workspace", "[store]") {
    auto s = make_contract_store();
    auto a = contract::workspace(*s, "a");
    auto b = contract::workspace(*s, "b");
    auto u = contract::user(*s, a, "Alice@Example.com", "admin");
    CHECK(*s->count_users() == 1);
    REQUIRE(s->find_user_by_email("alice@example.COM"));
    CHECK(s->find_user_by_email("alice@example.com")->id == u.id);
    CHECK(s->get_user(a.id, u.id)->email == "alice@example.com");
    CHECK(s->get_user(b.id, u.id).error().code == va::ErrorCode::not_found);
    CHECK(s->get_user_by_id(u.id)->role == "admin");

    va::User dup = u;
    dup.id = va::new_id("usr");
    dup.workspace_id = b.id;
    auto conflict = s->create_user(dup);
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().code == va::ErrorCode::conflict);
    CHECK(conflict.error().message.find("alice@example.com") != std::string::npos);

    u.name = "Alice B";
    u.role = "viewer";
    u.disabled = true;
    REQUIRE(s->update_user(u));
    auto updated = s->get_user(a.id, u.id);
    CHECK(updated->name == "Alice B");
    CHECK(updated->role == "viewer");
    CHECK(updated->disabled);

    va::User other = u;
    other.workspace_id = b.id;
    CHECK(s->update_user(other).error().code == va::ErrorCode::not_found);
    CHECK(s->delete_user(b.id, u.id).error().code == va::ErrorCode::not_found);
    REQUIRE(s->delete_user(a.id, u.id));
    CHECK(s->get_user(a.id, u.id).error().code == va::ErrorCode::not_found);
}

TEST_CASE("store contract: API keys by hash, revocation scoped by workspace", "[store]") {
    auto s = make_contract_store();
    auto a = contract::workspace(*s, "a");
    auto b = contract::workspace(*s, "b");
    va::ApiKey k;
    k.id = va::new_id("key");
    k.workspace_id = a.id;
    k.name = "ci";
    k.role = "member";
    k.prefix = "vak_abcd";
    k.key_hash = "hash-1";
    k.created_at = va::now_ms();
    REQUIRE(s->create_api_key(k));
    auto found = s->find_api_key_by_hash("hash-1");
    REQUIRE(found);
    CHECK(found->user_id.empty());
    CHECK(found->revoked_at == 0);
    REQUIRE(s->touch_api_key(k.id, 1234));
    CHECK(s->find_api_key_by_hash("hash-1")->last_used_at == 1234);
    CHECK(s->list_api_keys(a.id, {})->items.size() == 1);
    CHECK(s->list_api_keys(b.id, {})->items.empty());
    CHECK(s->revoke_api_key(b.id, k.id, 99).error().code == va::ErrorCode::not_found);
    REQUIRE(s->revoke_api_key(a.id, k.id, 99));
    CHECK(s->find_api_key_by_hash("hash-1")->revoked_at == 99);
    CHECK(s->find_api_key_by_hash("nope").error().code == va::ErrorCode::not_found);
}

TEST_CASE("store contract: refresh tokens rotate once and families revoke together", "[store]") {
    auto s = make_contract_store();
    auto ws = contract::workspace(*s);
    auto u = contract::user(*s, ws, "r@example.com");
    va::RefreshToken t1{va::new_id("rft"), "fam-1", u.id, "h1", 1, 1000000, 0, ""};
    REQUIRE(s->create_refresh_token(t1));
    va::RefreshToken t2{va::new_id("rft"), "fam-1", u.id, "h2", 2, 1000000, 0, ""};
    REQUIRE(s->rotate_refresh_token(t1.id, t2, 50));
    auto old = s->find_refresh_token_by_hash("h1");
    CHECK(old->revoked_at == 50);
    CHECK(old->replaced_by == t2.id);
    va::RefreshToken t3{va::new_id("rft"), "fam-1", u.id, "h3", 3, 1000000, 0, ""};
    CHECK(s->rotate_refresh_token(t1.id, t3, 60).error().code == va::ErrorCode::conflict);
    CHECK(s->find_refresh_token_by_hash("h3").error().code == va::ErrorCode::not_found);  // nothing half-done
    REQUIRE(s->revoke_refresh_family("fam-1", 70));
    CHECK(s->find_refresh_token_by_hash("h2")->revoked_at == 70);
    va::RefreshToken t4{va::new_id("rft"), "fam-2", u.id, "h4", 4, 1000000, 0, ""};
    REQUIRE(s->create_refresh_token(t4));
    REQUIRE(s->revoke_user_refresh_tokens(u.id, 80));
    CHECK(s->find_refresh_token_by_hash("h4")->revoked_at == 80);
}

TEST_CASE("store contract: agents are unique by name per workspace and versioned", "[store]") {
    auto s = make_contract_store();
    auto a = contract::workspace(*s, "a");
    auto b = contract::workspace(*s, "b");
    auto agent = contract::agent(*s, a, "receptionist");
    contract::agent(*s, b, "receptionist");  // same name, other workspace: fine
    va::Agent dup = agent;
    dup.id = va::new_id("agt");
    auto conflict = s->create_agent(dup);
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().code == va::ErrorCode::conflict);
    CHECK(conflict.error().message.find("receptionist") != std::string::npos);

    CHECK(s->find_agent_by_name(a.id, "receptionist")->id == agent.id);
    CHECK(s->get_agent(b.id, agent.id).error().code == va::ErrorCode::not_found);

    agent.name = "front-desk";
    agent.definition = R"({"name":"front-desk"})";
    auto updated = s->update_agent(agent);
    REQUIRE(updated);
    CHECK(updated->version == 2);
    CHECK(updated->name == "front-desk");
    CHECK(updated->definition == agent.definition);
    CHECK(updated->created_at == agent.created_at);
    va::Agent foreign = agent;
    foreign.workspace_id = b.id;
    CHECK(s->update_agent(foreign).error().code == va::ErrorCode::not_found);
    CHECK(s->delete_agent(b.id, agent.id).error().code == va::ErrorCode::not_found);
    REQUIRE(s->delete_agent(a.id, agent.id));
    CHECK(s->get_agent(a.id, agent.id).error().code == va::ErrorCode::not_found);
}

TEST_CASE("store contract: pagination walks every item once, newest first", "[store]") {
    auto s = make_contract_store();
    auto ws = contract::workspace(*s);
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) ids.push_back(contract::agent(*s, ws, "agent-" + std::to_string(i)).id);
    std::vector<std::string> seen;
    va::PageRequest req{3, ""};
    int pages = 0;
    while (true) {
        auto page = s->list_agents(ws.id, req);
        REQUIRE(page);
        ++pages;
        for (auto& a : page->items) seen.push_back(a.id);
        if (page->next_cursor.empty()) break;
        req.cursor = page->next_cursor;
    }
    CHECK(pages == 3);
    std::vector<std::string> expected(ids.rbegin(), ids.rend());
    CHECK(seen == expected);
    CHECK(s->list_agents(ws.id, {7, ""})->next_cursor.empty());
    CHECK(s->list_agents(ws.id, {0, ""})->items.size() == 1);  // limits are clamped to 1..500
}

TEST_CASE("store contract: phone numbers are unique instance-wide and lose a deleted agent", "[store]") {
    auto s = make_contract_store();
    auto a = contract::workspace(*s, "a");
    auto b = contract::workspace(*s, "b");
    auto agent = contract::agent(*s, a, "x");
    va::PhoneNumber p{va::new_id("phn"), a.id, "+15551234567", "twilio", agent.id, "main", va::now_ms(), va::now_ms()};
    REQUIRE(s->create_phone(p));
    va::PhoneNumber dup = p;
    dup.id = va::new_id("phn");
    dup.workspace_id = b.id;
    dup.agent_id.clear();
    CHECK(s->create_phone(dup).error().code == va::ErrorCode::conflict);
    CHECK(s->find_phone_by_number("+15551234567")->workspace_id == a.id);
    CHECK(s->get_phone(b.id, p.id).error().code == va::ErrorCode::not_found);
    p.label = "sales";
    p.agent_id.clear();
    auto updated = s->update_phone(p);
    REQUIRE(updated);
    CHECK(updated->label == "sales");
    CHECK(updated->agent_id.empty());
    p.agent_id = agent.id;
    REQUIRE(s->update_phone(p));
    REQUIRE(s->delete_agent(a.id, agent.id));
    CHECK(s->get_phone(a.id, p.id)->agent_id.empty());
    CHECK(s->delete_phone(b.id, p.id).error().code == va::ErrorCode::not_found);
    REQUIRE(s->delete_phone(a.id, p.id));
    CHECK(s->list_phones(a.id, {})->items.empty());
}

TEST_CASE("store contract: calls filter, update and keep ordered turns", "[store]") {
    auto s = make_contract_store();
    auto a = contract::workspace(*s, "a");
    auto b = contract::workspace(*s, "b");
    auto c1 = contract::call(*s, a, "agt_1", "completed", "outbound", 1000);
    auto c2 = contract::call(*s, a, "agt_2", "failed", "inbound", 2000);
    auto c3 = contract::call(*s, a, "agt_1", "no-answer", "outbound", 3000);
    contract::call(*s, b, "agt_1");

    auto count = [&](va::CallFilter f) { return s->list_calls(a.id, f, {})->items.size(); };
    CHECK(count({}) == 3);
    CHECK(count({"agt_1", "", "", "", 0, 0}) == 2);
    CHECK(count({"", "failed", "", "", 0, 0}) == 1);
    CHECK(count({"", "", "", "outbound", 0, 0}) == 2);
    CHECK(count({"", "", "", "", 2000, 0}) == 2);
    CHECK(count({"", "", "", "", 0, 2000}) == 1);
    CHECK(count({"agt_1", "", "", "", 2000, 0}) == 1);
    CHECK(s->get_call(b.id, c1.id).error().code == va::ErrorCode::not_found);

    c2.status = "completed";
    c2.duration_s = 12.5;
    c2.end_reason = "caller_hangup";
    c2.metrics = R"({"llm_first_token_ms":120})";
    REQUIRE(s->update_call(c2));
    auto got = s->get_call(a.id, c2.id);
    CHECK(got->status == "completed");
    CHECK(got->duration_s == Approx(12.5));
    CHECK(got->metrics == c2.metrics);

    auto t1 = s->append_turn({c3.id, 0, "agent", "Hello", 0, 900, false, "llm"});
    auto t2 = s->append_turn({c3.id, 0, "user", "Hi", 1000, 1500, false, "stt"});
    auto t3 = s->append_turn({c3.id, 0, "agent", "How can I", 1600, 2000, true, "llm"});
    REQUIRE(t1);
    REQUIRE(t2);
    REQUIRE(t3);
    CHECK(t1->seq == 1);
    CHECK(t3->seq == 3);
    auto turns = s->list_turns(c3.id);
    REQUIRE(turns->size() == 3);
    CHECK((*turns)[1].text == "Hi");
    CHECK((*turns)[2].interrupted);
    CHECK(s->append_turn({"call_missing", 0, "user", "x", 0, 0, false, ""}).error().code == va::ErrorCode::not_found);
}

TEST_CASE("store contract: deleting nothing and concurrent use", "[store]") {
    auto s = make_contract_store();
    auto ws = contract::workspace(*s);
    auto c = contract::call(*s, ws, "agt_1");
    std::atomic<int> failures{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < 100; ++i) {
                va::Agent a;
                a.id = va::new_id("agt");
                a.workspace_id = ws.id;
                a.name = "t" + std::to_string(t) + "-" + std::to_string(i);
                a.definition = "{}";
                a.created_at = a.updated_at = va::now_ms();
                if (!s->create_agent(a)) ++failures;
                if (!s->get_agent(ws.id, a.id)) ++failures;
                if (!s->append_turn({c.id, 0, "user", "x", 0, 0, false, ""})) ++failures;
            }
        });
    }
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    auto turns = s->list_turns(c.id);
    REQUIRE(turns->size() == 400);
    std::set<std::int64_t> seqs;
    for (auto& t : *turns) seqs.insert(t.seq);
    CHECK(seqs.size() == 400);
    CHECK(*seqs.rbegin() == 400);
}
