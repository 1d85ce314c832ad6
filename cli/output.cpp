#include "cli/output.hpp"

#include <algorithm>
#include <iostream>

namespace va::cli {

using nlohmann::json;

std::string format_time(const json& value) {
    if (!value.is_string()) return "-";
    std::string t = value.get<std::string>();
    if (t.size() >= 19 && t[10] == 'T') return t.substr(0, 10) + " " + t.substr(11, 8);
    return t;
}

std::string text(const json& value) {
    if (value.is_null()) return "-";
    if (value.is_string()) return value.get<std::string>();
    return value.dump();
}

Column field(std::string header, std::string key) {
    bool is_time = key.size() > 3 && key.compare(key.size() - 3, 3, "_at") == 0;
    return Column{std::move(header), [key, is_time](const json& item) {
                      auto it = item.find(key);
                      if (it == item.end()) return std::string("-");
                      return is_time ? format_time(*it) : text(*it);
                  }};
}

void print_json(const json& value) { std::cout << value.dump(2) << "\n"; }

void print_table(const std::vector<Column>& columns, const json& items) {
    std::vector<std::vector<std::string>> rows;
    std::vector<std::size_t> widths;
    for (const auto& c : columns) widths.push_back(c.header.size());
    for (const auto& item : items) {
        std::vector<std::string> row;
        for (std::size_t i = 0; i < columns.size(); ++i) {
            row.push_back(columns[i].value(item));
            widths[i] = std::max(widths[i], row.back().size());
        }
        rows.push_back(std::move(row));
    }
    auto print_row = [&](const std::vector<std::string>& cells) {
        std::string line;
        for (std::size_t i = 0; i < cells.size(); ++i) {
            line += cells[i];
            if (i + 1 < cells.size()) line += std::string(widths[i] - cells[i].size() + 2, ' ');
        }
        std::cout << line << "\n";
    };
    std::vector<std::string> headers;
    for (const auto& c : columns) headers.push_back(c.header);
    print_row(headers);
    for (const auto& r : rows) print_row(r);
}

void list_command(Client& client, const std::string& path, const ListOptions& options,
                  const std::vector<Column>& columns, const std::string& noun) {
    std::string separator = path.find('?') == std::string::npos ? "?" : "&";
    std::string base = path;
    if (options.limit > 0) {
        base += separator + "limit=" + std::to_string(options.limit);
        separator = "&";
    }
    json page = client.request("GET", base);
    if (options.all) {
        json items = page["items"];
        while (page["next_cursor"].is_string()) {
            page = client.request("GET", base + separator + "cursor=" + url_encode(page["next_cursor"].get<std::string>()));
            for (auto& item : page["items"]) items.push_back(item);
        }
        page = json{{"items", items}, {"next_cursor", nullptr}};
    }
    if (client.json_output()) return print_json(page);
    if (page["items"].empty()) {
        std::cout << "no " << noun << "\n";
        return;
    }
    print_table(columns, page["items"]);
    if (page["next_cursor"].is_string()) std::cout << "(more: use --all or --limit)\n";
}

void show_object(Client& client, const json& object, const std::vector<Column>& columns) {
    if (client.json_output()) return print_json(object);
    std::size_t width = 0;
    for (const auto& c : columns) width = std::max(width, c.header.size());
    for (const auto& c : columns)
        std::cout << c.header << ":" << std::string(width - c.header.size() + 1, ' ') << c.value(object) << "\n";
}

json resolve(Client& client, const std::string& list_path, const std::string& id_prefix, const std::string& key,
             const std::string& ref, const std::string& noun) {
    if (ref.rfind(id_prefix, 0) == 0) return client.request("GET", list_path + "/" + url_encode(ref));
    std::string cursor;
    while (true) {
        json page = client.request("GET", list_path + "?limit=500" + (cursor.empty() ? "" : "&cursor=" + url_encode(cursor)));
        for (const auto& item : page["items"])
            if (item.value(key, "") == ref) return item;
        if (!page["next_cursor"].is_string()) break;
        cursor = page["next_cursor"].get<std::string>();
    }
    throw CliError(kNotFound, noun + " " + ref + " not found");
}

}  // namespace va::cli
