// Build-time checks: the ELF reader against adversarial headers, the agent check, the agent's
// grammar for --config, and the workload command with its interpreters in the archive.
#include <doctest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "elf_builder.h"
#include "initramfs/checks.h"
#include "initramfs/exec_format.h"
#include "temp_dir.h"

using namespace cvm;
using namespace cvm::initramfs;
using test::ElfSpec;
using test::make_elf;

namespace {

Bytes bytes_of(std::string_view s)
{
    return Bytes(s.begin(), s.end());
}

bool mentions(const Error& e, std::string_view s)
{
    return e.message().find(s) != std::string_view::npos;
}

Error elf_error(const std::vector<uint8_t>& bytes)
{
    auto info = parse_elf(bytes);
    REQUIRE_FALSE(info.ok());
    CHECK(info.error().code() == Errc::Format);
    return info.error();
}

}  // namespace

TEST_CASE("ELF: what a static and a dynamic executable carry")
{
    ElfSpec spec;
    spec.note = "cvminit";
    auto info = parse_elf(make_elf(spec)).value();
    CHECK(info.machine == ELF_EM_X86_64);
    CHECK(info.type == ELF_ET_EXEC);
    CHECK_FALSE(info.interpreter);
    CHECK(info.needed == 0);
    REQUIRE(info.notes.size() == 1);
    CHECK(info.notes[0].name == "cvminit");
    CHECK(info.notes[0].type == 1);

    ElfSpec dynamic;
    dynamic.type = ELF_ET_DYN;
    dynamic.interp = "/lib64/ld-linux-x86-64.so.2";
    dynamic.needed = 2;
    info = parse_elf(make_elf(dynamic)).value();
    CHECK(info.interpreter == "/lib64/ld-linux-x86-64.so.2");
    CHECK(info.needed == 2);
}

TEST_CASE("ELF: adversarial headers are refused by name, never read out of bounds")
{
    auto with = [](auto change) {
        ElfSpec s;
        s.interp = "/lib/ld.so";
        change(s);
        return make_elf(s);
    };
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.elf_class = 1; })), "ELF class 1: expected 2"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.data = 2; })), "little-endian"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.ehsize = 52; })), "e_ehsize 52"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.phentsize = 32; })), "program headers"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.phnum = 0; })), "program headers"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.phnum = 0xffff; })), "program headers"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.phnum = 200; })), "past the end"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.phoff = ~uint64_t(0) - 8; })), "past the end"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.phoff = 1 << 20; })), "past the end"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.bad_interp_size = ~uint64_t(0); })), "PT_INTERP segment"));
    CHECK(mentions(elf_error(with([](ElfSpec& s) { s.bad_interp_size = 3; })), "NUL-terminated"));
    std::vector<uint8_t> whole = with([](ElfSpec&) {});
    for (size_t cut :
         {size_t(0), size_t(3), size_t(16), size_t(63), size_t(64), size_t(100), size_t(64 + 56 * 2 + 5)}) {
        std::vector<uint8_t> part(whole.begin(), whole.begin() + static_cast<ptrdiff_t>(cut));
        CHECK_FALSE(parse_elf(part).ok());
    }
    CHECK(mentions(elf_error({'M', 'Z', 0, 0}), "not an ELF file"));
    // A note whose sizes point past its segment.
    std::vector<uint8_t> note = make_elf([] {
        ElfSpec s;
        s.note = "cvminit";
        return s;
    }());
    note[64 + 56 * 2] = 0xff;  // the note's n_namesz, first byte of the first segment's data
    CHECK_FALSE(parse_elf(note).ok());
}

