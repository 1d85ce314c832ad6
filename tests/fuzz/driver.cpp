// A stand-in for libFuzzer's main in normal (gcc) builds, so every harness runs in the test suite as a smoke test:
// each seed file of the given corpus directories (or files) goes through LLVMFuzzerTestOneInput, then
// deterministic mutations of them (bit flips, interesting bytes, truncation, insertion, erasure, splicing) until
// -runs=N inputs or -max_total_time=S seconds, whichever comes first. The same seed always gives the same inputs.
// A crash or a failed invariant aborts the process (the sanitizers report it); the exit code is 0 otherwise.
// Thread-safety: single-threaded program.
#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <string_view>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

constexpr std::size_t kMaxLen = 65536;  // as -max_len in scripts/fuzz

// xorshift64*: small, fast and the same on every platform, which a test wants more than quality.
class Rng {
public:
    explicit Rng(std::uint64_t seed) : m_state(seed ? seed : 1) {}
    std::uint64_t next() {
        m_state ^= m_state >> 12;
        m_state ^= m_state << 25;
        m_state ^= m_state >> 27;
        return m_state * 2685821657736338717ULL;
    }
    std::size_t below(std::size_t n) { return n == 0 ? 0 : std::size_t(next() % n); }

private:
    std::uint64_t m_state;
};

// Bytes that steer parsers into their interesting branches: delimiters of the formats under test, boundaries of
// signed and unsigned bytes.
constexpr char kInterestingBytes[] = "\0\x01\x7f\x80\xff\"{}[],:\\\r\n%=&+-./;?# 0119eE-_~";
constexpr std::string_view kInteresting(kInterestingBytes, sizeof kInterestingBytes - 1);

void run(const std::string& input) {
    LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

std::string mutate(const std::vector<std::string>& seeds, Rng& rng) {
    std::string s = seeds.empty() ? std::string() : seeds[rng.below(seeds.size())];
    int steps = 1 + int(rng.below(4));
    for (int i = 0; i < steps; ++i) {
        std::size_t at = rng.below(s.size() + 1);
        switch (rng.below(8)) {
        case 0:  // flip a bit
            if (!s.empty()) s[rng.below(s.size())] ^= char(1u << rng.below(8));
            break;
        case 1:  // overwrite with an interesting byte
            if (!s.empty()) s[rng.below(s.size())] = kInteresting[rng.below(kInteresting.size())];
            break;
        case 2:  // insert an interesting byte
            s.insert(at, 1, kInteresting[rng.below(kInteresting.size())]);
            break;
        case 3:  // truncate
            s.resize(at);
            break;
        case 4:  // erase a range
            s.erase(at, rng.below(16) + 1);
            break;
        case 5: {  // repeat a chunk (deep nesting, long runs)
            std::size_t len = std::min<std::size_t>(s.size() - std::min(at, s.size()), rng.below(8) + 1);
            std::string chunk = s.substr(at, len);
            std::size_t times = rng.below(32) + 1;
            std::string rep;
            for (std::size_t t = 0; t < times; ++t) rep += chunk;
            s.insert(at, rep);
            break;
        }
        case 6: {  // splice in a piece of another seed
            if (seeds.empty()) break;
            const std::string& other = seeds[rng.below(seeds.size())];
            std::size_t from = rng.below(other.size() + 1);
            s.insert(at, other.substr(from, rng.below(64) + 1));
            break;
        }
        default:  // a random byte
            s.insert(at, 1, char(rng.below(256)));
            break;
        }
        if (s.size() > kMaxLen) s.resize(kMaxLen);
    }
    return s;
}

void read_input(const std::filesystem::path& path, std::vector<std::string>& seeds) {
    std::ifstream in(path, std::ios::binary);
    seeds.emplace_back(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (seeds.back().size() > kMaxLen) seeds.back().resize(kMaxLen);
}

}  // namespace

int main(int argc, char** argv) {
    long runs = 20000;
    double max_seconds = 2;
    std::vector<std::string> seeds;
    for (int i = 1; i < argc; ++i) {
        std::string_view arg = argv[i];
        if (arg.rfind("-runs=", 0) == 0) runs = std::atol(argv[i] + 6);
        else if (arg.rfind("-max_total_time=", 0) == 0) max_seconds = std::atof(argv[i] + 16);
        else if (arg.rfind("-", 0) == 0) std::fprintf(stderr, "driver: ignoring %s\n", argv[i]);
        else if (std::filesystem::is_directory(arg)) {
            std::vector<std::filesystem::path> files;
            for (const auto& e : std::filesystem::directory_iterator(arg))
                if (e.is_regular_file()) files.push_back(e.path());
            std::sort(files.begin(), files.end());  // a fixed order: the same inputs on every run
            for (const auto& f : files) read_input(f, seeds);
        } else {
            read_input(arg, seeds);
        }
    }
    auto start = std::chrono::steady_clock::now();
    long done = 0;
    run(std::string());
    for (const auto& seed : seeds) run(seed), ++done;
    Rng rng(0x5eed5eedULL);
    while (done < runs) {
        if (done % 64 == 0 &&
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() >= max_seconds)
            break;
        run(mutate(seeds, rng));
        ++done;
    }
    std::printf("driver: %zu seeds, %ld inputs, no crash\n", seeds.size(), done);
    return 0;
}
