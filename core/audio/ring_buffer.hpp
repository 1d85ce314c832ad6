// A bounded single-producer single-consumer ring of samples (or bytes), lock-free, for handing audio between a
// device or network thread and the pipeline. write() never blocks: it stores what fits and reports how much, so a
// slow consumer costs dropped audio, not a stalled producer.
// Thread-safety: exactly one thread may write and one (possibly other) thread may read at a time.
#pragma once

#include <atomic>
#include <cstddef>
#include <span>
#include <vector>

namespace va {

template <class T>
class RingBuffer {
public:
    explicit RingBuffer(std::size_t capacity) : m_data(capacity + 1) {}

    std::size_t capacity() const { return m_data.size() - 1; }

    std::size_t size() const {
        auto w = m_write.load(std::memory_order_acquire);
        auto r = m_read.load(std::memory_order_acquire);
        return w >= r ? w - r : w + m_data.size() - r;
    }
    std::size_t free_space() const { return capacity() - size(); }

    // Stores as much of `in` as fits; returns the count stored.
    std::size_t write(std::span<const T> in) {
        auto w = m_write.load(std::memory_order_relaxed);
        auto r = m_read.load(std::memory_order_acquire);
        std::size_t free = (r > w ? r - w : r + m_data.size() - w) - 1;
        std::size_t n = std::min(free, in.size());
        for (std::size_t i = 0; i < n; ++i) {
            m_data[w] = in[i];
            if (++w == m_data.size()) w = 0;
        }
        m_write.store(w, std::memory_order_release);
        return n;
    }

    // Moves up to out.size() items out; returns the count read.
    std::size_t read(std::span<T> out) {
        auto r = m_read.load(std::memory_order_relaxed);
        auto w = m_write.load(std::memory_order_acquire);
        std::size_t available = w >= r ? w - r : w + m_data.size() - r;
        std::size_t n = std::min(available, out.size());
        for (std::size_t i = 0; i < n; ++i) {
            out[i] = m_data[r];
            if (++r == m_data.size()) r = 0;
        }
        m_read.store(r, std::memory_order_release);
        return n;
    }

    // Drops everything queued (consumer side: barge-in clears queued agent audio).
    void clear() { m_read.store(m_write.load(std::memory_order_acquire), std::memory_order_release); }

private:
    std::vector<T> m_data;
    std::atomic<std::size_t> m_write{0};
    std::atomic<std::size_t> m_read{0};
};

}  // namespace va
