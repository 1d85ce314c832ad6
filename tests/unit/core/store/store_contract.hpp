// The Store contract: behaviour every backend must show. A backend's test calls
// `contract::run_store_contract(factory)` from one TEST_CASE, where `factory` returns a fresh, empty store; each
// behaviour is a SECTION, so Catch re-enters the test case once per behaviour and every one gets its own store.
// Several backends can therefore run the same contract inside one test binary.
// Thread-safety: the helpers are called from the Catch thread; only `concurrent_use` starts threads of its own.
#pragma once

#include <catch2/catch.hpp>

#include <algorithm>
#include <atomic>
#include <functional>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>

#include "core/store/store.hpp"
#include "core/util/ids.hpp"
#include "core/util/time.hpp"

namespace contract {

using namespace va;

using StoreFactory = std::function<std::unique_ptr<Store>()>;

// --- fixtures ----------------------------------------------------------------------------------------------------

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

inline PhoneNumber phone(Store& s, const Workspace& ws, const std::string& number, const std::string& agent_id = "") {
    PhoneNumber p{new_id("phn"), ws.id, number, "twilio", agent_id, "main", now_ms(), now_ms()};
    REQUIRE(s.create_phone(p));
    return p;
}

inline ApiKey api_key(Store& s, const Workspace& ws, const std::string& hash, const std::string& user_id = "") {
    ApiKey k;
    k.id = new_id("key");
    k.workspace_id = ws.id;
    k.user_id = user_id;
    k.name = "ci";
    k.role = "member";
    k.prefix = "vak_abcd";
    k.key_hash = hash;
    k.created_at = now_ms();
    REQUIRE(s.create_api_key(k));
    return k;
}

inline Call call(Store& s, const Workspace& ws, const std::string& agent_id, const std::string& status = "completed",
                 const std::string& direction = "outbound", std::int64_t created_at = 0,
                 const std::string& campaign_id = "") {
    Call c;
    c.id = new_id("call");
    c.workspace_id = ws.id;
    c.agent_id = agent_id;
    c.campaign_id = campaign_id;
    c.direction = direction;
    c.channel = "twilio";
    c.from_number = "+15550000001";
    c.to_number = "+15550000002";
    c.status = status;
    c.created_at = created_at ? created_at : now_ms();
    REQUIRE(s.create_call(c));
    return c;
}

// Walks every page of `list(PageRequest)` and returns the ids in the order seen, checking the page sizes.
template <class List>
std::vector<std::string> walk_pages(List list, int limit, int* pages_out = nullptr) {
    std::vector<std::string> seen;
    PageRequest req{limit, ""};
    int pages = 0;
    while (true) {
        auto page = list(req);
        REQUIRE(page);
        ++pages;
        REQUIRE(pages < 1000);  // a cursor that never ends is a bug, not a long list
        CHECK(static_cast<int>(page->items.size()) <= limit);
        for (auto& item : page->items) seen.push_back(item.id);
        if (page->next_cursor.empty()) break;
        CHECK(page->items.size() == static_cast<std::size_t>(limit));
        CHECK(page->next_cursor == page->items.back().id);
        req.cursor = page->next_cursor;
    }
    if (pages_out) *pages_out = pages;
    return seen;
}

inline ErrorCode code_of(const Status& s) { return s ? ErrorCode::internal : s.error().code; }

// --- behaviours --------------------------------------------------------------------------------------------------

inline void workspaces(Store& s) {
    auto a = workspace(s, "alpha");
    auto got = s.get_workspace(a.id);
    REQUIRE(got);
    CHECK(got->name == "alpha");
    CHECK(got->created_at == a.created_at);
    CHECK(s.get_workspace("ws_missing").error().code == ErrorCode::not_found);
    REQUIRE_FALSE(s.create_workspace(a));
    CHECK(s.create_workspace(a).error().code == ErrorCode::conflict);
    CHECK(*s.count_users() == 0);

    std::vector<std::string> ids{a.id};
    for (int i = 0; i < 4; ++i) ids.push_back(workspace(s, "w" + std::to_string(i)).id);
    int pages = 0;
    auto seen = walk_pages([&](const PageRequest& r) { return s.list_workspaces(r); }, 2, &pages);
    CHECK(pages == 3);
    CHECK(seen == std::vector<std::string>(ids.rbegin(), ids.rend()));
}

inline void users(Store& s) {
    auto a = workspace(s, "a");
    auto b = workspace(s, "b");
    auto u = user(s, a, "Alice@Example.com", "admin");
    CHECK(*s.count_users() == 1);
    REQUIRE(s.find_user_by_email("alice@example.COM"));
    CHECK(s.find_user_by_email("alice@example.com")->id == u.id);
    CHECK(s.find_user_by_email("bob@example.com").error().code == ErrorCode::not_found);
    auto stored = s.get_user(a.id, u.id);
    REQUIRE(stored);
    CHECK(stored->email == "alice@example.com");
    CHECK(stored->name == "Name");
    CHECK(stored->password_hash == "$argon2id$fake");
    CHECK_FALSE(stored->disabled);
    CHECK(stored->created_at == u.created_at);
    CHECK(s.get_user(b.id, u.id).error().code == ErrorCode::not_found);
    CHECK(s.get_user_by_id(u.id)->role == "admin");
    CHECK(s.get_user_by_id("usr_missing").error().code == ErrorCode::not_found);

    User dup = u;
    dup.id = new_id("usr");
    dup.workspace_id = b.id;
    auto conflict = s.create_user(dup);
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().code == ErrorCode::conflict);
    CHECK(conflict.error().message.find("alice@example.com") != std::string::npos);

    u.name = "Alice B";
    u.role = "viewer";
    u.disabled = true;
    u.password_hash.clear();
    REQUIRE(s.update_user(u));
    auto updated = s.get_user(a.id, u.id);
    CHECK(updated->name == "Alice B");
    CHECK(updated->role == "viewer");
    CHECK(updated->disabled);
    CHECK(updated->password_hash.empty());
    CHECK(updated->updated_at >= u.created_at);

    auto carol = user(s, a, "carol@example.com");
    carol.email = "ALICE@example.com";  // taking someone else's email is a conflict on update too
    CHECK(code_of(s.update_user(carol)) == ErrorCode::conflict);
    carol.email = "Carol2@Example.com";
    REQUIRE(s.update_user(carol));
    CHECK(s.get_user(a.id, carol.id)->email == "carol2@example.com");

