#include "core/imageio/image_folder.h"

#include "core/errors.h"

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <map>

namespace ijepa {
namespace {

namespace fs = std::filesystem;

bool isImageFile(const fs::path& p)
{
    std::string ext = p.extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return std::find(std::begin(kImageExtensions), std::end(kImageExtensions), ext) != std::end(kImageExtensions);
}

class ImageFolder final : public ImageSource {
public:
    explicit ImageFolder(const std::string& root) : m_root(root)
    {
        std::error_code ec;
        if (!fs::is_directory(root, ec))
            throw DataError(root + ": no such folder");
        std::vector<fs::path> files;
        for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::follow_directory_symlink |
                                                                   fs::directory_options::skip_permission_denied, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            if (it->is_regular_file(ec) && isImageFile(it->path()))
                files.push_back(it->path());
        if (ec)
            throw DataError(root + ": cannot list the folder (" + ec.message() + ")");
        if (files.empty())
            throw DataError(root + ": no images (png, jpg, jpeg, bmp, tif, tiff, webp) in this folder or below");
        std::sort(files.begin(), files.end());
        std::map<std::string, std::int64_t> classIndex;
        for (const auto& f : files) {
            const auto rel = fs::relative(f, root);
            if (std::distance(rel.begin(), rel.end()) > 1)
                classIndex.emplace(rel.begin()->string(), 0);
        }
        for (auto& [name, index] : classIndex) {
            index = static_cast<std::int64_t>(m_classes.size());
            m_classes.push_back(name);
        }
        for (const auto& f : files) {
            const auto rel = fs::relative(f, root);
            m_files.push_back(f.string());
            m_labels.push_back(std::distance(rel.begin(), rel.end()) > 1 ? classIndex.at(rel.begin()->string()) : -1);
        }
        cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    }

    std::int64_t size() const override { return static_cast<std::int64_t>(m_files.size()); }
    torch::Tensor image(std::int64_t i) const override
    {
        return readImageFile(m_files[static_cast<size_t>(i)]);
    }
    std::int64_t label(std::int64_t i) const override { return m_labels[static_cast<size_t>(i)]; }
    std::string name(std::int64_t i) const override { return m_files[static_cast<size_t>(i)]; }
    const std::vector<std::string>& classes() const override { return m_classes; }
    std::string description() const override
    {
        return m_root + " (" + std::to_string(m_files.size()) + " images, " +
               (m_classes.empty() ? std::string("unlabelled") : std::to_string(m_classes.size()) + " classes") + ")";
    }

private:
    std::string m_root;
    std::vector<std::string> m_files;
    std::vector<std::int64_t> m_labels;
    std::vector<std::string> m_classes;
};

} // namespace

torch::Tensor readImageFile(const std::string& path)
{
    cv::Mat bgr;
    try {
        bgr = cv::imread(path, cv::IMREAD_COLOR); // grey -> 3 channels, alpha dropped, 16-bit -> 8-bit
    } catch (const cv::Exception& e) {
        throw DataError(path + ": cannot decode (" + e.msg + ")");
    }
    if (bgr.empty())
        throw DataError(path + (std::filesystem::exists(path) ? ": not a readable image (corrupt, truncated or not an image)"
                                                              : ": no such file"));
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return torch::from_blob(rgb.data, {rgb.rows, rgb.cols, 3}, torch::kUInt8).clone();
}

std::shared_ptr<ImageSource> openImageFolder(const std::string& root) { return std::make_shared<ImageFolder>(root); }

} // namespace ijepa
