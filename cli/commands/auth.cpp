#include <termios.h>
#include <unistd.h>

#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/output.hpp"

namespace va::cli {

using nlohmann::json;

std::string read_password(bool from_stdin, const std::string& prompt) {
    std::string password;
    if (from_stdin || !isatty(STDIN_FILENO)) {
        std::getline(std::cin, password);
        if (!password.empty() && password.back() == '\r') password.pop_back();
        return password;
    }
    std::cerr << prompt << std::flush;
    termios old{};
    tcgetattr(STDIN_FILENO, &old);
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
    std::getline(std::cin, password);
    tcsetattr(STDIN_FILENO, TCSANOW, &old);
    std::cerr << "\n";
    return password;
}

void register_auth(CLI::App& app, Context& ctx) {
    auto* login = app.add_subcommand("login", "Log in with email and password; saves tokens to the settings file");
    auto email = std::make_shared<std::string>();
    auto password_stdin = std::make_shared<bool>(false);
    login->add_option("--email", *email, "account email (prompted when absent)");
    login->add_flag("--password-stdin", *password_stdin, "read the password from the first line of stdin");
    login->callback([&ctx, email, password_stdin] {
        Client& client = ctx.get();
        std::string address = *email;
        if (address.empty()) {
            std::cerr << "Email: " << std::flush;
            std::getline(std::cin, address);
        }
        std::string password = read_password(*password_stdin, "Password: ");
        json tokens = client.request("POST", "/api/v1/auth/login", json{{"email", address}, {"password", password}}, false);
        auto& s = client.settings();
        s.server = client.server();
        s.email = address;
        s.access_token = tokens.value("access_token", "");
        s.refresh_token = tokens.value("refresh_token", "");
        s.save();
        if (client.json_output()) return print_json(json{{"user", tokens["user"]}, {"server", client.server()}});
        std::cout << "logged in to " << client.server() << " as " << address << " ("
                  << tokens["user"].value("role", "") << ")\n";
    });

    app.add_subcommand("logout", "Revoke the saved refresh token and forget the saved tokens")->callback([&ctx] {
        Client& client = ctx.get();
        auto& s = client.settings();
        if (!s.refresh_token.empty()) {
            try {
                client.request("POST", "/api/v1/auth/logout", json{{"refresh_token", s.refresh_token}}, false);
            } catch (const CliError& e) {
                if (e.code != kAuth) throw;  // an already-invalid token is logged out anyway
            }
        }
        s.access_token.clear();
        s.refresh_token.clear();
        s.save();
        if (client.json_output()) return print_json(json{{"logged_out", true}});
        std::cout << "logged out\n";
    });

    app.add_subcommand("whoami", "Show who the current credential is")->callback([&ctx] {
        Client& client = ctx.get();
        json me = client.request("GET", "/api/v1/auth/me");
        if (client.json_output()) return print_json(me);
        std::string who = me["kind"] == "user" && me.contains("user") ? me["user"].value("email", "")
                                                                     : "API key " + me["api_key"].value("name", "");
        std::cout << who << "\nrole:      " << me.value("role", "") << "\nworkspace: " << me["workspace"].value("name", "")
                  << " (" << me["workspace"].value("id", "") << ")\nserver:    " << client.server() << "\n";
    });
}

}  // namespace va::cli