    User other = u;
    other.workspace_id = b.id;
    CHECK(code_of(s.update_user(other)) == ErrorCode::not_found);
    CHECK(code_of(s.delete_user(b.id, u.id)) == ErrorCode::not_found);
    CHECK(s.list_users(b.id, {})->items.empty());
    CHECK(s.list_users(a.id, {})->items.size() == 2);
    REQUIRE(s.delete_user(a.id, u.id));
    CHECK(s.get_user(a.id, u.id).error().code == ErrorCode::not_found);
    CHECK(s.find_user_by_email("alice@example.com").error().code == ErrorCode::not_found);
    CHECK(code_of(s.delete_user(a.id, u.id)) == ErrorCode::not_found);
    CHECK(*s.count_users() == 1);
}

inline void api_keys(Store& s) {
    auto a = workspace(s, "a");
    auto b = workspace(s, "b");
    auto k = api_key(s, a, "hash-1");
    auto found = s.find_api_key_by_hash("hash-1");
    REQUIRE(found);
    CHECK(found->id == k.id);
    CHECK(found->workspace_id == a.id);
    CHECK(found->user_id.empty());
    CHECK(found->prefix == "vak_abcd");
    CHECK(found->role == "member");
    CHECK(found->revoked_at == 0);
    CHECK(found->last_used_at == 0);
    REQUIRE(s.touch_api_key(k.id, 1234));
    CHECK(s.find_api_key_by_hash("hash-1")->last_used_at == 1234);

    auto u = user(s, a, "owner@example.com", "owner");
    auto k2 = api_key(s, a, "hash-2", u.id);
    CHECK(s.find_api_key_by_hash("hash-2")->user_id == u.id);
    ApiKey dup = k2;
    dup.id = new_id("key");
    CHECK(code_of(s.create_api_key(dup)) == ErrorCode::conflict);

    auto listed = s.list_api_keys(a.id, {});
    REQUIRE(listed->items.size() == 2);
    CHECK(listed->items[0].id == k2.id);  // newest first
    CHECK(s.list_api_keys(b.id, {})->items.empty());
    CHECK(code_of(s.revoke_api_key(b.id, k.id, 99)) == ErrorCode::not_found);
    CHECK(s.find_api_key_by_hash("hash-1")->revoked_at == 0);
    REQUIRE(s.revoke_api_key(a.id, k.id, 99));
    CHECK(s.find_api_key_by_hash("hash-1")->revoked_at == 99);
    CHECK(s.find_api_key_by_hash("hash-2")->revoked_at == 0);
    CHECK(code_of(s.revoke_api_key(a.id, "key_missing", 99)) == ErrorCode::not_found);
    CHECK(s.find_api_key_by_hash("nope").error().code == ErrorCode::not_found);
}

inline void refresh_tokens(Store& s) {
    auto ws = workspace(s);
    auto u = user(s, ws, "r@example.com");
    RefreshToken t1{new_id("rft"), "fam-1", u.id, "h1", 1, 1000000, 0, ""};
    REQUIRE(s.create_refresh_token(t1));
    auto got = s.find_refresh_token_by_hash("h1");
    REQUIRE(got);
    CHECK(got->id == t1.id);
    CHECK(got->family_id == "fam-1");
    CHECK(got->user_id == u.id);
    CHECK(got->expires_at == 1000000);
    CHECK(got->revoked_at == 0);
    CHECK(got->replaced_by.empty());
    RefreshToken same_hash{new_id("rft"), "fam-9", u.id, "h1", 1, 1000000, 0, ""};
    CHECK(code_of(s.create_refresh_token(same_hash)) == ErrorCode::conflict);

    RefreshToken t2{new_id("rft"), "fam-1", u.id, "h2", 2, 1000000, 0, ""};
    REQUIRE(s.rotate_refresh_token(t1.id, t2, 50));
    auto old = s.find_refresh_token_by_hash("h1");
    CHECK(old->revoked_at == 50);
    CHECK(old->replaced_by == t2.id);
    auto next = s.find_refresh_token_by_hash("h2");
    REQUIRE(next);
    CHECK(next->revoked_at == 0);
    CHECK(next->family_id == "fam-1");

    // Reuse of a rotated token: refused, and nothing of the failed rotation is left behind.
    RefreshToken t3{new_id("rft"), "fam-1", u.id, "h3", 3, 1000000, 0, ""};
    CHECK(code_of(s.rotate_refresh_token(t1.id, t3, 60)) == ErrorCode::conflict);
    CHECK(s.find_refresh_token_by_hash("h3").error().code == ErrorCode::not_found);
    CHECK(s.find_refresh_token_by_hash("h1")->replaced_by == t2.id);

    RefreshToken t4{new_id("rft"), "fam-2", u.id, "h4", 4, 1000000, 0, ""};
    REQUIRE(s.create_refresh_token(t4));
    REQUIRE(s.revoke_refresh_family("fam-1", 70));
    CHECK(s.find_refresh_token_by_hash("h2")->revoked_at == 70);
    CHECK(s.find_refresh_token_by_hash("h1")->revoked_at == 50);  // an earlier revocation keeps its time
    CHECK(s.find_refresh_token_by_hash("h4")->revoked_at == 0);   // other families are untouched
    // A revoked token cannot be rotated either.
    RefreshToken t5{new_id("rft"), "fam-1", u.id, "h5", 5, 1000000, 0, ""};
    CHECK(code_of(s.rotate_refresh_token(t2.id, t5, 75)) == ErrorCode::conflict);

    auto other = user(s, ws, "other@example.com");
    RefreshToken t6{new_id("rft"), "fam-3", other.id, "h6", 6, 1000000, 0, ""};
    REQUIRE(s.create_refresh_token(t6));
    REQUIRE(s.revoke_user_refresh_tokens(u.id, 80));
    CHECK(s.find_refresh_token_by_hash("h4")->revoked_at == 80);
    CHECK(s.find_refresh_token_by_hash("h6")->revoked_at == 0);
}

