// vactl output: aligned tables and "key: value" blocks for people, pretty JSON for scripts. Pure formatting (no
// network), so commands share one look. Thread-safety: functions are reentrant; they write to the given stream.
#pragma once

#include <functional>
#include <iostream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace va::cli {

// One column of a table (or one line of a field block): a header and how to render an item's cell.
struct Column {
    std::string header;
    std::function<std::string(const nlohmann::json&)> value;
};

// A column reading one field: strings as they are, null or absent as "-", fields ending in "_at" as short times.
Column field(std::string header, std::string key);

// Pretty JSON, 2-space indent, nlohmann's key order.
void print_json(const nlohmann::json& value, std::ostream& out = std::cout);
// Header row then one row per item, columns as wide as their widest cell, two spaces apart.
void print_table(const std::vector<Column>& columns, const nlohmann::json& items, std::ostream& out = std::cout);
// "header: value" lines with the values aligned, for one object.
void print_fields(const std::vector<Column>& columns, const nlohmann::json& object, std::ostream& out = std::cout);

// "2026-11-24T03:34:04.123Z" -> "2026-11-24 03:34:04"; null -> "-"; other strings unchanged.
std::string format_time(const nlohmann::json& value);
// Milliseconds from the start of a call as "mm:ss.d" ("01:02.3"); "--:--.-" when not a number.
std::string format_offset(const nlohmann::json& ms);
// A scalar as display text: strings bare, null "-", others as JSON.
std::string display(const nlohmann::json& value);

}  // namespace va::cli
