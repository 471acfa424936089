#!/usr/bin/python3
"""Builds the bundled Fashion-MNIST subset in data/fashion-mnist-subset/ from the full IDX files.

Usage:
    /usr/bin/python3 data/make_subset.py [SOURCE_FOLDER] [--out OUT_FOLDER]

SOURCE_FOLDER holds the four standard files (train-images-idx3-ubyte, train-labels-idx1-ubyte,
t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte), each raw or gzip-compressed (".gz"); it defaults
to /usr/share/datasets/fashion-mnist (Debian's package dataset-fashion-mnist). OUT_FOLDER defaults
to data/fashion-mnist-subset next to this script.

Selection rule (deterministic, nothing random, so it cannot drift across Python versions):
    train: the first 1000 images of each class in file order   -> 10,000 images
    test:  the first  200 images of each class in file order   ->  2,000 images
The chosen images keep their relative order from the original file (so classes stay interleaved as
they are in Fashion-MNIST, which is already shuffled).

Output: the same four file names with ".gz", IDX format (big-endian magic 0x00000803 for u8 images,
0x00000801 for u8 labels, big-endian u32 dimensions), gzip level 9 with mtime 0 and no file name in
the gzip header, so re-running produces identical bytes with the same zlib. The script prints the
sha256 of each uncompressed payload (independent of zlib) and of each written file.

Standard library only.
"""
import gzip
import hashlib
import os
import struct
import sys

TRAIN_PER_CLASS = 1000
TEST_PER_CLASS = 200
NUM_CLASSES = 10
DEFAULT_SOURCE = "/usr/share/datasets/fashion-mnist"

SPLITS = [
    # (prefix, per-class count)
    ("train", TRAIN_PER_CLASS),
    ("t10k", TEST_PER_CLASS),
]


def find_file(folder, name):
    for candidate in (name, name + ".gz"):
        path = os.path.join(folder, candidate)
        if os.path.isfile(path):
            return path
    raise SystemExit(f"make_subset: neither {name} nor {name}.gz found in {folder}")


def read_idx(path, expected_magic, expected_rank):
    with open(path, "rb") as f:
        data = f.read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    if len(data) < 4 + 4 * expected_rank:
        raise SystemExit(f"make_subset: {path}: too short for an IDX header")
    magic = struct.unpack(">I", data[:4])[0]
    if magic != expected_magic:
        raise SystemExit(f"make_subset: {path}: magic 0x{magic:08X}, expected 0x{expected_magic:08X}")
    dims = list(struct.unpack(">" + "I" * expected_rank, data[4:4 + 4 * expected_rank]))
    payload = data[4 + 4 * expected_rank:]
    n = 1
    for d in dims:
        n *= d
    if len(payload) != n:
        raise SystemExit(f"make_subset: {path}: payload has {len(payload)} bytes, dims {dims} need {n}")
    return dims, payload


def write_idx_gz(path, magic, dims, payload):
    header = struct.pack(">I", magic) + struct.pack(">" + "I" * len(dims), *dims)
    with open(path, "wb") as raw:
        # filename="" keeps the name out of the header; mtime=0 makes the header timestamp fixed.
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, compresslevel=9, mtime=0) as gz:
            gz.write(header)
            gz.write(payload)


def main(argv):
    args = list(argv)
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fashion-mnist-subset")
    if "--out" in args:
        i = args.index("--out")
        out = args[i + 1]
        del args[i:i + 2]
    source = args[0] if args else DEFAULT_SOURCE
    os.makedirs(out, exist_ok=True)

    for prefix, per_class in SPLITS:
        img_path = find_file(source, f"{prefix}-images-idx3-ubyte")
        lbl_path = find_file(source, f"{prefix}-labels-idx1-ubyte")
        (count, rows, cols), pixels = read_idx(img_path, 0x00000803, 3)
        (lcount,), labels = read_idx(lbl_path, 0x00000801, 1)
        if lcount != count:
            raise SystemExit(f"make_subset: {img_path} has {count} images but {lbl_path} has {lcount} labels")

        # The rule: first `per_class` images of each class, in file order.
        taken = [0] * NUM_CLASSES
        chosen = []
        for i, y in enumerate(labels):
            if y >= NUM_CLASSES:
                raise SystemExit(f"make_subset: {lbl_path}: label {y} at index {i} is not in 0..9")
            if taken[y] < per_class:
                taken[y] += 1
                chosen.append(i)
        if any(t != per_class for t in taken):
            raise SystemExit(f"make_subset: {prefix}: not enough images per class: {taken}")

        size = rows * cols
        sub_pixels = b"".join(pixels[i * size:(i + 1) * size] for i in chosen)
        sub_labels = bytes(labels[i] for i in chosen)
        n = len(chosen)

        files = [
            (f"{prefix}-images-idx3-ubyte.gz", 0x00000803, [n, rows, cols], sub_pixels),
            (f"{prefix}-labels-idx1-ubyte.gz", 0x00000801, [n], sub_labels),
        ]
        for name, magic, dims, payload in files:
            path = os.path.join(out, name)
            write_idx_gz(path, magic, dims, payload)
            with open(path, "rb") as f:
                file_sha = hashlib.sha256(f.read()).hexdigest()
            payload_sha = hashlib.sha256(payload).hexdigest()
            print(f"{name}: dims {dims}, payload sha256 {payload_sha}, file sha256 {file_sha}")


if __name__ == "__main__":
    main(sys.argv[1:])
