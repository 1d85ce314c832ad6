// login, logout, whoami.
#include <unistd.h>

#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

void save_settings(const Settings& settings) {
    if (auto saved = settings.save(); !saved) throw CliError(kError, saved.error().message);
}

// object[outer][inner] as display text, "-" when any level is missing.
std::string nested(const json& object, const char* outer, const char* inner) {
    auto o = object.find(outer);
    if (o == object.end() || !o->is_object()) return "-";
    auto i = o->find(inner);
    return i == o->end() ? "-" : display(*i);
}

}  // namespace

void register_auth(CLI::App& app, Context& ctx) {
    struct LoginArgs {
        std::string email;
        bool password_stdin = false;
    };
    auto args = std::make_shared<LoginArgs>();
    auto* login = app.add_subcommand("login", "Log in with email and password; saves the tokens in the settings file");
    login->add_option("--email", args->email, "account email (asked for when absent)");
    login->add_flag("--password-stdin", args->password_stdin, "read the password from the first line of stdin");
    login->callback([&ctx, args] {
        Client& client = ctx.get();
        std::string email = args->email;
        if (email.empty()) {
            // stdin carries the password with --password-stdin, so the email can only come from a prompt.
            if (args->password_stdin || !isatty(STDIN_FILENO)) throw CliError(kUsage, "give --email");
            std::cerr << "Email: " << std::flush;
            std::getline(std::cin, email);
        }
        std::string password = read_password(args->password_stdin, "Password: ");
        json tokens = client.request("POST", "/api/v1/auth/login", json{{"email", email}, {"password", password}},
                                     Client::Auth::none);
        Settings& s = client.settings();
        s.server = client.server();
        s.email = email;
        s.access_token = tokens.value("access_token", "");
        s.refresh_token = tokens.value("refresh_token", "");
        save_settings(s);
        const json user = tokens.value("user", json::object());
        report(client, json{{"server", client.server()}, {"user", user}},
               "logged in to " + client.server() + " as " + email + " (" + user.value("role", "") + ")");
    });

    app.add_subcommand("logout", "Revoke the saved refresh token and forget the saved tokens")->callback([&ctx] {
        Client& client = ctx.get();
        Settings& s = client.settings();
        if (!s.refresh_token.empty()) {
            auto answer = client.send("POST", "/api/v1/auth/logout", json{{"refresh_token", s.refresh_token}},
                                      Client::Auth::none);
            // An expired or already revoked token is logged out anyway; an unreachable server is not.
            if (!answer) throw CliError(kError, answer.error().message);
            if (answer->status >= 300 && exit_code_for_status(answer->status) != kAuth)
                throw error_for_response(*answer);
        }
        s.access_token.clear();
        s.refresh_token.clear();
        save_settings(s);
        report(client, json{{"logged_out", true}}, "logged out");
    });

    app.add_subcommand("whoami", "Show the user or API key in use, its role and workspace")->callback([&ctx] {
        Client& client = ctx.get();
        json me = client.request("GET", "/api/v1/auth/me");
        if (client.json_output()) return print_json(me);
        bool is_user = me.value("kind", "") == "user";
        std::vector<Column> columns;
        if (is_user) {
            columns.push_back(Column{"user", [](const json& m) { return nested(m, "user", "email"); }});
        } else {
            columns.push_back(Column{"api key", [](const json& m) {
                                         return nested(m, "api_key", "name") + " (" + nested(m, "api_key", "id") + ")";
                                     }});
        }
        columns.push_back(field("role", "role"));
        columns.push_back(Column{"workspace", [](const json& m) {
                                     return nested(m, "workspace", "name") + " (" + nested(m, "workspace", "id") + ")";
                                 }});
        columns.push_back(Column{"server", [&client](const json&) { return client.server(); }});
        print_fields(columns, me);
    });
}

}  // namespace va::cli
