// Helpers shared by vactl's command modules: list commands (one page or all), resolving a name or number to an
// id, reading definition files and passwords, and printing a result in either output mode.
// Thread-safety: single-threaded use.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/client.hpp"
#include "cli/output.hpp"

namespace va::cli {

struct ListOptions {
    int limit = 0;     // 0: the server's default page size
    bool all = false;  // follow next_cursor to the end
};

// Adds --limit and --all to a list command.
void add_list_options(CLI::App* command, ListOptions& options);

// `path` plus "?key=value" or "&key=value" (value percent-encoded); unchanged when value is empty.
std::string with_query(const std::string& path, const std::string& key, const std::string& value);

// One page (limit from options), or every page merged as {"items": [...], "next_cursor": null} with --all.
nlohmann::json fetch_list(Client& client, const std::string& path, const ListOptions& options);

// fetch_list, then prints the page as JSON, or as a table ("no <noun>" when empty; a note on stderr when more
// pages exist).
void list_command(Client& client, const std::string& path, const ListOptions& options,
                  const std::vector<Column>& columns, const std::string& noun);

// How to find an object of one kind from what a person types: an id (it starts with id_prefix), or the value of
// `key` (a name, a number, an email). With `filter` set the server filters the list by that query parameter;
// otherwise every page is scanned.
struct Lookup {
    std::string noun;       // "agent", for messages
    std::string path;       // "/api/v1/agents"
    std::string id_prefix;  // "agt_"
    std::string key;        // "name"
    std::string filter;     // "name", or empty
};

extern const Lookup kAgentLookup;
extern const Lookup kNumberLookup;
extern const Lookup kUserLookup;
extern const Lookup kKeyLookup;

// The id of the object `ref` names. Ids are returned as given (the next request reports a 404); a name with no
// match throws CliError(kNotFound), one with several matches CliError(kError).
std::string resolve_id(Client& client, const Lookup& lookup, const std::string& ref);

// The JSON object in `file` ('-' reads stdin). Throws CliError(kError) when unreadable or not an object.
nlohmann::json read_json_file(const std::string& file);

// With from_stdin, the first line of stdin; else a prompt on the terminal with echo off. Throws CliError(kUsage)
// when there is no terminal to prompt on.
std::string read_password(bool from_stdin, const std::string& prompt);

// Prints `value` as JSON in json mode, else `message` as one line.
void report(Client& client, const nlohmann::json& value, const std::string& message);

}  // namespace va::cli
