#pragma once

#include "core/data/augment.h"

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

namespace ijepa {

// A data set of labelled images, read by index from several loader threads at once.
class ImageSource {
public:
    virtual ~ImageSource() = default;

    virtual std::int64_t size() const = 0;
    // Decodes image i as [H, W, 3] uint8 RGB; throws DataError naming the file if it is unreadable.
    // Must be safe to call from several threads.
    virtual torch::Tensor image(std::int64_t i) const = 0;
    // The view of image i the loaders train and evaluate on: the box `pick(height, width)` chooses,
    // resized to out's size (bilinear) and ImageNet-normalised into `out` ([3, S, S] float,
    // contiguous). The default decodes the whole image and resizes in float, antialiased as PIL;
    // image folders and shards decode only the box (JPEG: its region, at a reduced DCT scale) and
    // resize in uint8. Same thread-safety and errors as image().
    using BoxPicker = std::function<CropBox(int height, int width)>;
    virtual void view(std::int64_t i, const BoxPicker& pick, torch::Tensor& out) const;
    // The order the training loader visits the images in for one epoch, drawn from `seed` (the
    // epoch's): `worldSize` ranks take every worldSize-th position, rank r from position r. The
    // default is a seeded shuffle of all images; shards keep each rank on its own shards.
    virtual std::vector<std::int64_t> epochOrder(std::uint64_t seed, int worldSize) const;
    virtual std::int64_t label(std::int64_t i) const = 0; // class index, -1 when unlabelled
    virtual std::string name(std::int64_t i) const = 0;   // the file, or "<set>[i]"
    virtual const std::vector<std::string>& classes() const = 0;
    virtual std::string description() const = 0;
};

// Fashion-MNIST in the IDX format, gzip-compressed, as Debian's dataset-fashion-mnist installs it.
// "1 image", "3 images": a count and its noun for descriptions a person reads.
inline std::string countOf(std::size_t n, const std::string& one, const std::string& many)
{
    return std::to_string(n) + " " + (n == 1 ? one : many);
}
// What a source's labels are, in its description: "unlabelled", "1 class", "10 classes".
inline std::string labelsPhrase(std::size_t classes)
{
    return classes == 0 ? std::string("unlabelled") : countOf(classes, "class", "classes");
}

inline constexpr const char* kFashionMnistDir = "/usr/share/datasets/fashion-mnist";

// Reads <dir>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz (split "train" or "test"). Throws
// DataError naming the file for a missing, truncated or malformed file, or mismatched counts.
std::shared_ptr<ImageSource> openFashionMnist(const std::string& split = "train",
                                              const std::string& dir = kFashionMnistDir);

// The first `count` images of another source (count <= 0 or >= size: all of them).
std::shared_ptr<ImageSource> limitSource(std::shared_ptr<ImageSource> source, std::int64_t count);

// `count` images spread evenly over another source (every size/count-th, from the first), so that
// a source sorted by class (an image folder) gives every class its share (count <= 0 or >= size:
// all of them).
std::shared_ptr<ImageSource> spreadSource(std::shared_ptr<ImageSource> source, std::int64_t count);

// The images of another source at `indices`, in that order.
std::shared_ptr<ImageSource> subsetSource(std::shared_ptr<ImageSource> source, std::vector<std::int64_t> indices,
                                          const std::string& what);

// A seeded split of a source into (first, second) with `fraction` of the images in the first.
std::pair<std::shared_ptr<ImageSource>, std::shared_ptr<ImageSource>> splitSource(std::shared_ptr<ImageSource> source,
                                                                                  double fraction, std::uint64_t seed);

} // namespace ijepa