TEST_CASE("interpreters as execve finds them")
{
    auto interp = [](std::string head) { return interpreter_of(as_bytes(head)); };
    auto path = [](const Result<std::optional<ExecInterpreter>>& r) {
        REQUIRE(r.ok());
        REQUIRE(r.value().has_value());
        return r.value()->path;
    };
    CHECK(path(interp("#!/bin/sh\necho\n")) == "/bin/sh");
    CHECK(interp("#!/bin/sh\n").value()->via == ExecVia::Script);
    CHECK(path(interp("#! \t/usr/bin/env python3 -u\n")) == "/usr/bin/env");
    CHECK(path(interp("#!/bin/sh")) == "/bin/sh");
    CHECK(interp("#!\n").error().errno_value() == ENOEXEC);
    CHECK_FALSE(interp("#!   \n/bin/sh").ok());
    CHECK_FALSE(interp("plain text").value().has_value());
    CHECK_FALSE(interp("").value().has_value());
    // Past BINPRM_BUF_SIZE the kernel does not look.
    CHECK_FALSE(interp("#!" + std::string(300, ' ') + "/bin/sh\n").ok());

    ElfSpec dynamic;
    dynamic.interp = "/lib/ld-musl-x86_64.so.1";
    CHECK(path(interpreter_of(make_elf(dynamic))) == "/lib/ld-musl-x86_64.so.1");
    CHECK(interpreter_of(make_elf(dynamic)).value()->via == ExecVia::Loader);
    CHECK_FALSE(interpreter_of(make_elf(ElfSpec{})).value().has_value());
}

TEST_CASE("interpreter_of() is no stricter than load_elf_binary()")
{
    auto path = [](const ElfSpec& s) {
        auto r = interpreter_of(make_elf(s));
        REQUIRE(r.ok());
        return r.value() ? r.value()->path : std::string("(none)");
    };
    ElfSpec i386;  // ELF32: compat_binfmt_elf.c runs it on an x86-64 kernel
    i386.elf_class = 1;
    i386.machine = 3;
    i386.interp = "/lib/ld-linux.so.2";
    CHECK(path(i386) == "/lib/ld-linux.so.2");
    ElfSpec two;  // the kernel breaks out of its loop at the first PT_INTERP
    two.interp = "/lib/first.so";
    two.interp2 = "/lib/second.so";
    CHECK(path(two) == "/lib/first.so");
    ElfSpec embedded;  // only the last byte must be NUL; open_exec() reads up to the first
    embedded.interp = std::string("/lib/ld.so\0junk", 15);
    CHECK(path(embedded) == "/lib/ld.so");
    ElfSpec big_endian;  // not this reader's: execve() decides
    big_endian.data = 2;
    big_endian.interp = "/lib/ld.so";
    CHECK(path(big_endian) == "(none)");
    ElfSpec other_class;
    other_class.elf_class = 3;
    other_class.interp = "/lib/ld.so";
    CHECK(path(other_class) == "(none)");
    ElfSpec bad_phentsize;  // load_elf_phdrs() refuses it: ENOEXEC from execve() itself
    bad_phentsize.phentsize = 40;
    bad_phentsize.interp = "/lib/ld.so";
    CHECK(path(bad_phentsize) == "(none)");
    ElfSpec far_phdrs;
    far_phdrs.phoff = 1 << 20;
    far_phdrs.interp = "/lib/ld.so";
    CHECK(path(far_phdrs) == "(none)");
    // What load_elf_binary() refuses in PT_INTERP itself.
    auto refused = [](const ElfSpec& s, int err) {
        auto r = interpreter_of(make_elf(s));
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().errno_value() == err);
    };
    ElfSpec unterminated;
    unterminated.interp = "/lib/ld.so";
    unterminated.bad_interp_size = 4;
    refused(unterminated, ENOEXEC);
    ElfSpec tiny;
    tiny.interp = "";  // one NUL: p_filesz 1 < 2
    refused(tiny, ENOEXEC);
    ElfSpec huge;
    huge.interp = "/lib/ld.so";
    huge.bad_interp_size = 4097;
    refused(huge, ENOEXEC);
    ElfSpec past;
    past.interp = "/lib/ld.so";
    past.bad_interp_size = 4000;
    refused(past, EIO);
}

