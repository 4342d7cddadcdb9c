// The command line: `livehouse serve [flags]`, `livehouse --version`.
#pragma once

namespace livehouse::server {

/// Parses the command line and runs the chosen command. Exit codes: 0 success (and after a
/// SIGINT/SIGTERM shutdown); 1 start-up failure (bad config, port in use, data dir not
/// writable - the cause is printed on stderr); 2 command-line usage error.
int run_main(int argc, char** argv);

} // namespace livehouse::server