inline void agents(Store& s) {
    auto a = workspace(s, "a");
    auto b = workspace(s, "b");
    auto ag = agent(s, a, "receptionist");
    agent(s, b, "receptionist");  // same name, other workspace: fine
    auto got = s.get_agent(a.id, ag.id);
    REQUIRE(got);
    CHECK(got->name == "receptionist");
    CHECK(got->definition == ag.definition);
    CHECK(got->version == 1);
    CHECK(got->created_at == ag.created_at);

    Agent dup = ag;
    dup.id = new_id("agt");
    auto conflict = s.create_agent(dup);
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().code == ErrorCode::conflict);
    CHECK(conflict.error().message.find("receptionist") != std::string::npos);

    CHECK(s.find_agent_by_name(a.id, "receptionist")->id == ag.id);
    CHECK(s.find_agent_by_name(a.id, "nobody").error().code == ErrorCode::not_found);
    CHECK(s.find_agent_by_name(b.id, "receptionist")->id != ag.id);
    CHECK(s.get_agent(b.id, ag.id).error().code == ErrorCode::not_found);

    ag.name = "front-desk";
    ag.definition = R"({"name":"front-desk"})";
    auto updated = s.update_agent(ag);
    REQUIRE(updated);
    CHECK(updated->version == 2);
    CHECK(updated->name == "front-desk");
    CHECK(updated->definition == ag.definition);
    CHECK(updated->created_at == ag.created_at);
    CHECK(updated->updated_at >= ag.created_at);
    CHECK(s.get_agent(a.id, ag.id)->version == 2);
    CHECK(s.find_agent_by_name(a.id, "receptionist").error().code == ErrorCode::not_found);
    CHECK(s.update_agent(ag)->version == 3);

    // Renaming onto a taken name is a conflict, and leaves the agent as it was.
    auto second = agent(s, a, "sales");
    second.name = "front-desk";
    auto clash = s.update_agent(second);
    REQUIRE_FALSE(clash);
    CHECK(clash.error().code == ErrorCode::conflict);
    CHECK(clash.error().message.find("front-desk") != std::string::npos);
    CHECK(s.get_agent(a.id, second.id)->name == "sales");
    CHECK(s.get_agent(a.id, second.id)->version == 1);

    Agent foreign = ag;
    foreign.workspace_id = b.id;
    CHECK(s.update_agent(foreign).error().code == ErrorCode::not_found);
    CHECK(s.get_agent(a.id, ag.id)->name == "front-desk");
    CHECK(code_of(s.delete_agent(b.id, ag.id)) == ErrorCode::not_found);
    REQUIRE(s.delete_agent(a.id, ag.id));
    CHECK(s.get_agent(a.id, ag.id).error().code == ErrorCode::not_found);
    CHECK(code_of(s.delete_agent(a.id, ag.id)) == ErrorCode::not_found);
    Agent gone = ag;
    CHECK(s.update_agent(gone).error().code == ErrorCode::not_found);
}

inline void pagination(Store& s) {
    auto ws = workspace(s);
    auto other = workspace(s, "other");
    agent(s, other, "noise");
    std::vector<std::string> ids;
    for (int i = 0; i < 7; ++i) ids.push_back(agent(s, ws, "agent-" + std::to_string(i)).id);
    int pages = 0;
    auto seen = walk_pages([&](const PageRequest& r) { return s.list_agents(ws.id, r); }, 3, &pages);
    CHECK(pages == 3);
    CHECK(seen == std::vector<std::string>(ids.rbegin(), ids.rend()));
    CHECK(s.list_agents(ws.id, {7, ""})->next_cursor.empty());
    CHECK(s.list_agents(ws.id, {7, ""})->items.size() == 7);
    CHECK(s.list_agents(ws.id, {6, ""})->next_cursor == ids[1]);
    CHECK(s.list_agents(ws.id, {0, ""})->items.size() == 1);       // limits are clamped to 1..500
    CHECK(s.list_agents(ws.id, {-5, ""})->items.size() == 1);
    CHECK(s.list_agents(ws.id, {100000, ""})->items.size() == 7);  // ...and a huge one is not an error
    CHECK(s.list_agents(ws.id, {50, ids[0]})->items.empty());      // cursor at the oldest: nothing older

    // Users, keys and phones page the same way.
    std::vector<std::string> users_made, keys_made, phones_made;
    for (int i = 0; i < 5; ++i) {
        users_made.push_back(user(s, ws, "u" + std::to_string(i) + "@example.com").id);
        keys_made.push_back(api_key(s, ws, "key-hash-" + std::to_string(i)).id);
        phones_made.push_back(phone(s, ws, "+1555000000" + std::to_string(i)).id);
    }
    CHECK(walk_pages([&](const PageRequest& r) { return s.list_users(ws.id, r); }, 2) ==
          std::vector<std::string>(users_made.rbegin(), users_made.rend()));
    CHECK(walk_pages([&](const PageRequest& r) { return s.list_api_keys(ws.id, r); }, 2) ==
          std::vector<std::string>(keys_made.rbegin(), keys_made.rend()));
    CHECK(walk_pages([&](const PageRequest& r) { return s.list_phones(ws.id, r); }, 4) ==
          std::vector<std::string>(phones_made.rbegin(), phones_made.rend()));
}

inline void phones(Store& s) {
    auto a = workspace(s, "a");
    auto b = workspace(s, "b");
    auto ag = agent(s, a, "x");
    auto p = phone(s, a, "+15551234567", ag.id);
    auto got = s.get_phone(a.id, p.id);
    REQUIRE(got);
    CHECK(got->number == "+15551234567");
    CHECK(got->provider == "twilio");
    CHECK(got->agent_id == ag.id);
    CHECK(got->label == "main");
    auto bare = phone(s, a, "+15557654321");
    CHECK(s.get_phone(a.id, bare.id)->agent_id.empty());

    PhoneNumber dup = p;
    dup.id = new_id("phn");
    dup.workspace_id = b.id;
    dup.agent_id.clear();
    auto conflict = s.create_phone(dup);
    REQUIRE_FALSE(conflict);
    CHECK(conflict.error().code == ErrorCode::conflict);
    CHECK(conflict.error().message.find("+15551234567") != std::string::npos);
    CHECK(s.find_phone_by_number("+15551234567")->workspace_id == a.id);
    CHECK(s.find_phone_by_number("+19999999999").error().code == ErrorCode::not_found);
    CHECK(s.get_phone(b.id, p.id).error().code == ErrorCode::not_found);

    p.label = "sales";
    p.agent_id.clear();
    auto updated = s.update_phone(p);
    REQUIRE(updated);
    CHECK(updated->label == "sales");
    CHECK(updated->agent_id.empty());
    CHECK(updated->created_at == p.created_at);
    PhoneNumber foreign = p;
    foreign.workspace_id = b.id;
    foreign.label = "stolen";
    CHECK(s.update_phone(foreign).error().code == ErrorCode::not_found);
    CHECK(s.get_phone(a.id, p.id)->label == "sales");

    p.agent_id = ag.id;
    REQUIRE(s.update_phone(p));
    CHECK(s.get_phone(a.id, p.id)->agent_id == ag.id);
    REQUIRE(s.delete_agent(a.id, ag.id));
    CHECK(s.get_phone(a.id, p.id)->agent_id.empty());  // the number survives, unassigned
    CHECK(code_of(s.delete_phone(b.id, p.id)) == ErrorCode::not_found);
    REQUIRE(s.delete_phone(a.id, p.id));
    CHECK(code_of(s.delete_phone(a.id, p.id)) == ErrorCode::not_found);
    CHECK(s.list_phones(a.id, {})->items.size() == 1);
    phone(s, b, "+15551234567");  // a released number can be registered again, by anyone
}

