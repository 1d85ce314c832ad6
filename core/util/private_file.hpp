// Writing a file only its owner may read (tokens, the daemon's announcement): created 0600 from the start in a 0700
// directory, written to a temporary name, flushed to disk, then renamed over the old one, so a reader sees the
// whole old file or the whole new one and nobody else sees either, not even briefly.
// Thread-safety: safe from any thread, but umask is process-wide: do not call it while another thread creates
// files whose mode matters.
#pragma once

#include <filesystem>
#include <string_view>

#include "core/util/result.hpp"

namespace va {

// Creates the parent directory (0700) when missing; internal error naming the path on failure.
Status write_private_file(const std::filesystem::path& file, std::string_view text);

}  // namespace va
