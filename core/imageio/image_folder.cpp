#include "core/imageio/image_folder.h"

#include "core/errors.h"
#include "core/imageio/decode.h"

#include <torch/torch.h>

#include <sys/stat.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

namespace ijepa {
namespace {

namespace fs = std::filesystem;

bool isImageFile(const std::string& name)
{
    const auto dot = name.rfind('.');
    if (dot == std::string::npos)
        return false;
    std::string ext = name.substr(dot);
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return std::find(std::begin(kImageExtensions), std::end(kImageExtensions), ext) != std::end(kImageExtensions);
}

// The image files under a root in sorted path order, held compactly: each file is its folder's
// index and its name inside one shared buffer (12 bytes and the name, not a path string each).
// Directory symlinks are followed once: a link back to a folder above it (a cycle) is an error
// naming it, and a folder reached a second time by another link is not listed again.
class FileListing {
public:
    explicit FileListing(const fs::path& root)
    {
        std::set<std::pair<dev_t, ino_t>> onPath;
        walk(root, "", onPath);
        m_nameStart.push_back(m_names.size());
        m_names.shrink_to_fit();
        m_fileDir.shrink_to_fit();
        m_nameStart.shrink_to_fit();
    }
    std::size_t size() const { return m_fileDir.size(); }
    const std::string& folder(std::size_t i) const { return m_dirs[m_fileDir[i]]; }
    std::uint32_t folderIndex(std::size_t i) const { return m_fileDir[i]; }
    const std::vector<std::string>& folders() const { return m_dirs; }
    std::string relative(std::size_t i) const
    {
        const auto& dir = folder(i);
        const std::string name(m_names.data() + m_nameStart[i], m_nameStart[i + 1] - m_nameStart[i]);
        return dir.empty() ? name : dir + "/" + name;
    }

private:
    void walk(const fs::path& dir, const std::string& rel, std::set<std::pair<dev_t, ino_t>>& onPath)
    {
        struct stat st {};
        if (::stat(dir.c_str(), &st) != 0)
            return; // a dangling link or a folder gone since its parent was read
        const std::pair<dev_t, ino_t> id{st.st_dev, st.st_ino};
        if (onPath.count(id))
            throw DataError((dir).string() + ": a symlink cycle (it leads back to a folder above it); remove the link");
        if (!m_seen.insert(id).second)
            return; // listed already through another link
        onPath.insert(id);
        std::vector<std::pair<std::string, bool>> entries; // name, is a folder
        std::error_code ec;
        for (fs::directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec), end; !ec && it != end;
             it.increment(ec)) {
            std::string name = it->path().filename().string();
            if (isImageFile(name) && it->is_regular_file(ec))
                entries.emplace_back(std::move(name), false);
            else if (it->is_directory(ec))
                entries.emplace_back(std::move(name), true);
            ec.clear();
        }
        if (ec)
            throw DataError(dir.string() + ": cannot list the folder (" + ec.message() + ")");
        std::sort(entries.begin(), entries.end());
        std::uint32_t index = 0;
        bool registered = false;
        for (const auto& [name, isFolder] : entries) {
            if (isFolder) {
                walk(dir / name, rel.empty() ? name : rel + "/" + name, onPath);
                registered = false; // files after a sub-folder: the same folder again, in path order
                continue;
            }
            if (!registered) {
                index = static_cast<std::uint32_t>(m_dirs.size());
                m_dirs.push_back(rel);
                registered = true;
            }
            m_fileDir.push_back(index);
            m_nameStart.push_back(m_names.size());
            m_names += name;
        }
        onPath.erase(id);
    }

    std::vector<std::string> m_dirs;         // folders relative to the root ("" is the root)
    std::vector<std::uint32_t> m_fileDir;    // per file: its folder
    std::vector<std::uint64_t> m_nameStart;  // per file: where its name starts in m_names (+ one end)
    std::string m_names;
    std::set<std::pair<dev_t, ino_t>> m_seen;
};

class ImageFolder final : public ImageSource {
public:
    explicit ImageFolder(const std::string& root) : m_root(trimmed(root)), m_files(checkedRoot(root))
    {
        if (m_files.size() == 0)
            throw DataError(root + ": no images (png, jpg, jpeg, bmp, tif, tiff, webp) in this folder or below");
        // Classes: the first-level sub-folders that hold images (torchvision's ImageFolder).
        std::map<std::string, std::int64_t> classIndex;
        std::vector<std::string> top;
        for (const auto& dir : m_files.folders())
            top.push_back(dir.substr(0, dir.find('/')));
        for (const auto& t : top)
            if (!t.empty())
                classIndex.emplace(t, 0);
        for (auto& [name, index] : classIndex) {
            index = static_cast<std::int64_t>(m_classes.size());
            m_classes.push_back(name);
        }
        for (const auto& t : top)
            m_folderLabel.push_back(t.empty() ? -1 : classIndex.at(t));
    }

    std::int64_t size() const override { return static_cast<std::int64_t>(m_files.size()); }
    torch::Tensor image(std::int64_t i) const override { return readImageFile(name(i)); }
    void view(std::int64_t i, const BoxPicker& pick, torch::Tensor& out) const override
    {
        const auto path = name(i);
        const auto bytes = readFileBytes(path);
        decodeView(bytes.data(), bytes.size(), path, pick, out);
    }
    std::int64_t label(std::int64_t i) const override { return m_folderLabel[m_files.folderIndex(static_cast<size_t>(i))]; }
    std::string name(std::int64_t i) const override { return m_root + "/" + m_files.relative(static_cast<size_t>(i)); }
    const std::vector<std::string>& classes() const override { return m_classes; }
    std::string description() const override
    {
        return m_root + " (" + countOf(m_files.size(), "image", "images") + ", " + labelsPhrase(m_classes.size()) + ")";
    }

private:
    static std::string trimmed(std::string root)
    {
        while (root.size() > 1 && root.back() == '/')
            root.pop_back();
        return root;
    }
    static fs::path checkedRoot(const std::string& root)
    {
        std::error_code ec;
        if (!fs::is_directory(root, ec))
            throw DataError(root + ": no such folder");
        return root;
    }

    std::string m_root;
    FileListing m_files;
    std::vector<std::int64_t> m_folderLabel; // per listed folder
    std::vector<std::string> m_classes;
};

} // namespace

torch::Tensor readImageFile(const std::string& path)
{
    const auto bytes = readFileBytes(path);
    return decodeImage(bytes.data(), bytes.size(), path);
}

std::shared_ptr<ImageSource> openImageFolder(const std::string& root) { return std::make_shared<ImageFolder>(root); }

} // namespace ijepa