inline void calls(Store& s) {
    auto a = workspace(s, "a");
    auto b = workspace(s, "b");
    auto c1 = call(s, a, "agt_1", "completed", "outbound", 1000, "cmp_1");
    auto c2 = call(s, a, "agt_2", "failed", "inbound", 2000);
    auto c3 = call(s, a, "agt_1", "no-answer", "outbound", 3000, "cmp_1");
    call(s, b, "agt_1");

    auto got = s.get_call(a.id, c1.id);
    REQUIRE(got);
    CHECK(got->agent_id == "agt_1");
    CHECK(got->campaign_id == "cmp_1");
    CHECK(got->phone_id.empty());
    CHECK(got->provider_call_id.empty());
    CHECK(got->channel == "twilio");
    CHECK(got->from_number == "+15550000001");
    CHECK(got->to_number == "+15550000002");
    CHECK(got->created_at == 1000);

    auto ids = [&](CallFilter f) {
        std::vector<std::string> out;
        auto page = s.list_calls(a.id, f, {});
        REQUIRE(page);
        for (auto& c : page->items) out.push_back(c.id);
        return out;
    };
    using V = std::vector<std::string>;
    CHECK(ids({}) == V{c3.id, c2.id, c1.id});
    CHECK(ids({"agt_1", "", "", "", 0, 0}) == V{c3.id, c1.id});
    CHECK(ids({"", "failed", "", "", 0, 0}) == V{c2.id});
    CHECK(ids({"", "", "cmp_1", "", 0, 0}) == V{c3.id, c1.id});
    CHECK(ids({"", "", "", "outbound", 0, 0}) == V{c3.id, c1.id});
    CHECK(ids({"", "", "", "inbound", 0, 0}) == V{c2.id});
    CHECK(ids({"", "", "", "", 2000, 0}) == V{c3.id, c2.id});
    CHECK(ids({"", "", "", "", 0, 2000}) == V{c1.id});
    CHECK(ids({"", "", "", "", 1000, 3000}) == V{c2.id, c1.id});
    CHECK(ids({"agt_1", "", "", "", 2000, 0}) == V{c3.id});
    CHECK(ids({"agt_1", "completed", "cmp_1", "outbound", 1000, 1001}) == V{c1.id});
    CHECK(ids({"agt_2", "completed", "", "", 0, 0}).empty());
    CHECK(s.list_calls(b.id, {}, {})->items.size() == 1);
    CHECK(s.get_call(b.id, c1.id).error().code == ErrorCode::not_found);
    CHECK(s.get_call(a.id, "call_missing").error().code == ErrorCode::not_found);
    CHECK(s.find_call(c1.id)->workspace_id == a.id);  // carriers name the call alone
    CHECK(s.find_call("call_missing").error().code == ErrorCode::not_found);
    // An Idempotency-Key is claimed once per workspace; a retry gets the first call back.
    CHECK(s.claim_idempotency_key(a.id, "k1", c1.id, 1).value() == c1.id);
    CHECK(s.claim_idempotency_key(a.id, "k1", "call_other", 2).value() == c1.id);
    CHECK(s.claim_idempotency_key(b.id, "k1", "call_b", 3).value() == "call_b");

    c2.status = "completed";
    c2.duration_s = 12.5;
    c2.end_reason = "caller_hangup";
    c2.summary = "not written by update_call";
    c2.provider_call_id = "CA123";
    c2.phone_id = "phn_1";
    c2.started_at = 2001;
    c2.answered_at = 2002;
    c2.ended_at = 2003;
    c2.metrics = R"({"llm_first_token_ms":120})";
    REQUIRE(s.update_call(c2));
    auto updated = s.get_call(a.id, c2.id);
    REQUIRE(updated);
    CHECK(updated->status == "completed");
    CHECK(updated->duration_s == Approx(12.5));
    CHECK(updated->end_reason == "caller_hangup");
    CHECK(updated->summary.empty());
    CHECK(updated->provider_call_id == "CA123");
    // The post-call analysis has a write of its own, which later writes of the rest of the call leave alone.
    REQUIRE(s.set_call_analysis(c2.id, "answered", "asked about opening hours", R"({"fields":{"x":1}})"));
    REQUIRE(s.update_call(c2));
    updated = s.get_call(a.id, c2.id);
    CHECK(updated->outcome == "answered");
    CHECK(updated->summary == "asked about opening hours");
    CHECK(updated->analysis == R"({"fields":{"x":1}})");
    CHECK(code_of(s.set_call_analysis("call_missing", "answered", "", "{}")) == ErrorCode::not_found);
    CHECK(updated->phone_id == "phn_1");
    CHECK(updated->started_at == 2001);
    CHECK(updated->answered_at == 2002);
    CHECK(updated->ended_at == 2003);
    CHECK(updated->metrics == c2.metrics);
    CHECK(updated->created_at == 2000);
    Call foreign = c2;
    foreign.workspace_id = b.id;
    foreign.status = "canceled";
    CHECK(code_of(s.update_call(foreign)) == ErrorCode::not_found);
    CHECK(s.get_call(a.id, c2.id)->status == "completed");
    Call missing = c2;
    missing.id = "call_missing";
    CHECK(code_of(s.update_call(missing)) == ErrorCode::not_found);

    // Paging with a filter: the cursor and the filter combine, no gaps or repeats.
    std::vector<std::string> matching;
    for (int i = 0; i < 7; ++i) {
        matching.push_back(call(s, a, "agt_page", "completed", "outbound", 5000 + i).id);
        call(s, a, "agt_other", "completed", "outbound", 5000 + i);
    }
    CallFilter by_agent{"agt_page", "", "", "", 0, 0};
    int pages = 0;
    auto seen = walk_pages([&](const PageRequest& r) { return s.list_calls(a.id, by_agent, r); }, 3, &pages);
    CHECK(pages == 3);
    CHECK(seen == std::vector<std::string>(matching.rbegin(), matching.rend()));
}

