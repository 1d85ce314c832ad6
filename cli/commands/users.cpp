// users list|add|update|delete (admins).
#include <iostream>

#include "cli/commands/commands.hpp"
#include "cli/commands/common.hpp"

namespace va::cli {

using nlohmann::json;

namespace {

std::string user_path(const std::string& id) { return "/api/v1/users/" + url_encode(id); }

}  // namespace

void register_users(CLI::App& app, Context& ctx) {
    auto* users = app.add_subcommand("users", "Manage the workspace's users (admins)");
    users->require_subcommand(1);

    auto list_options = std::make_shared<ListOptions>();
    auto* list = users->add_subcommand("list", "List users");
    add_list_options(list, *list_options);
    list->callback([&ctx, list_options] {
        static const std::vector<Column> columns{field("ID", "id"),     field("EMAIL", "email"),
                                                 field("NAME", "name"), field("ROLE", "role"),
                                                 field("DISABLED", "disabled"), field("CREATED", "created_at")};
        list_command(ctx.get(), "/api/v1/users", *list_options, columns, "users");
    });

    static const std::vector<std::string> roles{"owner", "admin", "member", "viewer"};
    struct AddArgs {
        std::string email, role, name;
        bool password_stdin = false;
    };
    auto a = std::make_shared<AddArgs>();
    auto* add = users->add_subcommand("add", "Add a user");
    add->add_option("email", a->email, "email address")->required();
    add->add_option("--role", a->role, "owner, admin, member or viewer")->required()->check(CLI::IsMember(roles));
    add->add_option("--name", a->name, "display name");
    add->add_flag("--password-stdin", a->password_stdin, "read the password from the first line of stdin");
    add->callback([&ctx, a] {
        Client& client = ctx.get();
        std::string password = read_password(a->password_stdin, "Password for " + a->email + ": ");
        json body{{"email", a->email}, {"role", a->role}, {"password", password}};
        if (!a->name.empty()) body["name"] = a->name;
        json user = client.request("POST", "/api/v1/users", body);
        report(client, user, "user " + user.value("email", a->email) + " added (" + user.value("id", "") + ")");
    });

    struct UpdateArgs {
        std::string user, role, name;
        bool disable = false, enable = false, password = false, password_stdin = false;
    };
    auto u = std::make_shared<UpdateArgs>();
    auto* update = users->add_subcommand("update", "Change a user's role, name, password, or disable them");
    update->add_option("user", u->user, "user id (usr_...) or email")->required();
    update->add_option("--role", u->role, "new role")->check(CLI::IsMember(roles));
    update->add_option("--name", u->name, "new display name");
    auto* disable = update->add_flag("--disable", u->disable, "disable the user (their sessions end)");
    update->add_flag("--enable", u->enable, "enable the user again")->excludes(disable);
    auto* prompt = update->add_flag("--password", u->password, "set a new password (asked for)");
    update->add_flag("--password-stdin", u->password_stdin, "set a new password read from stdin")->excludes(prompt);
    update->callback([&ctx, u] {
        Client& client = ctx.get();
        json patch = json::object();
        if (!u->role.empty()) patch["role"] = u->role;
        if (!u->name.empty()) patch["name"] = u->name;
        if (u->disable || u->enable) patch["disabled"] = u->disable;
        if (u->password || u->password_stdin) patch["password"] = read_password(u->password_stdin, "New password: ");
        if (patch.empty())
            throw CliError(kUsage, "nothing to change: give --role, --name, --disable, --enable or --password");
        json user = client.request("PATCH", user_path(resolve_id(client, kUserLookup, u->user)), patch);
        report(client, user, "user " + user.value("email", u->user) + " updated");
    });

    auto ref = std::make_shared<std::string>();
    auto* remove = users->add_subcommand("delete", "Delete a user");
    remove->add_option("user", *ref, "user id (usr_...) or email")->required();
    remove->callback([&ctx, ref] {
        Client& client = ctx.get();
        std::string id = resolve_id(client, kUserLookup, *ref);
        client.request("DELETE", user_path(id));
        report(client, json{{"deleted", id}}, "user " + *ref + " deleted");
    });
}

}  // namespace va::cli
