#include "cli/settings.hpp"
#include "core/util/json.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

namespace va::cli {

namespace fs = std::filesystem;
using nlohmann::json;

std::string Settings::path() {
    const char* xdg = std::getenv("XDG_CONFIG_HOME");
    std::string base = xdg && *xdg ? xdg : "";
    if (base.empty()) {
        const char* home = std::getenv("HOME");
        base = std::string(home ? home : ".") + "/.config";
    }
    return base + "/vactl/config.json";
}

Settings Settings::load() {
    Settings s;
    std::ifstream in(path());
    if (!in) return s;
    std::stringstream text;
    text << in.rdbuf();
    json j = parse_json(text.str());
    if (!j.is_object()) return s;
    auto get = [&j](const char* key) {
        auto it = j.find(key);
        return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
    };
    s.server = get("server");
    s.access_token = get("access_token");
    s.refresh_token = get("refresh_token");
    s.email = get("email");
    return s;
}

Status Settings::save() const {
    fs::path file = path();
    fs::path dir = file.parent_path();
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) return make_error(ErrorCode::internal, "cannot create " + dir.string() + ": " + ec.message());
    ::chmod(dir.c_str(), 0700);

    json j{{"server", server}, {"access_token", access_token}, {"refresh_token", refresh_token}, {"email", email}};
    std::string text = j.dump(2) + "\n";
    fs::path tmp = file;
    tmp += ".tmp." + std::to_string(::getpid());
    // Created 0600 from the start, so the tokens are never readable by others, not even briefly.
    std::FILE* out = nullptr;
    {
        mode_t old_mask = ::umask(077);
        out = std::fopen(tmp.c_str(), "w");
        ::umask(old_mask);
    }
    if (!out) return make_error(ErrorCode::internal, "cannot write " + tmp.string());
    bool written = std::fwrite(text.data(), 1, text.size(), out) == text.size();
    written = std::fflush(out) == 0 && written;
    written = ::fsync(::fileno(out)) == 0 && written;
    std::fclose(out);
    ::chmod(tmp.c_str(), 0600);
    if (written) fs::rename(tmp, file, ec);
    if (!written || ec) {
        fs::remove(tmp, ec);
        return make_error(ErrorCode::internal, "cannot write " + file.string());
    }
    return Ok{};
}

}  // namespace va::cli
