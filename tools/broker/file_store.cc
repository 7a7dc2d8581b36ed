#include "file_store.h"

#include <fcntl.h>
#include <sys/file.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>

#include "base/base64.h"
#include "base/file.h"
#include "proto/json.h"

namespace cvm::broker {
namespace {

constexpr size_t MAX_FILE_BYTES = 16 << 20;
constexpr size_t MAX_VALUE_BYTES = 64 << 10;

using Entries = std::map<std::string, Bytes, std::less<>>;

// Keys are written into JSON unescaped: printable ASCII without '"' and '\'.
bool plain_key(std::string_view key)
{
    return !key.empty() && key.size() <= 256 &&
           std::all_of(key.begin(), key.end(), [](char c) { return c > 0x20 && c < 0x7f && c != '"' && c != '\\'; });
}

// The file's lock, held for one call.
class Lock {
public:
    static Result<Lock> take(const std::string& path)
    {
        std::string lock_path = path + ".lock";
        UniqueFd fd(open(lock_path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600));
        if (!fd.valid())
            return Error::from_errno(Errc::Unavailable, errno, "store file %s: cannot open %s: %s", path.c_str(),
                                     lock_path.c_str(), strerror(errno));
        int r;
        while ((r = flock(fd.get(), LOCK_EX)) != 0 && errno == EINTR) {
        }
        if (r != 0)
            return Error::from_errno(Errc::Unavailable, errno, "store file %s: cannot lock %s: %s", path.c_str(),
                                     lock_path.c_str(), strerror(errno));
        return Lock(std::move(fd));
    }

private:
    explicit Lock(UniqueFd fd) : m_fd(std::move(fd)) {}
    UniqueFd m_fd;  // closing it releases the lock
};

Result<Entries> read_entries(const std::string& path)
{
    auto text = read_text_file(path, MAX_FILE_BYTES);
    if (!text && text.error().errno_value() == ENOENT)
        return Entries{};
    if (!text)
        return Error::make(Errc::Unavailable, "store file %s: %.*s", path.c_str(),
                           static_cast<int>(text.error().message().size()), text.error().message().data());
    auto parse = [&]() -> Result<Entries> {
        proto::JsonDoc doc = TRY(proto::JsonDoc::parse(text.value(), "state file"));
        TRY(proto::check_members(doc.root(), "state file", {"cvmkb-state", "entries"}));
        TRY(proto::int_member(doc.root(), "cvmkb-state", "state file", 1, 1));
        yyjson_val* entries = yyjson_obj_get(doc.root(), "entries");
        if (!yyjson_is_obj(entries))
            return Error::make(Errc::Format, "state file.entries: expected an object");
        Entries out;
        size_t i = 0, n = 0;
        yyjson_val *key = nullptr, *value = nullptr;
        yyjson_obj_foreach(entries, i, n, key, value)
        {
            std::string name(yyjson_get_str(key), yyjson_get_len(key));
            if (!plain_key(name))
                return Error::make(Errc::Format, "state file.entries: a key of unexpected characters");
            Bytes bytes = TRY(proto::base64_value(value, "state file.entries." + name, MAX_VALUE_BYTES));
            if (!out.emplace(name, std::move(bytes)).second)  // I-JSON: a name once
                return Error::make(Errc::Format, "state file.entries.%s: listed twice", name.c_str());
        }
        return out;
    };
    auto entries = parse();
    if (!entries)  // never taken as empty: that would forget every generation
        return Error::make(Errc::Unavailable, "store file %s does not parse: %.*s", path.c_str(),
                           static_cast<int>(entries.error().message().size()), entries.error().message().data());
    return entries;
}

Result<void> write_entries(const std::string& path, const Entries& entries)
{
    std::string text = "{\"cvmkb-state\":1,\"entries\":{";
    bool first = true;
    for (const auto& [key, value] : entries) {
        text += (first ? "\"" : ",\n\"") + key + "\":\"" + base64_encode(value) + "\"";
        first = false;
    }
    text += "}}\n";
    auto written = write_file_atomic(path, {reinterpret_cast<const uint8_t*>(text.data()), text.size()}, 0600);
    if (!written)
        return Error::make(Errc::Unavailable, "store file %s: %.*s", path.c_str(),
                           static_cast<int>(written.error().message().size()), written.error().message().data());
    return {};
}

Result<void> check(std::string_view key, std::optional<ByteView> value, int64_t ttl_seconds)
{
    if (!plain_key(key))
        return Error::make(Errc::Config, "store file: a key of unexpected characters");
    if (ttl_seconds > 0)
        return Error::make(Errc::Config, "store file: keeps entries without expiry only");
    if (value && value->size() > MAX_VALUE_BYTES)
        return Error::make(Errc::Config, "store file: a value of %zu bytes, expected at most %zu", value->size(),
                           MAX_VALUE_BYTES);
    return {};
}

}  // namespace

Result<bool> FileStore::set_if_absent(std::string_view key, ByteView value, int64_t ttl_seconds)
{
    TRY(check(key, value, ttl_seconds));
    return compare_and_set(key, std::nullopt, value);
}

Result<void> FileStore::put(std::string_view key, ByteView value, int64_t ttl_seconds)
{
    TRY(check(key, value, ttl_seconds));
    Lock lock = TRY(Lock::take(m_path));
    Entries entries = TRY(read_entries(m_path));
    entries.insert_or_assign(std::string(key), Bytes(value.begin(), value.end()));
    return write_entries(m_path, entries);
}

Result<std::optional<Bytes>> FileStore::get(std::string_view key)
{
    Lock lock = TRY(Lock::take(m_path));
    Entries entries = TRY(read_entries(m_path));
    auto it = entries.find(key);
    if (it == entries.end())
        return std::optional<Bytes>();
    return std::optional<Bytes>(std::move(it->second));
}

Result<bool> FileStore::compare_and_set(std::string_view key, std::optional<ByteView> expected,
                                        std::optional<ByteView> value)
{
    TRY(check(key, value, 0));
    Lock lock = TRY(Lock::take(m_path));
    Entries entries = TRY(read_entries(m_path));
    auto it = entries.find(key);
    if ((it != entries.end()) != expected.has_value() ||
        (expected && !std::ranges::equal(ByteView(it->second), *expected)))
        return false;
    if (value)
        entries.insert_or_assign(std::string(key), Bytes(value->begin(), value->end()));
    else if (it != entries.end())
        entries.erase(it);
    else
        return true;  // deleting what does not exist: nothing to write
    TRY(write_entries(m_path, entries));
    return true;
}

Result<void> FileStore::ping()
{
    Lock lock = TRY(Lock::take(m_path));
    TRY(read_entries(m_path));
    return {};
}

}  // namespace cvm::broker
