// switchyard-mock: the mock model server as a process (flags: mockUsage() / README.md).
// Prints one readiness line on stdout, exits 0 on SIGTERM/SIGINT, 2 on bad flags, 1 if it cannot
// listen.
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <csignal>
#include <cstdio>
#include <string_view>
#include <vector>

#include "examples/mock_llm/mock_server.h"

int main(int argc, char** argv) {
  std::vector<std::string_view> args(argv + 1, argv + argc);
  for (std::string_view arg : args) {
    if (arg == "--help" || arg == "-h") {
      std::fputs(sy::mock::mockUsage().data(), stdout);
      return 0;
    }
  }
  auto options = sy::mock::parseMockArgs(args);
  if (!options) {
    std::fprintf(stderr, "switchyard-mock: %s\n%s", options.error().message.c_str(),
                 sy::mock::mockUsage().data());
    return 2;
  }
  // The signal set is created before the io threads start so they inherit no handler races.
  boost::asio::io_context signals_ctx(1);
  boost::asio::signal_set signals(signals_ctx, SIGINT, SIGTERM);
  auto server = sy::mock::MockServer::start(std::move(*options));
  if (!server) {
    std::fprintf(stderr, "switchyard-mock: %s\n", server.error().message.c_str());
    return server.error().code == sy::ErrorCode::InvalidArgument ? 2 : 1;
  }
  std::printf("%s\n", (*server)->listeningLine().c_str());
  std::fflush(stdout);
  signals.async_wait([&](const boost::system::error_code&, int) { (*server)->stop(); });
  signals_ctx.run();
  return 0;
}
