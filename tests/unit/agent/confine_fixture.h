// Helpers of the live confinement tests (test_confine_live.cc, test_confine_start.cc).
#pragma once

#include <functional>
#include <string>

namespace cvm::test {

inline constexpr int SKIP = 77;  // meson's "skipped"

// `body`'s return value as the exit status of a forked child (128 + N when killed by signal N).
int run_in_child(const std::function<int()>& body);

// Root, and the kernel lets this process make a private mount namespace.
bool may_make_mount_namespaces();

void write_all(int fd, const std::string& text);
std::string read_all(int fd);  // until end of file

}  // namespace cvm::test
