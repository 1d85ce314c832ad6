// Test support: the few setup steps most integration tests share (example agent files, bootstrap, users with a
// role and a token). Stateless free functions; safe from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "support/daemon_process.hpp"

namespace va::test {

// examples/agents/<file> of the source tree, parsed.
nlohmann::json example_agent(const std::string& file);

// The README's first user: the owner key in admin.key creates an owner user (POST /api/v1/users) with `email` and
// `password` (REQUIREs the 201). Bootstrap is closed once that key exists.
void create_owner_user(const DaemonProcess& daemon, const std::string& email = "owner@example.com",
                       const std::string& password = "owner-password");
// create_owner_user, then that user's login: the parsed 200 answer {access_token, refresh_token, user, ...}.
nlohmann::json owner_login(const DaemonProcess& daemon, const std::string& email = "owner@example.com",
                           const std::string& password = "owner-password");

// Creates a user with `role` through `admin` (POST /users), logs them in and returns their access token.
// The password is "password-<role>".
std::string create_user_token(const DaemonProcess& daemon, const Api& admin, const std::string& email,
                              const std::string& role);

// The id of the user with `email` in the caller's workspace; empty when there is none.
std::string user_id_by_email(const Api& admin, const std::string& email);

// Polls GET /calls/{id} until `done` holds for it (30 s at most: the deadline only bounds a broken build); the
// last answer.
nlohmann::json wait_for_call_until(const Api& api, const std::string& id,
                                   const std::function<bool(const nlohmann::json&)>& done);

// Polls GET /calls/{id} until its status is `status` (as wait_for_call_until); the last answer.
nlohmann::json wait_for_call(const Api& api, const std::string& id, const std::string& status);

// Polls until the call is completed with the carrier's duration (`duration_s`) recorded: a carrier's status
// callback is answered before the daemon's writer stores it, so the call may read completed a moment earlier.
nlohmann::json wait_for_carrier_duration(const Api& api, const std::string& id, double duration_s);

// A chat call with `agent`: each of `lines` is said and its answer awaited, then the caller hangs up; the call id,
// once the call's end (and so each of its turns) is stored.
std::string chat_call(const DaemonProcess& daemon, const Api& api, const std::string& agent,
                      const std::vector<std::string>& lines);

// The call's turns as "role: text" lines, in order.
std::vector<std::string> turn_texts(const Api& api, const std::string& call_id);

// The call with this carrier call id (provider_call_id) among the workspace's latest 50; null when none.
nlohmann::json call_by_provider_id(const Api& api, const std::string& provider_call_id);

// `text` spoken by espeak-ng, mono PCM16 resampled to `rate` (the WAV is written in `dir`).
std::vector<std::int16_t> espeak_pcm(const std::string& text, int rate, const std::string& dir);

}  // namespace va::test