inline void turns(Store& s) {
    auto a = workspace(s, "a");
    auto c = call(s, a, "agt_1");
    auto t1 = s.append_turn({c.id, 0, "agent", "Hello", 0, 900, false, "llm"});
    auto t2 = s.append_turn({c.id, 0, "user", "Hi", 1000, 1500, false, "stt"});
    auto t3 = s.append_turn({c.id, 0, "agent", "How can I", 1600, 2000, true, "llm"});
    REQUIRE(t1);
    REQUIRE(t2);
    REQUIRE(t3);
    CHECK(t1->seq == 1);
    CHECK(t2->seq == 2);
    CHECK(t3->seq == 3);
    CHECK(t3->text == "How can I");
    auto listed = s.list_turns(c.id);
    REQUIRE(listed);
    REQUIRE(listed->size() == 3);
    CHECK((*listed)[0].role == "agent");
    CHECK((*listed)[0].source == "llm");
    CHECK((*listed)[0].ended_ms == 900);
    CHECK((*listed)[1].text == "Hi");
    CHECK((*listed)[1].started_ms == 1000);
    CHECK_FALSE((*listed)[1].interrupted);
    CHECK((*listed)[2].interrupted);
    CHECK((*listed)[2].call_id == c.id);

    // An explicit seq is kept; the next assigned one follows the highest so far; a taken seq is a conflict.
    auto explicit_seq = s.append_turn({c.id, 10, "system", "note", 0, 0, false, ""});
    REQUIRE(explicit_seq);
    CHECK(explicit_seq->seq == 10);
    CHECK(s.append_turn({c.id, 0, "user", "after", 0, 0, false, ""})->seq == 11);
    auto taken = s.append_turn({c.id, 2, "user", "again", 0, 0, false, ""});
    REQUIRE_FALSE(taken);
    CHECK(taken.error().code == ErrorCode::conflict);
    CHECK(s.list_turns(c.id)->size() == 5);
    CHECK(s.list_turns(c.id)->back().seq == 11);

    // Each call numbers its own turns.
    auto other = call(s, a, "agt_1");
    CHECK(s.append_turn({other.id, 0, "user", "x", 0, 0, false, ""})->seq == 1);
    CHECK(s.list_turns("call_missing")->empty());
    CHECK(s.append_turn({"call_missing", 0, "user", "x", 0, 0, false, ""}).error().code == ErrorCode::not_found);
}

// A call keeps the id of an agent that no longer exists: history outlives configuration.
inline void call_history_survives_agent_deletion(Store& s) {
    auto ws = workspace(s);
    auto ag = agent(s, ws, "temp");
    auto c = call(s, ws, ag.id);
    REQUIRE(s.append_turn({c.id, 0, "user", "x", 0, 0, false, ""}));
    REQUIRE(s.delete_agent(ws.id, ag.id));
    auto got = s.get_call(ws.id, c.id);
    REQUIRE(got);
    CHECK(got->agent_id == ag.id);
    CHECK(s.list_calls(ws.id, {ag.id, "", "", "", 0, 0}, {})->items.size() == 1);
    CHECK(s.list_turns(c.id)->size() == 1);
}

inline void concurrent_use(Store& s) {
    constexpr int kThreads = 4;
    constexpr int kEach = 200;
    auto ws = workspace(s);
    auto c = call(s, ws, "agt_1");
    auto u = user(s, ws, "rot@example.com");
    RefreshToken root{new_id("rft"), "fam-race", u.id, "race-0", 1, 1000000, 0, ""};
    REQUIRE(s.create_refresh_token(root));
    std::atomic<int> failures{0};
    std::atomic<int> rotations{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
        threads.emplace_back([&, t] {
            for (int i = 0; i < kEach; ++i) {
                Agent a;
                a.id = new_id("agt");
                a.workspace_id = ws.id;
                a.name = "t" + std::to_string(t) + "-" + std::to_string(i);
                a.definition = "{}";
                a.created_at = a.updated_at = now_ms();
                if (!s.create_agent(a)) ++failures;
                if (!s.get_agent(ws.id, a.id)) ++failures;
                if (!s.find_agent_by_name(ws.id, a.name)) ++failures;
                if (!s.append_turn({c.id, 0, "user", "x", 0, 0, false, ""})) ++failures;
                if (i % 20 == 0 && !s.list_agents(ws.id, {10, ""})) ++failures;
            }
            // Every thread races to rotate the same token: exactly one may win.
            RefreshToken next{new_id("rft"), "fam-race", u.id, "race-" + std::to_string(t + 1), 2, 1000000, 0, ""};
            auto r = s.rotate_refresh_token(root.id, next, 5);
            if (r) ++rotations;
            else if (r.error().code != ErrorCode::conflict) ++failures;
        });
    }
    for (auto& t : threads) t.join();
    CHECK(failures == 0);
    CHECK(rotations == 1);
    auto listed = s.list_turns(c.id);
    REQUIRE(listed);
    REQUIRE(listed->size() == static_cast<std::size_t>(kThreads * kEach));
    std::set<std::int64_t> seqs;
    for (auto& turn : *listed) seqs.insert(turn.seq);
    CHECK(seqs.size() == static_cast<std::size_t>(kThreads * kEach));
    CHECK(*seqs.rbegin() == kThreads * kEach);
    auto all = walk_pages([&](const PageRequest& r) { return s.list_agents(ws.id, r); }, 500);
    CHECK(all.size() == static_cast<std::size_t>(kThreads * kEach));
    CHECK(std::set<std::string>(all.begin(), all.end()).size() == all.size());
}

inline Job job(const std::string& type, int priority = 0, std::int64_t run_after = 0, const std::string& key = "") {
    Job j;
    j.id = new_id("job");
    j.type = type;
    j.payload = R"({"n":1})";
    j.priority = priority;
    j.created_at = now_ms();
    j.run_after = run_after ? run_after : j.created_at;
    j.idempotency_key = key;
    j.max_attempts = 3;
    return j;
}

