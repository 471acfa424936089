"""Writes safetensors_dtypes.safetensors: F16 and BF16 tensors converted by PyTorch, next to their exact
float32 values ("<name>.f32"), to check that Shrink decodes half precision exactly as PyTorch does.

The file is written with struct/json only, in the official layout (u64 LE header length, compact JSON,
space padding to a multiple of 8, tensors ordered by descending dtype then name, as the official writer).
Run: /usr/bin/python3 tests/golden/safetensors_dtypes.py
"""
import json
import os
import struct

import torch

torch.manual_seed(0)
base = torch.cat([
    torch.randn(40) * 3,
    torch.tensor([0.0, -0.0, 1.0, -1.0, 65504.0, 65520.0, 1e5, 6.0e-5, 6.1e-8, 3e-8, 1e-40, -1e-45,
                  3.4e38, float("inf"), float("-inf"), float("nan"), 0.1, 1.0 / 3.0, 2.0 ** -24, 2.0 ** -14,
                  1.00048828125, 1.0009765625, 255.5, -1e-7]),
])
tensors = {}
for name, dtype, code in [("half", torch.float16, "F16"), ("bfloat", torch.bfloat16, "BF16")]:
    t = base.to(dtype).reshape(8, 8)
    tensors[name] = (code, t)
    tensors[name + ".f32"] = ("F32", t.float())

order = {"F32": 0, "BF16": 1, "F16": 2}  # descending dtype, as the official writer sorts
names = sorted(tensors, key=lambda n: (order[tensors[n][0]], n))
header, data, offset = {"__metadata__": {"format": "pt"}}, b"", 0
for n in names:
    code, t = tensors[n]
    raw = t.contiguous().view(torch.int16 if code != "F32" else torch.int32).numpy().tobytes()
    header[n] = {"dtype": code, "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
    data += raw
    offset += len(raw)
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * (-len(h) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "safetensors_dtypes.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(h)) + h + data)
print(out, 8 + len(h) + len(data), "bytes")
