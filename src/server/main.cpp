// livehouse: one binary, every role. See server/run_main.hpp.
#include "server/run_main.hpp"

int main(int argc, char** argv) {
    return livehouse::server::run_main(argc, argv);
}