// The job records' contract, which the Redis job store passes too (tests/unit/core/jobs).
inline void jobs(JobStore& s) {
    auto now = now_ms();
    auto low = s.enqueue_job(job("dial", 0));
    auto high = s.enqueue_job(job("dial", 5));
    auto later = s.enqueue_job(job("dial", 9, now + 60000));
    auto other = s.enqueue_job(job("webhook", 0));
    REQUIRE((low && high && later && other));
    // The same idempotency key gives back the first job.
    auto keyed = s.enqueue_job(job("dial", 0, 0, "contact-1/attempt-1"));
    auto again = s.enqueue_job(job("dial", 0, 0, "contact-1/attempt-1"));
    REQUIRE((keyed && again));
    CHECK(again->id == keyed->id);

    // Due jobs of the asked types, by priority; the future one waits.
    auto claimed = s.claim_jobs({"dial"}, "w1", now_ms(), now_ms() + 1000, 10);
    REQUIRE(claimed);
    REQUIRE(claimed->size() == 3);
    CHECK((*claimed)[0].id == high->id);
    CHECK((*claimed)[0].state == "running");
    CHECK((*claimed)[0].attempts == 1);
    CHECK((*claimed)[0].lease_owner == "w1");
    auto none = s.claim_jobs({"dial"}, "w2", now_ms(), now_ms() + 1000, 10);
    REQUIRE(none);
    CHECK(none->empty());

    // Only the lease holder finishes a job.
    CHECK(s.complete_job(high->id, "w2", now_ms()).error().code == ErrorCode::conflict);
    REQUIRE(s.complete_job(high->id, "w1", now_ms()));
    CHECK(s.get_job(high->id)->state == "done");
    REQUIRE(s.fail_job(low->id, "w1", "busy", now_ms() + 60000, false, now_ms()));
    auto failed = s.get_job(low->id);
    CHECK(failed->state == "queued");
    CHECK(failed->last_error == "busy");
    REQUIRE(s.fail_job(keyed->id, "w1", "bad number", 0, true, now_ms()));
    CHECK(s.get_job(keyed->id)->state == "dead");

    // A lease that runs out is claimed again by another worker, which then holds it alone.
    auto webhook = s.claim_jobs({"webhook"}, "w1", now_ms(), now_ms() - 1, 1);
    REQUIRE(webhook);
    REQUIRE(webhook->size() == 1);
    auto taken = s.claim_jobs({"webhook"}, "w2", now_ms(), now_ms() + 5000, 1);
    REQUIRE(taken);
    REQUIRE(taken->size() == 1);
    CHECK(taken->at(0).attempts == 2);
    CHECK(s.renew_job_lease(other->id, "w1", now_ms() + 5000).error().code == ErrorCode::conflict);
    REQUIRE(s.renew_job_lease(other->id, "w2", now_ms() + 9000));
    // Handed back at shutdown: queued at once, the attempt not counted.
    REQUIRE(s.release_job(other->id, "w2", now_ms()));
    auto released = s.get_job(other->id);
    CHECK(released->state == "queued");
    CHECK(released->attempts == 1);

    auto dead = s.list_jobs("dead", "", {});
    REQUIRE(dead);
    REQUIRE(dead->items.size() == 1);
    CHECK(dead->items[0].id == keyed->id);
    CHECK(s.get_job("job_missing").error().code == ErrorCode::not_found);
}

// Many workers claiming at once never get the same job.
inline void jobs_claimed_once(JobStore& s) {
    for (int i = 0; i < 200; ++i) REQUIRE(s.enqueue_job(job("bulk")));
    std::atomic<int> total{0};
    std::mutex mutex;
    std::set<std::string> seen;
    std::vector<std::thread> workers;
    for (int w = 0; w < 4; ++w)
        workers.emplace_back([&, w] {
            while (true) {
                auto got = s.claim_jobs({"bulk"}, "w" + std::to_string(w), now_ms(), now_ms() + 60000, 7);
                if (!got || got->empty()) return;
                std::lock_guard lock(mutex);
                for (const auto& j : *got) {
                    seen.insert(j.id);
                    ++total;
                }
            }
        });
    for (auto& t : workers) t.join();
    CHECK(total == 200);
    CHECK(seen.size() == 200);
}

inline void webhooks(Store& s) {
    auto ws = workspace(s, "hooks");
    auto other = workspace(s, "other");
    WebhookEndpoint e;
    e.id = new_id("whk");
    e.workspace_id = ws.id;
    e.url = "https://example.com/hook";
    e.secret = "whsec_x";
    e.events = R"(["call:ended"])";
    e.created_at = now_ms();
    REQUIRE(s.create_webhook_endpoint(e));
    CHECK(s.get_webhook_endpoint(ws.id, e.id)->url == e.url);
    CHECK(s.get_webhook_endpoint(other.id, e.id).error().code == ErrorCode::not_found);
    CHECK(s.find_webhook_endpoint(e.id)->secret == "whsec_x");
    CHECK(s.list_webhook_endpoints(ws.id, {})->items.size() == 1);
    CHECK(s.list_webhook_endpoints(other.id, {})->items.empty());

    WebhookDelivery d;
    d.id = new_id("dlv");
    d.endpoint_id = e.id;
    d.event_type = "call:ended";
    d.payload = R"({"type":"call:ended"})";
    d.created_at = now_ms();
    REQUIRE(s.create_webhook_delivery(d));
    d.state = "delivered";
    d.attempts = 3;
    d.last_status = 200;
    d.delivered_at = now_ms();
    REQUIRE(s.update_webhook_delivery(d));
    auto stored = s.get_webhook_delivery(d.id);
    REQUIRE(stored);
    CHECK(stored->state == "delivered");
    CHECK(stored->attempts == 3);
    CHECK(stored->last_status == 200);
    CHECK(s.list_webhook_deliveries(e.id, {})->items.size() == 1);
    // Deleting the endpoint (only from its own workspace) takes its delivery log with it.
    CHECK(s.delete_webhook_endpoint(other.id, e.id).error().code == ErrorCode::not_found);
    REQUIRE(s.delete_webhook_endpoint(ws.id, e.id));
    CHECK(s.get_webhook_delivery(d.id).error().code == ErrorCode::not_found);
}

inline void analytics(Store& s) {
    auto ws = workspace(s, "stats");
    AnalyticsDay key{ws.id, "agt_1", "2026-11-29", "{}"};
    auto bump = [](AnalyticsDay& d) { d.stats = std::to_string(std::stoi(d.stats == "{}" ? "0" : d.stats) + 1); };
    CHECK(*s.count_call("call_a", key, bump) == true);
    CHECK(*s.count_call("call_b", key, bump) == true);
    CHECK(*s.count_call("call_a", key, bump) == false);  // once per call
    AnalyticsDay other{ws.id, "agt_2", "2026-11-30", "{}"};
    CHECK(*s.count_call("call_c", other, bump) == true);
    auto days = s.list_analytics(ws.id, "", "2026-11-01", "2026-11-30");
    REQUIRE(days);
    REQUIRE(days->size() == 2);
    CHECK((*days)[0].stats == "2");
    CHECK((*days)[1].agent_id == "agt_2");
    CHECK(s.list_analytics(ws.id, "agt_1", "2026-11-29", "2026-11-29")->size() == 1);
    CHECK(s.list_analytics(ws.id, "", "2026-12-01", "2026-12-31")->empty());
}

// --- the runner --------------------------------------------------------------------------------------------------

