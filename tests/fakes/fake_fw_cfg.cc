#include "fake_fw_cfg.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <doctest.h>

#include <fstream>
#include <string>

namespace cvm::test {
namespace {

void make_dir(const std::string& path)
{
    REQUIRE_MESSAGE((mkdir(path.c_str(), 0755) == 0 || errno == EEXIST), path);
}

void write_text(const std::string& path, std::string_view text, mode_t mode = 0444)
{
    chmod(path.c_str(), 0600);  // writable again when rewritten (tests may not run as root)
    std::ofstream(path, std::ios::binary | std::ios::trunc)
        .write(text.data(), static_cast<std::streamsize>(text.size()));
    REQUIRE(chmod(path.c_str(), mode) == 0);
}

bool is_symlink(const std::string& path)
{
    struct stat st {};
    return lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

bool exists(const std::string& path)
{
    struct stat st {};
    return lstat(path.c_str(), &st) == 0;
}

}  // namespace

FakeFwCfg::FakeFwCfg(std::string guest_root) : m_top(std::move(guest_root) + "/sys/firmware/qemu_fw_cfg") {}

void FakeFwCfg::load_driver()
{
    std::string root = m_top.substr(0, m_top.size() - std::string_view("/sys/firmware/qemu_fw_cfg").size());
    make_dir(root + "/sys");
    make_dir(root + "/sys/firmware");
    make_dir(m_top);
}

void FakeFwCfg::probe()
{
    make_dir(m_top + "/by_key");
    make_dir(m_top + "/by_name");
    write_text(m_top + "/rev", "3\n", 0400);  // fw_cfg_rev_attr: FW_CFG_ID read in the probe
}

bool FakeFwCfg::add_file(std::string_view name, ByteView contents)
{
    std::string select = std::to_string(m_next_select++);
    std::string entry = m_top + "/by_key/" + select;
    make_dir(entry);
    write_text(entry + "/size", std::to_string(contents.size()) + "\n");
    write_text(entry + "/key", select + "\n");
    write_text(entry + "/name", std::string(name) + "\n");
    write_text(entry + "/raw", std::string_view(reinterpret_cast<const char*>(contents.data()), contents.size()), 0400);

    // fw_cfg_build_symlink(): directories for every component but the last, which links to the entry.
    std::string dir = m_top + "/by_name";
    std::string_view rest = name;
    std::string up = "..";
    for (size_t slash; (slash = rest.find('/')) != std::string_view::npos; rest.remove_prefix(slash + 1)) {
        dir += "/" + std::string(rest.substr(0, slash));
        if (is_symlink(dir))
            return false;  // kset_find_obj() found a link where a directory should be: -EINVAL
        make_dir(dir);
        up += "/..";
    }
    std::string link = dir + "/" + std::string(rest);
    if (exists(link))
        return false;  // sysfs_create_link(): -EEXIST
    REQUIRE(symlink((up + "/by_key/" + select).c_str(), link.c_str()) == 0);
    return true;
}

void FakeFwCfg::set_size_attribute(std::string_view name, const std::string& text)
{
    write_text(by_name() + "/" + std::string(name) + "/size", text);
}

}  // namespace cvm::test
