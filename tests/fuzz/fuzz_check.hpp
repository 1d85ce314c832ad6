// Shared by the fuzz harnesses: FUZZ_CHECK aborts with a message when an invariant the harness checks is broken
// (never on bad input, which the parsers under test must refuse gracefully). Thread-safety: stateless.
#pragma once

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(condition)                                                                              \
    do {                                                                                                   \
        if (!(condition)) {                                                                                \
            std::fprintf(stderr, "fuzz invariant broken at %s:%d: %s\n", __FILE__, __LINE__, #condition); \
            std::abort();                                                                                  \
        }                                                                                                  \
    } while (0)
