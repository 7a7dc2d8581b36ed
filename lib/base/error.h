// Error: what failed, why, and the saved errno — built where the context is known.
//
// An Error never allocates: its message lives in a fixed inline buffer, so out-of-memory paths
// and early boot can still report. Messages longer than the buffer are truncated, never dropped.
// Messages must not contain secret material (they reach logs and the console).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace cvm {

// Broad classes of failure; callers branch on these, humans read the message.
enum class Errc : uint8_t {
    Io,           // a syscall or file operation failed (see errno_value)
    Format,       // untrusted bytes do not follow their format (truncated, reserved non-zero, ...)
    Unsupported,  // well-formed but a version or variant we do not understand
    Crypto,       // a signature, MAC or digest did not verify
    Chain,        // a certificate chain is not rooted where it must be
    Policy,       // evidence is authentic but not acceptable
    Config,       // the caller's configuration is missing or invalid
    Network,      // a peer could not be reached or answered badly
    Unavailable,  // a dependency is temporarily unavailable; retrying may help
};

std::string_view errc_name(Errc code);

class Error {
public:
    static constexpr size_t MESSAGE_CAPACITY = 240;

    // printf-style message; `saved_errno` 0 means "not a syscall failure".
    [[gnu::format(printf, 2, 3)]] static Error make(Errc code, const char* fmt, ...);
    [[gnu::format(printf, 3, 4)]] static Error from_errno(Errc code, int saved_errno, const char* fmt, ...);

    Errc code() const { return m_code; }
    int errno_value() const { return m_errno; }
    std::string_view message() const { return {m_message, m_length}; }

    // Prepends "context: " so a caller can say what it was doing when a callee failed.
    [[gnu::format(printf, 2, 3)]] Error& prefix(const char* fmt, ...);

private:
    Errc m_code{Errc::Io};
    int m_errno{0};
    uint8_t m_length{0};
    char m_message[MESSAGE_CAPACITY]{};
};

// "ENOENT" for the errno values the agent and its tools meet, else "errno N" (thread-local).
const char* errno_name(int value);

}  // namespace cvm
