// The `cvm` commands. Each takes the arguments after its name and returns the process exit
// status: 0 success, 1 evidence rejected (a verdict), 2 usage or input error.
#pragma once

#include <string>
#include <vector>

#include "args.h"
#include "base/result.h"

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
int cmd_release(const std::vector<std::string>& args);

// `cvm release verify` (release_verify.cc), dispatched by cmd_release: `args` parsed with
// RELEASE_VERIFY_FLAGS (--key, --require-tlog, --trusted-root, --time); its positional arguments
// are BUNDLE, or "verify" then BUNDLE. Prints the verified release on stdout; an error is a bundle
// refused (Errc::Crypto, Format, Policy) or bad usage or input (Errc::Config, Io, Unsupported).
extern const std::vector<FlagSpec> RELEASE_VERIFY_FLAGS;
extern const char* const RELEASE_VERIFY_USAGE;
Result<void> release_verify(const Args& args);

}  // namespace cvm::cli
