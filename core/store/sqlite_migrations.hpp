// The SQLite schema as an ordered list of migrations. Migration N moves the schema from version N-1 to N; they are
// applied in one transaction each at open, and the version reached is recorded in schema_migrations.
// Thread-safety: constant data.
#pragma once

#include <span>

namespace va::sqlite {

struct Migration {
    int version;
    const char* description;
    const char* sql;
};

std::span<const Migration> migrations();

}  // namespace va::sqlite
