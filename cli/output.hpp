// vactl output: aligned tables for people, pretty JSON for scripts, and the shared helpers commands use to list,
// show and resolve objects. Thread-safety: single-threaded use.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cli/client.hpp"

namespace va::cli {

struct Column {
    std::string header;
    std::function<std::string(const nlohmann::json&)> value;
};

// A column reading one field (strings as they are, null as "-", times shortened).
Column field(std::string header, std::string key);

void print_json(const nlohmann::json& value);
void print_table(const std::vector<Column>& columns, const nlohmann::json& items);
// "2026-11-24T03:34:04.123Z" -> "2026-11-24 03:34:04"; null -> "-".
std::string format_time(const nlohmann::json& value);
std::string text(const nlohmann::json& value);  // a scalar as display text, "-" for null

struct ListOptions {
    int limit = 0;       // 0 = server default
    bool all = false;    // follow next_cursor to the end
};

// GETs a list (one page, or all pages), then prints it as JSON or as a table ("no <noun>" when empty).
void list_command(Client& client, const std::string& path, const ListOptions& options,
                  const std::vector<Column>& columns, const std::string& noun);

// Prints one object: JSON, or "key: value" lines for the given columns.
void show_object(Client& client, const nlohmann::json& object, const std::vector<Column>& columns);

// Resolves an id or a name/number to an object of a list endpoint: arguments starting with `id_prefix` are ids;
// others are matched on `key` across the list (all pages). Throws CliError(kNotFound) when nothing matches.
nlohmann::json resolve(Client& client, const std::string& list_path, const std::string& id_prefix,
                       const std::string& key, const std::string& ref, const std::string& noun);

}  // namespace va::cli
