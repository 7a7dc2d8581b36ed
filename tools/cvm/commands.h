// The `cvm` commands. Each takes the arguments after its name and returns the process exit
// status: 0 success, 1 evidence rejected (a verdict), 2 usage or input error.
#pragma once

#include <string>
#include <vector>

namespace cvm::cli {

inline constexpr int EXIT_OK = 0;
inline constexpr int EXIT_REJECTED = 1;
inline constexpr int EXIT_USAGE = 2;

int cmd_verify(const std::vector<std::string>& args);
int cmd_attest(const std::vector<std::string>& args);
int cmd_measure(const std::vector<std::string>& args);
int cmd_id_block(const std::vector<std::string>& args);
int cmd_sim(const std::vector<std::string>& args);
int cmd_broker(const std::vector<std::string>& args);
int cmd_launch(const std::vector<std::string>& args);
int cmd_demo(const std::vector<std::string>& args);
int cmd_initramfs(const std::vector<std::string>& args);
int cmd_cmdline(const std::vector<std::string>& args);
int cmd_verity(const std::vector<std::string>& args);
int cmd_initdata(const std::vector<std::string>& args);

}  // namespace cvm::cli