TEST_CASE("--agent: a static x86-64 executable; a warning without the cvminit note")
{
    test::TempDir t;
    std::vector<std::string> warnings;
    auto agent = [&](const ElfSpec& s) { return t.write("agent", test::as_string(make_elf(s)), 0755); };
    ElfSpec cvminit;
    cvminit.note = "cvminit";
    REQUIRE(check_agent(agent(cvminit), warnings).ok());
    CHECK(warnings.empty());
    ElfSpec static_pie;
    static_pie.type = ELF_ET_DYN;
    static_pie.dynamic = true;
    static_pie.note = "cvminit";
    CHECK(check_agent(agent(static_pie), warnings).ok());
    CHECK(warnings.empty());

    ElfSpec other;
    other.note = "GNU";
    REQUIRE(check_agent(agent(other), warnings).ok());
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("without the cvminit note") != std::string::npos);
    ElfSpec wrong_type = cvminit;
    wrong_type.note_type = 2;
    CHECK(check_agent(agent(wrong_type), warnings).ok());
    CHECK(warnings.size() == 2);

    auto refused = [&](const ElfSpec& s, std::string_view fragment) {
        auto r = check_agent(agent(s), warnings);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Config);
        CHECK_MESSAGE(mentions(r.error(), fragment), r.error().message());
        CHECK(mentions(r.error(), t.at("agent")));
    };
    ElfSpec dynamic = cvminit;
    dynamic.interp = "/lib64/ld-linux-x86-64.so.2";
    refused(dynamic, "dynamically linked (PT_INTERP /lib64/ld-linux-x86-64.so.2)");
    ElfSpec needs = cvminit;
    needs.needed = 1;
    refused(needs, "needs 1 shared libraries");
    ElfSpec arm = cvminit;
    arm.machine = 183;
    refused(arm, "e_machine 183: expected 62");
    ElfSpec object = cvminit;
    object.type = 1;
    refused(object, "e_type 1");
    t.write("agent", "#!/bin/sh\nexec true\n", 0755);
    auto script = check_agent(t.at("agent"), warnings);
    REQUIRE_FALSE(script.ok());
    CHECK(mentions(script.error(), "not an ELF file"));
    ElfSpec bits32 = cvminit;
    bits32.elf_class = 1;
    CHECK_FALSE(check_agent(agent(bits32), warnings).ok());
}

TEST_CASE("--config: the agent's own grammar, the key named")
{
    test::TempDir t;
    auto good = check_config(t.write("ok.toml", "[workload]\ncommand = [\"/bin/app\", \"-v\"]\n"));
    REQUIRE(good.ok());
    CHECK(good->command == std::vector<std::string>{"/bin/app", "-v"});
    auto bad = check_config(t.write("bad.toml", "[broker]\nurl = \"http://x\"\n"));
    REQUIRE_FALSE(bad.ok());
    CHECK(bad.error().code() == Errc::Config);
    CHECK(mentions(bad.error(), "bad.toml"));
    CHECK(mentions(bad.error(), "broker"));
    auto relative = check_config(t.write("rel.toml", "[workload]\ncommand = [\"app\"]\n"));
    REQUIRE_FALSE(relative.ok());
    CHECK(mentions(relative.error(), "command"));
    CHECK_FALSE(check_config(t.at("missing.toml")).ok());
}

