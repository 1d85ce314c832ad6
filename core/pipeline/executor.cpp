#include "core/pipeline/executor.hpp"

#include <utility>

namespace va {

namespace {

// Each arm() posts a task that runs only if no later arm(), cancel() or the timer's end came first. The state is
// shared with the posted tasks, so one that outlives the timer finds it ended and does nothing.
class PostedTimer final : public Timer {
public:
    PostedTimer(Executor& executor, std::function<void()> task)
        : m_exec(executor), m_state(std::make_shared<State>(State{std::move(task), 0})) {}
    ~PostedTimer() override { ++m_state->generation; }

    void arm(int ms) override {
        m_exec.post_after(ms, [state = m_state, generation = ++m_state->generation] {
            if (state->generation == generation) state->task();
        });
    }
    void cancel() override { ++m_state->generation; }

private:
    struct State {
        std::function<void()> task;
        std::uint64_t generation;  // of the one arm() whose run may happen; touched on the strand only
    };
    Executor& m_exec;
    std::shared_ptr<State> m_state;
};

}  // namespace

std::unique_ptr<Timer> Executor::make_timer(std::function<void()> task) {
    return std::make_unique<PostedTimer>(*this, std::move(task));
}

}  // namespace va
