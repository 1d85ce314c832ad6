// The MongoDB Store backend (libmongoc): every record in a MongoDB database that daemons on several hosts share.
// It implements the same contract as the SQLite store (tests/unit/core/store/store_contract.hpp); how it keeps
// claims atomic without transactions is in docs/scale-out.md and mongo_store_work.cpp.
// Thread-safety: the returned Store is safe to call from any number of threads at once (each call borrows a client
// from a mongoc_client_pool_t); open_mongo_store itself may run on any thread.
#pragma once

#include <memory>
#include <string>

#include "core/store/store.hpp"
#include "core/util/result.hpp"

namespace va {

struct MongoOptions {
    // mongodb:// or mongodb+srv:// URI; credentials, TLS, replica set, read and write concerns all go here.
    std::string uri;
    // The database; empty: the one the URI's path names, else "voiceagent" (mongo_database_name).
    std::string database;
    int pool_max = 16;                        // clients (connections per server) kept for concurrent calls
    int server_selection_timeout_ms = 5000;   // unless the URI sets serverSelectionTimeoutMS itself
    std::string app_name = "voiceagentd";     // shown in the server's logs and currentOp
};

// The database `options` selects: options.database, else the URI's path, else "voiceagent". invalid_request when the
// URI does not parse (the message never repeats the URI, which may hold a password).
Result<std::string> mongo_database_name(const MongoOptions& options);

// Connects (a ping, so a wrong address fails here and not on the first request), refuses a database whose schema
// version is newer than this build knows, creates the indexes the records need and records the schema version.
// unavailable when the server cannot be reached; unprocessable for a newer schema.
Result<std::unique_ptr<Store>> open_mongo_store(const MongoOptions& options);

// The schema version this build brings a database to.
int mongo_schema_version();

}  // namespace va
