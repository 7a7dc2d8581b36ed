#include "fatal.h"

#include <sys/reboot.h>
#include <termios.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "console.h"

// The ELF note that tells `cvm initramfs --agent` this binary is a cvminit (initramfs/
// exec_format.h: CVMINIT_NOTE_NAME, CVMINIT_NOTE_TYPE): name "cvminit", type 1, a 4-byte
// descriptor (1, the layout of /etc/cvminit/*). A SHT_NOTE section, which linkers keep under
// --gc-sections and place in a PT_NOTE segment; here because every agent links this file.
__asm__(".pushsection .note.cvminit, \"a\", @note\n"
        ".balign 4\n"
        ".long 8, 4, 1\n"
        ".asciz \"cvminit\"\n"
        ".balign 4\n"
        ".long 1\n"
        ".popsection\n");

namespace cvm::agent {
namespace {

std::function<void()>& wipe_hook()
{
    static std::function<void()> hook;
    return hook;
}

}  // namespace

void set_wipe_hook(std::function<void()> wipe)
{
    wipe_hook() = std::move(wipe);
}

void power_off(int status)
{
    sync();
    if (getpid() != 1)
        _exit(status);
    // The last line (the outcome `cvm launch` reads) must leave the UART before the machine stops.
    tcdrain(console_fd());
    reboot(RB_POWER_OFF);
    for (;;)  // reboot(2) does not return on success; PID 1 must not exit either way
        pause();
}

void fatal(const char* stage, const Error& error, const char* hint)
{
    std::string_view message = error.message();
    std::string code(error.errno_value() ? errno_name(error.errno_value()) : errc_name(error.code()));
    say("FATAL %s: %.*s (%s) — %s", stage, static_cast<int>(message.size()), message.data(), code.c_str(), hint);
    if (wipe_hook())
        wipe_hook()();
    power_off(1);
}

}  // namespace cvm::agent
