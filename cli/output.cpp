#include "cli/output.hpp"

#include <algorithm>
#include <cstdio>

namespace va::cli {

using nlohmann::json;

std::string format_time(const json& value) {
    if (!value.is_string()) return "-";
    std::string t = value.get<std::string>();
    if (t.size() >= 19 && t[10] == 'T') return t.substr(0, 10) + " " + t.substr(11, 8);
    return t;
}

std::string format_offset(const json& ms) {
    if (!ms.is_number()) return "--:--.-";
    long long v = std::max<long long>(0, ms.get<long long>());
    char buf[32];
    std::snprintf(buf, sizeof buf, "%02lld:%02lld.%lld", v / 60000, v / 1000 % 60, v / 100 % 10);
    return buf;
}

std::string display(const json& value) {
    if (value.is_null()) return "-";
    if (value.is_string()) return value.get<std::string>();
    return value.dump();
}

Column field(std::string header, std::string key) {
    bool is_time = key.size() > 3 && key.compare(key.size() - 3, 3, "_at") == 0;
    return Column{std::move(header), [key, is_time](const json& item) {
                      if (!item.is_object()) return std::string("-");
                      auto it = item.find(key);
                      if (it == item.end()) return std::string("-");
                      return is_time ? format_time(*it) : display(*it);
                  }};
}

void print_json(const json& value, std::ostream& out) { out << value.dump(2) << "\n"; }

void print_table(const std::vector<Column>& columns, const json& items, std::ostream& out) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::size_t> widths;
    std::vector<std::string> headers;
    for (const auto& c : columns) {
        headers.push_back(c.header);
        widths.push_back(c.header.size());
    }
    rows.push_back(std::move(headers));
    for (const auto& item : items) {
        std::vector<std::string> row;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            row.push_back(columns[i].value(item));
            widths[i] = std::max(widths[i], row.back().size());
        }
        rows.push_back(std::move(row));
    }
    for (const auto& row : rows) {
        std::string line;
        for (std::size_t i = 0; i < row.size(); ++i) {
            line += row[i];
            // No padding after the last cell: lines carry no trailing blanks.
            if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
        }
        out << line << "\n";
    }
}

void print_fields(const std::vector<Column>& columns, const json& object, std::ostream& out) {
    std::size_t width = 0;
    for (const auto& c : columns) width = std::max(width, c.header.size());
    for (const auto& c : columns)
        out << c.header << ":" << std::string(width - c.header.size() + 1, ' ') << c.value(object) << "\n";
}

}  // namespace va::cli
