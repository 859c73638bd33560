"""Reads a TensorBoard event file as TensorBoard's record reader does, with its own CRC-32C, and
prints the scalar tags and the image and histogram counts. Exits non-zero on any framing or CRC error.
Usage: check_events.py EVENTS_FILE"""
import struct
import sys


def crc32c(data):
    crc = 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def masked(data):
    c = crc32c(data)
    return (((c >> 15) | (c << 17)) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, i):
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return value, i


def fields(buf):
    """Yields (field number, wire type, value) of a protobuf message."""
    i = 0
    while i < len(buf):
        key, i = varint(buf, i)
        num, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(buf, i)
        elif wt == 1:
            v, i = buf[i:i + 8], i + 8
        elif wt == 5:
            v, i = buf[i:i + 4], i + 4
        elif wt == 2:
            n, i = varint(buf, i)
            v, i = buf[i:i + n], i + n
        else:
            raise ValueError("wire type %d" % wt)
        yield num, wt, v


data = open(sys.argv[1], "rb").read()
pos, tags, images, histograms, version = 0, {}, 0, 0, None
while pos < len(data):
    header = data[pos:pos + 8]
    (length,) = struct.unpack("<Q", header)
    (hcrc,) = struct.unpack("<I", data[pos + 8:pos + 12])
    assert hcrc == masked(header), "length CRC at %d" % pos
    body = data[pos + 12:pos + 12 + length]
    (dcrc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
    assert dcrc == masked(body), "data CRC at %d" % pos
    pos += 16 + length
    for num, _, v in fields(body):
        if num == 3:
            version = v.decode()
        if num == 5:  # summary
            for _, _, value in fields(v):
                f = {n: x for n, _, x in fields(value)}
                tag = f[1].decode()
                if 2 in f:
                    tags.setdefault(tag, []).append(struct.unpack("<f", f[2])[0])
                if 4 in f:
                    img = {n: x for n, _, x in fields(f[4])}
                    assert img[4][:4] == b"\x89PNG", "image is not a PNG"
                    images += 1
                if 5 in f:  # HistogramProto: packed doubles bucket_limit (6) and bucket (7), same length
                    h = {n: x for n, _, x in fields(f[5])}
                    limits = struct.unpack("<%dd" % (len(h[6]) // 8), h[6])
                    counts = struct.unpack("<%dd" % (len(h[7]) // 8), h[7])
                    assert len(limits) == len(counts) > 0, "histogram buckets"
                    num = struct.unpack("<d", h[3])[0]
                    assert abs(num - sum(counts)) < 1e-6 * max(1.0, num), "histogram num"
                    histograms += 1
assert version == "brain.Event:2", version
print("version", version, "images", images, "histograms", histograms)
for tag, values in sorted(tags.items()):
    print(tag, len(values), values[-1])
