#include "core/imageio/projector.h"

#include "core/imageio/decode.h"
#include "core/errors.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <unordered_map>

namespace ijepa {

std::string oneLine(const std::string& name)
{
    std::string out;
    out.reserve(name.size());
    for (const char c : name) {
        switch (c) {
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default: out += c;
        }
    }
    return out;
}

int writeProjector(const std::string& dir, const Embeddings& e, const ImageSource& source, const std::string& tensorName)
{
    namespace fs = std::filesystem;
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec)
        throw DataError(dir + ": cannot create the projector folder: " + ec.message());
    const auto path = [&](const char* name) { return (fs::path(dir) / name).string(); };

    const auto features = e.features.to(torch::kFloat32).contiguous();
    const std::int64_t n = features.size(0), d = features.size(1);
    {
        std::ofstream out(path("tensors.tsv"));
        const float* p = features.data_ptr<float>();
        for (std::int64_t i = 0; i < n; ++i) {
            for (std::int64_t j = 0; j < d; ++j)
                out << (j ? "\t" : "") << p[i * d + j];
            out << '\n';
        }
        if (!out)
            throw DataError(path("tensors.tsv") + ": cannot write");
    }
    const auto& classes = source.classes();
    {
        std::ofstream out(path("metadata.tsv"));
        out << "label\tfile\n";
        for (std::int64_t i = 0; i < n; ++i) {
            const auto label = e.labels[i].item<std::int64_t>();
            out << (label >= 0 && label < static_cast<std::int64_t>(classes.size()) ? classes[label]
                                                                                    : std::to_string(label))
                << '\t' << oneLine(e.names[i]) << '\n';
        }
        if (!out)
            throw DataError(path("metadata.tsv") + ": cannot write");
    }

    // Sprite: TensorBoard takes at most 8192 x 8192 pixels.
    const int cols = static_cast<int>(std::ceil(std::sqrt(static_cast<double>(n))));
    const int thumb = std::max(1, std::min(64, 8192 / std::max(1, cols)));
    cv::Mat sprite(cols * thumb, cols * thumb, CV_8UC3, cv::Scalar(0, 0, 0));
    std::unordered_map<std::string, std::int64_t> byName;
    for (std::int64_t i = 0; i < source.size(); ++i)
        byName.emplace(source.name(i), i);
    for (std::int64_t i = 0; i < n; ++i) {
        const auto it = byName.find(e.names[i]);
        if (it == byName.end())
            continue;
        try {
            auto img = source.image(it->second).contiguous();
            cv::Mat rgb(static_cast<int>(img.size(0)), static_cast<int>(img.size(1)), CV_8UC3, img.data_ptr());
            cv::Mat small, bgr;
            cv::resize(rgb, small, cv::Size(thumb, thumb), 0, 0, cv::INTER_AREA);
            cv::cvtColor(small, bgr, cv::COLOR_RGB2BGR);
            bgr.copyTo(sprite(cv::Rect(static_cast<int>(i % cols) * thumb, static_cast<int>(i / cols) * thumb, thumb, thumb)));
        } catch (const Error&) {
            // unreadable now: its cell stays black
        }
    }
    writeImageFile(path("sprite.png"), sprite, "the Projector's sprite");

    std::ofstream config(path("projector_config.pbtxt"));
    config << "embeddings {\n"
           << "  tensor_name: \"" << tensorName << "\"\n"
           << "  tensor_shape: " << n << "\n  tensor_shape: " << d << "\n"
           << "  tensor_path: \"tensors.tsv\"\n"
           << "  metadata_path: \"metadata.tsv\"\n"
           << "  sprite {\n    image_path: \"sprite.png\"\n"
           << "    single_image_dim: " << thumb << "\n    single_image_dim: " << thumb << "\n  }\n"
           << "}\n";
    if (!config)
        throw DataError(path("projector_config.pbtxt") + ": cannot write");
    return thumb;
}

} // namespace ijepa
