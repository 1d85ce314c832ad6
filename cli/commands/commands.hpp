// vactl's command groups. Each register_* adds its subcommands to the app; their callbacks run with the shared
// Client (created after parsing, so global flags apply). Thread-safety: single-threaded use.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
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

void register_auth(CLI::App& app, Context& ctx);
void register_agents(CLI::App& app, Context& ctx);
void register_numbers(CLI::App& app, Context& ctx);
void register_calls(CLI::App& app, Context& ctx);
void register_users(CLI::App& app, Context& ctx);
void register_keys(CLI::App& app, Context& ctx);
// chat, calls watch, calls hangup (after register_calls).
void register_live(CLI::App& app, Context& ctx);

// An agent by id (agt_...) or by name.
nlohmann::json resolve_agent(Client& client, const std::string& ref);

// Reads a password: the first line of stdin with --password-stdin, else a prompt without echo.
std::string read_password(bool from_stdin, const std::string& prompt);

// The whole program: parse, run, print errors, return the exit code.
int run_vactl(int argc, char** argv);

}  // namespace va::cli
