#include "providers/common/io_loop.hpp"

namespace va {

namespace {

thread_local boost::asio::io_context* t_loop = nullptr;

}  // namespace

void adopt_thread_loop(boost::asio::io_context* loop) { t_loop = loop; }

boost::asio::io_context* thread_loop() { return t_loop; }

}  // namespace va
