// vactl: the command-line client of voiceagentd. Everything lives in cli/commands.
#include "cli/commands/commands.hpp"

int main(int argc, char** argv) { return va::cli::run_vactl(argc, argv); }