TEST_CASE("the workload command and its interpreters must be executable files below the root")
{
    test::TempDir t;
    Archive a;
    ElfSpec dynamic;
    dynamic.interp = "/lib/ld-musl-x86_64.so.1";
    REQUIRE(a.add_file("workload/bin/script", bytes_of("#!/bin/sh -e\necho\n"), Exec::Yes).ok());
    REQUIRE(a.add_file("workload/bin/busybox", make_elf(ElfSpec{}), Exec::Yes).ok());
    REQUIRE(a.add_symlink("workload/bin/sh", "busybox").ok());
    REQUIRE(a.add_file("workload/bin/dyn", make_elf(dynamic), Exec::Yes).ok());
    REQUIRE(a.add_file("workload/bin/noexec", make_elf(ElfSpec{}), Exec::No).ok());
    REQUIRE(a.add_file("workload/bin/orphan", bytes_of("#!/usr/bin/py\n"), Exec::Yes).ok());
    REQUIRE(a.add_symlink("workload/usr/bin/app", "/bin/script").ok());
    REQUIRE(a.add_symlink("workload/bin/loop", "loop").ok());
    REQUIRE(a.add_directory("workload/srv").ok());
    REQUIRE(a.add_file("usr/bin/py", make_elf(ElfSpec{}), Exec::Yes).ok());  // outside the root: not found
    {
        std::string host = t.write("host-script", "#!/bin/sh\n", 0755);
        REQUIRE(a.add_host_file("workload/bin/host", host, std::nullopt).ok());
    }

    auto check = [&](std::string command, std::string root = "/workload") {
        cmdline::AgentFileConfig config;
        config.command = {command};
        config.root = root;
        std::vector<std::string> warnings;
        auto r = check_workload(a, config, warnings);
        CHECK(warnings.empty());
        return r;
    };
    auto refused = [&](std::string command, std::string_view fragment) {
        auto r = check(command);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().code() == Errc::Config);
        CHECK_MESSAGE(mentions(r.error(), fragment), r.error().message());
    };
    CHECK(check("/bin/script").ok());
    CHECK(check("/bin/busybox").ok());
    CHECK(check("/usr/bin/app").ok());  // absolute symlink, resolved inside the root
    CHECK(check("/bin/host").ok());
    CHECK(check("/srv/../bin/./script").ok());
    refused("/bin/dyn", "loader /lib/ld-musl-x86_64.so.1 (PT_INTERP) of /bin/dyn is missing from the initramfs "
                        "below /workload");
    refused("/bin/orphan", "interpreter /usr/bin/py of /bin/orphan is missing");
    refused("/bin/nope", "[workload] command /bin/nope is missing from the initramfs below /workload");
    refused("/bin/noexec", "has mode 0644: expected an executable file");
    refused("/srv", "is a directory");
    refused("/bin/loop", "symlinks (a loop?)");
    refused("/bin/script/x", "is missing");
    // Another root: the same tree is not there.
    cmdline::AgentFileConfig elsewhere;
    elsewhere.command = {"/bin/script"};
    elsewhere.root = "/app";
    std::vector<std::string> warnings;
    CHECK(check_workload(a, elsewhere, warnings).ok());
    REQUIRE(warnings.size() == 1);
    CHECK(warnings[0].find("not checked: the initramfs has nothing at /app") != std::string::npos);
    // No command in the file: the command line carries it, nothing to check.
    cmdline::AgentFileConfig none;
    warnings.clear();
    CHECK(check_workload(a, none, warnings).ok());
    CHECK(warnings.empty());
}

TEST_CASE("the workload's chain: five \"#!\" rewrites ending in a dynamic ELF pass, six are refused")
{
    Archive a;
    ElfSpec dynamic;
    dynamic.interp = "/lib/ld.so";
    REQUIRE(a.add_file("workload/lib/ld.so", make_elf(ElfSpec{}), Exec::Yes).ok());
    REQUIRE(a.add_file("workload/bin/s0", make_elf(dynamic), Exec::Yes).ok());
    for (int i = 1; i <= 6; ++i)
        REQUIRE(a.add_file("workload/bin/s" + std::to_string(i), bytes_of("#!/bin/s" + std::to_string(i - 1) + "\n"),
                           Exec::Yes)
                    .ok());
    ElfSpec i386;
    i386.elf_class = 1;
    i386.machine = 3;
    i386.interp = "/lib/ld-linux.so.2";
    REQUIRE(a.add_file("workload/bin/app32", make_elf(i386), Exec::Yes).ok());
    ElfSpec script_loader;
    script_loader.interp = "/bin/s1";
    REQUIRE(a.add_file("workload/bin/badld", make_elf(script_loader), Exec::Yes).ok());
    auto check = [&](std::string command) {
        cmdline::AgentFileConfig config;
        config.command = {command};
        config.root = "/workload";
        std::vector<std::string> warnings;
        return check_workload(a, config, warnings);
    };
    CHECK(check("/bin/s5").ok());  // s5 -> s4 -> s3 -> s2 -> s1 -> s0 (ELF) -> /lib/ld.so
    auto six = check("/bin/s6");
    REQUIRE_FALSE(six.ok());
    CHECK(six.error().code() == Errc::Config);
    CHECK(std::string(six.error().message()) ==
          "[workload] command /bin/s6: \"#!\" interpreters nest deeper than the kernel's 5 (fs/exec.c: "
          "exec_binprm())");
    auto app32 = check("/bin/app32");
    REQUIRE_FALSE(app32.ok());
    CHECK(mentions(app32.error(), "loader /lib/ld-linux.so.2 (PT_INTERP) of /bin/app32 is missing"));
    auto badld = check("/bin/badld");  // a script as the loader: load_elf_binary() gives ELIBBAD
    REQUIRE_FALSE(badld.ok());
    CHECK(std::string(badld.error().message()) ==
          "loader /bin/s1 (PT_INTERP) of /bin/badld: the loader is not an ELF file (no \\x7fELF magic)");
}
