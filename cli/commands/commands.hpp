// vactl's command modules. Each register_* adds one noun's subcommands to the app; callbacks run after parsing
// with the shared Client (created on first use, so global flags given after the command apply too). A command
// fails by throwing CliError, which run() turns into the message and exit code. Thread-safety: single-threaded.
#pragma once

#include <CLI/CLI.hpp>

#include <memory>

#include "cli/client.hpp"

namespace va::cli {

struct Context {
    GlobalOptions options;
    std::unique_ptr<Client> client;
    Client& get() {
        if (!client) client = std::make_unique<Client>(options);
        return *client;
    }
};

// --server, --token, -o/--output, --version; call before the register_* functions, which inherit fallthrough.
void add_global_options(CLI::App& app, Context& ctx);

void register_auth(CLI::App& app, Context& ctx);     // login, logout, whoami
void register_agents(CLI::App& app, Context& ctx);   // agents list|get|create|apply|delete
void register_numbers(CLI::App& app, Context& ctx);  // numbers list|add|assign|unassign|remove
void register_calls(CLI::App& app, Context& ctx);    // calls list|show
void register_users(CLI::App& app, Context& ctx);    // users list|add|update|delete
void register_keys(CLI::App& app, Context& ctx);     // keys list|create|revoke
void register_live(CLI::App& app, Context& ctx);     // chat, talk, calls watch|hangup (after register_calls)
void register_telephony(CLI::App& app, Context& ctx);  // calls start|simulate (after register_calls)
void register_webhooks(CLI::App& app, Context& ctx);   // webhooks add|list|remove|deliveries
void register_analytics(CLI::App& app, Context& ctx);  // analytics
void register_campaigns(CLI::App& app, Context& ctx);  // campaigns ..., dnc add|list|remove

// Parses and runs the command; prints errors; returns the exit code (docs/vactl.md).
int run(CLI::App& app, Context& ctx, int argc, const char* const* argv);

}  // namespace va::cli
