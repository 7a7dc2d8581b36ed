#include "console.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdio>

namespace cvm::agent {
namespace {

int g_console = STDERR_FILENO;

}  // namespace

void open_console()
{
    if (g_console != STDERR_FILENO)
        return;
    int fd = open("/dev/console", O_WRONLY | O_NOCTTY | O_CLOEXEC);
    if (fd >= 0)
        g_console = fd;
}

int console_fd()
{
    return g_console;
}

void say(const char* fmt, ...)
{
    char line[512];
    int prefix = snprintf(line, sizeof line, "cvminit: ");
    va_list args;
    va_start(args, fmt);
    int n = vsnprintf(line + prefix, sizeof line - static_cast<size_t>(prefix) - 1, fmt, args);
    va_end(args);
    size_t length = static_cast<size_t>(prefix) + (n < 0 ? 0 : static_cast<size_t>(n));
    if (length > sizeof line - 2)
        length = sizeof line - 2;  // truncated: still one line
    line[length++] = '\n';
    ssize_t ignored = write(g_console, line, length);
    (void)ignored;
}

}  // namespace cvm::agent