inline CampaignContact contact(const Campaign& c, const std::string& phone, const std::string& variables = "{}",
                               std::int64_t due = 0) {
    CampaignContact k;
    k.id = new_id("cct");
    k.campaign_id = c.id;
    k.workspace_id = c.workspace_id;
    k.phone = phone;
    k.variables = variables;
    k.next_attempt_at = due;
    k.created_at = k.updated_at = now_ms();
    return k;
}

inline void campaigns(Store& s) {
    auto ws = workspace(s, "camp");
    auto other = workspace(s, "other");
    auto a = agent(s, ws, "caller");
    Campaign c;
    c.id = new_id("cmp");
    c.workspace_id = ws.id;
    c.agent_id = a.id;
    c.name = "renewals";
    c.config = R"({"concurrency":2})";
    c.created_at = c.updated_at = now_ms();
    REQUIRE(s.create_campaign(c));
    CHECK(s.get_campaign(ws.id, c.id)->name == "renewals");
    CHECK(s.get_campaign(other.id, c.id).error().code == ErrorCode::not_found);
    CHECK(s.list_campaigns(ws.id, {})->items.size() == 1);
    CHECK(s.list_campaigns(other.id, {})->items.empty());
    c.name = "renewals 2";
    CHECK(s.update_campaign(c)->name == "renewals 2");

    // Status moves only along allowed edges; the first start and the end are stamped.
    CHECK(s.transition_campaign(c.id, {"running"}, "paused", 10).error().code == ErrorCode::conflict);
    auto started = s.transition_campaign(c.id, {"draft", "paused"}, "running", 100);
    REQUIRE(started);
    CHECK(started->status == "running");
    CHECK(started->started_at == 100);
    CHECK(s.list_campaigns_by_status("running")->size() == 1);
    REQUIRE(s.transition_campaign(c.id, {"running"}, "paused", 200));
    CHECK(s.transition_campaign(c.id, {"draft", "paused"}, "running", 300)->started_at == 100);

    // Contacts merge by phone.
    REQUIRE(*s.add_campaign_contacts({contact(c, "+14155550001", R"({"first_name":"Ann"})"),
                                      contact(c, "+14155550002"), contact(c, "+14155550003", "{}", 1'000'000)}) == 3);
    CHECK(*s.add_campaign_contacts({contact(c, "+14155550001", R"({"city":"Oslo"})")}) == 0);
    auto listed = s.list_campaign_contacts(c.id, "", {});
    REQUIRE(listed->items.size() == 3);
    for (const auto& k : listed->items)
        if (k.phone == "+14155550001") CHECK(k.variables == R"({"first_name":"Ann","city":"Oslo"})");

    // Claims never exceed the concurrency limit and skip contacts not yet due.
    auto first = s.claim_campaign_contacts(c.id, 2, 500, 10);
    REQUIRE(first);
    REQUIRE(first->size() == 2);
    CHECK((*first)[0].state == "dialing");
    CHECK((*first)[0].attempts == 1);
    CHECK(s.claim_campaign_contacts(c.id, 2, 2'000'000, 10)->empty());
    CHECK(s.list_dialing_contacts(c.id)->size() == 2);

    // The carrier's id is added to a call without undoing what was stored meanwhile.
    auto placed = call(s, ws, a.id, "busy");
    REQUIRE(s.set_provider_call_id(placed.id, "CA123"));
    CHECK(s.find_call(placed.id)->provider_call_id == "CA123");
    CHECK(s.find_call(placed.id)->status == "busy");
    CHECK(code_of(s.set_provider_call_id("call_missing", "CA1")) == ErrorCode::not_found);

    // An attempt's call is recorded once; later writers learn the first one.
    const auto& k = (*first)[0];
    CHECK(*s.set_contact_call(k.id, 1, "call_a") == "call_a");
    CHECK(*s.set_contact_call(k.id, 1, "call_b") == "call_a");
    CHECK(s.set_contact_call(k.id, 2, "call_c").error().code == ErrorCode::conflict);

    // Ending an attempt frees its slot, once.
    REQUIRE(s.end_contact_attempt({k.id, 1, "pending", "busy", 600, false, 550}));
    CHECK(s.end_contact_attempt({k.id, 1, "done", "answered", 0, false, 560}).error().code == ErrorCode::conflict);
    auto after = s.get_campaign_contact(k.id);
    CHECK(after->state == "pending");
    CHECK(after->last_outcome == "busy");
    CHECK(after->attempts == 1);
    CHECK(after->last_call_id == "call_a");
    auto second = s.claim_campaign_contacts(c.id, 2, 600, 10);
    REQUIRE(second->size() == 1);
    CHECK((*second)[0].id == k.id);
    CHECK((*second)[0].attempts == 2);
    CHECK((*second)[0].last_call_id.empty());
    // An attempt that never dialled is handed back uncounted.
    REQUIRE(s.end_contact_attempt({k.id, 2, "pending", "", 700, true, 650}));
    CHECK(s.get_campaign_contact(k.id)->attempts == 1);

    auto counts = s.count_campaign_contacts(c.id);
    REQUIRE(counts);
    CHECK(counts->total == 3);
    CHECK(counts->by_state["pending"] == 2);
    CHECK(counts->by_state["dialing"] == 1);
    CHECK(counts->attempts == 2);
    CHECK(*s.cancel_pending_contacts(c.id, 800) == 2);
    CHECK(s.list_campaign_contacts(c.id, "canceled", {})->items.size() == 2);
    CHECK(s.transition_campaign(c.id, {"running", "paused"}, "canceled", 900)->finished_at == 900);

    // The do-not-call list is per workspace.
    DncEntry d{new_id("dnc"), ws.id, "+14155550009", "asked", now_ms()};
    REQUIRE(s.add_dnc(d));
    CHECK(code_of(s.add_dnc({new_id("dnc"), ws.id, "+14155550009", "", now_ms()})) == ErrorCode::conflict);
    CHECK(*s.is_dnc(ws.id, "+14155550009"));
    CHECK(!*s.is_dnc(other.id, "+14155550009"));
    CHECK(s.list_dnc(ws.id, {})->items.size() == 1);
    CHECK(code_of(s.remove_dnc(other.id, "+14155550009")) == ErrorCode::not_found);
    REQUIRE(s.remove_dnc(ws.id, "+14155550009"));
    CHECK(!*s.is_dnc(ws.id, "+14155550009"));
}

