#include "core/util/private_file.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <string>

namespace va {

namespace fs = std::filesystem;

Status write_private_file(const fs::path& file, std::string_view text) {
    fs::path dir = file.parent_path();
    std::error_code ec;
    if (!dir.empty()) {
        fs::create_directories(dir, ec);
        if (ec) return make_error(ErrorCode::internal, "cannot create " + dir.string() + ": " + ec.message());
        ::chmod(dir.c_str(), 0700);
    }
    fs::path tmp = file;
    tmp += ".tmp." + std::to_string(::getpid());
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
    written = std::fclose(out) == 0 && written;
    ::chmod(tmp.c_str(), 0600);
    if (written) fs::rename(tmp, file, ec);
    if (!written || ec) {
        fs::remove(tmp, ec);
        return make_error(ErrorCode::internal, "cannot write " + file.string());
    }
    return Ok{};
}

}  // namespace va
