// Replays a fuzz harness over seed files and directories given on the command line, so every
// committed seed (and every real vector passed in) runs as an ordinary test in every build.
// Built in place of libFuzzer's main when the build is not a fuzzing build.
#include <cstdint>
#include <cstdio>
#include <dirent.h>
#include <string>
#include <sys/stat.h>
#include <vector>

#include "base/file.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

int replay(const std::string& path, int& count)
{
    struct stat st {};
    if (stat(path.c_str(), &st) != 0) {
        fprintf(stderr, "replay: %s does not exist\n", path.c_str());
        return 1;
    }
    if (S_ISDIR(st.st_mode)) {
        DIR* dir = opendir(path.c_str());
        if (!dir)
            return 1;
        std::vector<std::string> names;
        while (dirent* e = readdir(dir)) {
            if (e->d_name[0] != '.')
                names.push_back(path + "/" + e->d_name);
        }
        closedir(dir);
        int failures = 0;
        for (const auto& name : names)
            failures += replay(name, count);
        return failures;
    }
    auto data = cvm::read_file(path, 1 << 20);
    if (!data.ok()) {
        fprintf(stderr, "replay: %.*s\n", static_cast<int>(data.error().message().size()),
                data.error().message().data());
        return 1;
    }
    LLVMFuzzerTestOneInput(data.value().data(), data.value().size());
    ++count;
    return 0;
}

}  // namespace

int main(int argc, char** argv)
{
    int count = 0, failures = 0;
    for (int i = 1; i < argc; ++i)
        failures += replay(argv[i], count);
    printf("replayed %d inputs\n", count);
    return failures == 0 && count > 0 ? 0 : 1;
}