// Several dispatchers claiming for one campaign at once (several daemons on one database) hold its limit together.
inline void campaign_claims_hold_the_limit(Store& s) {
    auto ws = workspace(s, "limit");
    auto a = agent(s, ws, "caller");
    Campaign c;
    c.id = new_id("cmp");
    c.workspace_id = ws.id;
    c.agent_id = a.id;
    c.name = "many";
    c.created_at = c.updated_at = now_ms();
    REQUIRE(s.create_campaign(c));
    std::vector<CampaignContact> many;
    for (int i = 0; i < 100; ++i) many.push_back(contact(c, "+1415555" + std::to_string(1000 + i)));
    REQUIRE(s.add_campaign_contacts(many));
    std::atomic<int> claimed{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
        threads.emplace_back([&] {
            for (int round = 0; round < 5; ++round) {
                auto got = s.claim_campaign_contacts(c.id, 7, now_ms(), 5);
                if (got) claimed += int(got->size());
            }
        });
    for (auto& t : threads) t.join();
    CHECK(claimed.load() == 7);
    CHECK(s.list_dialing_contacts(c.id)->size() == 7);
}

inline void instances_and_call_owners(Store& s) {
    auto ws = workspace(s);
    auto a = agent(s, ws, "a");
    // Calls remember the daemon that owns them; the open ones of one daemon are listed across workspaces.
    auto ws2 = workspace(s, "other");
    auto a2 = agent(s, ws2, "a");
    std::vector<std::string> open_on_x;
    for (const auto& [w, ag, instance, ended] :
         std::vector<std::tuple<Workspace, Agent, std::string, bool>>{{ws, a, "x", false}, {ws2, a2, "x", false},
                                                                      {ws, a, "x", true}, {ws, a, "y", false}}) {
        Call c;
        c.id = new_id("call");
        c.workspace_id = w.id;
        c.agent_id = ag.id;
        c.direction = "inbound";
        c.channel = "twilio";
        c.status = ended ? "completed" : "in-progress";
        c.instance_id = instance;
        c.created_at = now_ms();
        c.ended_at = ended ? now_ms() : 0;
        REQUIRE(s.create_call(c));
        if (instance == "x" && !ended) open_on_x.push_back(c.id);
    }
    auto open = s.list_open_calls("x");
    REQUIRE(open);
    std::vector<std::string> ids;
    for (const auto& c : *open) {
        ids.push_back(c.id);
        CHECK(c.instance_id == "x");
    }
    std::sort(open_on_x.begin(), open_on_x.end());
    CHECK(ids == open_on_x);
    CHECK(s.list_open_calls("nobody")->empty());
    CHECK(s.find_call(open_on_x[0])->instance_id == "x");

    // An open call is ended once: a second settler gets a conflict and changes nothing.
    REQUIRE(s.end_open_call(open_on_x[0], "failed", "interrupted", 5000, -1));
    auto ended = s.find_call(open_on_x[0]);
    CHECK(ended->status == "failed");
    CHECK(ended->end_reason == "interrupted");
    CHECK(ended->ended_at == 5000);
    auto again = s.end_open_call(open_on_x[0], "completed", "other", 6000, 12.5);
    REQUIRE_FALSE(again);
    CHECK(again.error().code == ErrorCode::conflict);
    CHECK(s.find_call(open_on_x[0])->end_reason == "interrupted");
    REQUIRE(s.end_open_call(open_on_x[1], "completed", "completed", 7000, 12.5));
    CHECK(s.find_call(open_on_x[1])->duration_s == 12.5);
    CHECK(s.list_open_calls("x")->empty());

    // Heartbeats insert, then renew without moving the start.
    REQUIRE(s.heartbeat_instance({"x", "http://10.0.0.1:8700", 1000, 1000}));
    REQUIRE(s.heartbeat_instance({"y", "http://10.0.0.2:8700", 1500, 1500}));
    REQUIRE(s.heartbeat_instance({"x", "http://10.0.0.1:8700", 9999, 2000}));
    auto list = s.list_instances();
    REQUIRE(list);
    REQUIRE(list->size() == 2);
    CHECK((*list)[0].id == "x");
    CHECK((*list)[0].started_at == 1000);
    CHECK((*list)[0].heartbeat_at == 2000);
    CHECK((*list)[1].base_url == "http://10.0.0.2:8700");
    REQUIRE(s.remove_instance("x"));
    CHECK(s.list_instances()->size() == 1);
    CHECK(s.remove_instance("x"));  // forgetting twice is fine
}

}  // namespace contract

#include "agent_versions_contract.hpp"  // uses the fixtures above

namespace contract {

inline void run_store_contract(const StoreFactory& make_store) {
    auto with_fresh_store = [&](void (*behaviour)(Store&)) {
        auto store = make_store();
        REQUIRE(store);
        behaviour(*store);
    };
    SECTION("workspaces round trip and page") { with_fresh_store(workspaces); }
    SECTION("users are unique by email, scoped by workspace") { with_fresh_store(users); }
    SECTION("API keys by hash, revocation scoped by workspace") { with_fresh_store(api_keys); }
    SECTION("refresh tokens rotate once and families revoke together") { with_fresh_store(refresh_tokens); }
    SECTION("agents are unique by name per workspace and versioned") { with_fresh_store(agents); }
    SECTION("agents keep their last versions, scoped by workspace, deleted with them") {
        with_fresh_store(agent_versions);
    }
    SECTION("pagination walks every item once, newest first") { with_fresh_store(pagination); }
    SECTION("phone numbers are unique instance-wide and lose a deleted agent") { with_fresh_store(phones); }
    SECTION("calls filter, page and update") { with_fresh_store(calls); }
    SECTION("turns are ordered and numbered per call") { with_fresh_store(turns); }
    SECTION("call history survives agent deletion") { with_fresh_store(call_history_survives_agent_deletion); }
    SECTION("concurrent use from several threads") { with_fresh_store(concurrent_use); }
    SECTION("jobs are claimed by priority, leased, retried, released and kept dead") { with_fresh_store([](Store& s) { jobs(s); }); }
    SECTION("jobs claimed by several workers at once go to one each") { with_fresh_store([](Store& s) { jobs_claimed_once(s); }); }
    SECTION("webhook endpoints are scoped by workspace and take their deliveries along") { with_fresh_store(webhooks); }
    SECTION("analytics count each call once per day") { with_fresh_store(analytics); }
    SECTION("campaigns move between states, merge contacts and hold attempts in flight") { with_fresh_store(campaigns); }
    SECTION("campaign claims hold the concurrency limit across dispatchers") {
        with_fresh_store(campaign_claims_hold_the_limit);
    }
    SECTION("daemon instances heartbeat, and calls name the daemon that owns them") {
        with_fresh_store(instances_and_call_owners);
    }
}

}  // namespace contract
