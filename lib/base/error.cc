#include "base/error.h"

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>

namespace cvm {

std::string_view errc_name(Errc code)
{
    switch (code) {
    case Errc::Io: return "io";
    case Errc::Format: return "format";
    case Errc::Unsupported: return "unsupported";
    case Errc::Crypto: return "crypto";
    case Errc::Chain: return "chain";
    case Errc::Policy: return "policy";
    case Errc::Config: return "config";
    case Errc::Network: return "network";
    case Errc::Unavailable: return "unavailable";
    }
    return "unknown";
}

namespace {

size_t format_into(char* out, size_t capacity, const char* fmt, va_list args)
{
    int n = vsnprintf(out, capacity, fmt, args);
    if (n < 0) {
        out[0] = '\0';
        return 0;
    }
    return static_cast<size_t>(n) < capacity ? static_cast<size_t>(n) : capacity - 1;
}

}  // namespace

Error Error::make(Errc code, const char* fmt, ...)
{
    Error e;
    e.m_code = code;
    va_list args;
    va_start(args, fmt);
    e.m_length = static_cast<uint8_t>(format_into(e.m_message, MESSAGE_CAPACITY, fmt, args));
    va_end(args);
    return e;
}

Error Error::from_errno(Errc code, int saved_errno, const char* fmt, ...)
{
    Error e;
    e.m_code = code;
    e.m_errno = saved_errno;
    va_list args;
    va_start(args, fmt);
    e.m_length = static_cast<uint8_t>(format_into(e.m_message, MESSAGE_CAPACITY, fmt, args));
    va_end(args);
    return e;
}

Error& Error::prefix(const char* fmt, ...)
{
    char head[MESSAGE_CAPACITY];
    va_list args;
    va_start(args, fmt);
    size_t head_len = format_into(head, sizeof head, fmt, args);
    va_end(args);

    // New message: head ": " old, truncated to capacity.
    char joined[MESSAGE_CAPACITY];
    int n = snprintf(joined, sizeof joined, "%.*s: %.*s", static_cast<int>(head_len), head, static_cast<int>(m_length),
                     m_message);
    size_t len = n < 0 ? 0 : (static_cast<size_t>(n) < sizeof joined ? static_cast<size_t>(n) : sizeof joined - 1);
    memcpy(m_message, joined, len);
    m_message[len] = '\0';
    m_length = static_cast<uint8_t>(len);
    return *this;
}

const char* errno_name(int value)
{
    switch (value) {
    case EPERM: return "EPERM";
    case ENOENT: return "ENOENT";
    case EIO: return "EIO";
    case ENXIO: return "ENXIO";
    case ENOEXEC: return "ENOEXEC";
    case EAGAIN: return "EAGAIN";
    case ENOMEM: return "ENOMEM";
    case EACCES: return "EACCES";
    case EBUSY: return "EBUSY";
    case EEXIST: return "EEXIST";
    case ENODEV: return "ENODEV";
    case ENOTDIR: return "ENOTDIR";
    case EINVAL: return "EINVAL";
    case ENOSPC: return "ENOSPC";
    case EROFS: return "EROFS";
    case ENOSYS: return "ENOSYS";
    case ENETUNREACH: return "ENETUNREACH";
    case ECONNRESET: return "ECONNRESET";
    case ETIMEDOUT: return "ETIMEDOUT";
    case ECONNREFUSED: return "ECONNREFUSED";
    case EHOSTUNREACH: return "EHOSTUNREACH";
    case EBADMSG: return "EBADMSG";
    case ENOKEY: return "ENOKEY";
    case EKEYREJECTED: return "EKEYREJECTED";
    case ENOTTY: return "ENOTTY";
    case ELOOP: return "ELOOP";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case ESTALE: return "ESTALE";
    default: {
        static thread_local char buf[24];
        snprintf(buf, sizeof buf, "errno %d", value);
        return buf;
    }
    }
}

}  // namespace cvm
