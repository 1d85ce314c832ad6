#include "cli/commands/common.hpp"
#include "core/util/json.hpp"

#include <termios.h>
#include <unistd.h>

#include <fstream>
#include <iostream>
#include <sstream>

namespace va::cli {

using nlohmann::json;

const Lookup kAgentLookup{"agent", "/api/v1/agents", "agt_", "name", "name"};
const Lookup kNumberLookup{"number", "/api/v1/phones", "phn_", "number", ""};
const Lookup kUserLookup{"user", "/api/v1/users", "usr_", "email", ""};
const Lookup kKeyLookup{"key", "/api/v1/api-keys", "key_", "name", ""};

void add_list_options(CLI::App* command, ListOptions& options) {
    command->add_option("--limit", options.limit, "page size (1-500; default 50)")->check(CLI::Range(1, 500));
    command->add_flag("--all", options.all, "fetch every page");
}

std::string with_query(const std::string& path, const std::string& key, const std::string& value) {
    if (value.empty()) return path;
    return path + (path.find('?') == std::string::npos ? "?" : "&") + key + "=" + url_encode(value);
}

namespace {

json get_page(Client& client, const std::string& path) {
    json page = client.request("GET", path);
    if (!page.is_object() || !page.contains("items") || !page["items"].is_array())
        throw CliError(kError, "unexpected answer from the server: no list of items");
    return page;
}

}  // namespace

json fetch_list(Client& client, const std::string& path, const ListOptions& options) {
    std::string base = options.limit > 0 ? with_query(path, "limit", std::to_string(options.limit)) : path;
    json page = get_page(client, base);
    if (!options.all) return page;
    json items = page["items"];
    while (page.contains("next_cursor") && page["next_cursor"].is_string()) {
        page = get_page(client, with_query(base, "cursor", page["next_cursor"].get<std::string>()));
        for (auto& item : page["items"]) items.push_back(std::move(item));
    }
    return json{{"items", std::move(items)}, {"next_cursor", nullptr}};
}

void list_command(Client& client, const std::string& path, const ListOptions& options,
                  const std::vector<Column>& columns, const std::string& noun) {
    json page = fetch_list(client, path, options);
    if (client.json_output()) return print_json(page);
    const json& items = page["items"];
    if (items.empty()) {
        std::cout << "no " << noun << "\n";
        return;
    }
    print_table(columns, items);
    if (page.contains("next_cursor") && page["next_cursor"].is_string())
        std::cerr << "(more " << noun << ": use --all, or a larger --limit)\n";
}

std::string resolve_id(Client& client, const Lookup& lookup, const std::string& ref) {
    if (ref.rfind(lookup.id_prefix, 0) == 0) return ref;
    std::vector<std::string> ids;
    std::string path = lookup.filter.empty() ? lookup.path : with_query(lookup.path, lookup.filter, ref);
    json page = fetch_list(client, path, ListOptions{500, true});
    for (const auto& item : page["items"])
        if (item.is_object() && item.contains(lookup.key) && item[lookup.key] == ref) ids.push_back(item.value("id", ""));
    if (ids.empty()) throw CliError(kNotFound, lookup.noun + " " + ref + " not found");
    if (ids.size() > 1)
        throw CliError(kError, std::to_string(ids.size()) + " " + lookup.noun + "s are named " + ref + ": use an id");
    return ids.front();
}

json read_json_file(const std::string& file) {
    std::stringstream content;
    if (file == "-") {
        content << std::cin.rdbuf();
    } else {
        std::ifstream in(file);
        if (!in) throw CliError(kError, "cannot read " + file);
        content << in.rdbuf();
    }
    std::string name = file == "-" ? "stdin" : file;
    json value = parse_json(content.str());
    if (value.is_discarded()) throw CliError(kError, name + " is not valid JSON");
    if (!value.is_object()) throw CliError(kError, name + " must hold a JSON object");
    return value;
}

std::string read_password(bool from_stdin, const std::string& prompt) {
    std::string password;
    if (from_stdin) {
        std::getline(std::cin, password);
        if (!password.empty() && password.back() == '\r') password.pop_back();
        return password;
    }
    if (!isatty(STDIN_FILENO)) throw CliError(kUsage, "no terminal to ask for the password: use --password-stdin");
    std::cerr << prompt << std::flush;
    termios saved{};
    bool restore = tcgetattr(STDIN_FILENO, &saved) == 0;
    if (restore) {
        termios quiet = saved;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }
    std::getline(std::cin, password);
    if (restore) tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved);
    std::cerr << "\n";
    return password;
}

void report(Client& client, const json& value, const std::string& message) {
    if (client.json_output()) return print_json(value);
    std::cout << message << "\n";
}

}  // namespace va::cli
