#!/usr/bin/python3
"""PyTorch reference tensors for Shrink's golden tests (tests/Shrink.Tests/Golden/GoldenTests.cs).

Run with Debian's python3-torch:   /usr/bin/python3 tests/golden/make_golden.py
It rewrites tests/golden/<family>.safetensors. Re-running reproduces the committed files byte for byte
(same torch build): every case seeds its own generator from the case name, the math runs on one thread with
deterministic algorithms, and the safetensors files are written by hand (no `safetensors` package needed).

Layout of one case C in a file:
  C.in0, C.in1, ...    inputs, float32. Integer inputs (class targets, indices, masks) are float32 holding
                       integers (0/1 for masks).
  C.out                the output; ops with several outputs store C.out0, C.out1, ... instead.
  C.w                  a fixed random weight shaped like the output (C.w0, C.w1, ... for several outputs).
  C.gradK              dL/d(C.inK) for L = Σ_i Σ(out_i ⊙ w_i), only for the float inputs that take gradients.
  (batch_norm_train also stores C.running_mean / C.running_var after one update; the ViT block stores its
  parameters as block.<timm name> and their gradients as block.grad.<timm name>; the whole models in vit.safetensors
  do the same as vit.<timm name> / deit.<timm name>, see vit().)

Inputs are drawn in float32 and stored as such; the reference math then runs in float64 on exactly those values
and the results are rounded to float32. The stored outputs and gradients are therefore the exact answers to
float32 precision, and a C# test's tolerance only has to cover the C# side's float32 rounding.

Non-tensor arguments of every case are in ARGS below; GoldenTests.cs mirrors this table.
"""
import json
import math
import os
import struct
import zlib

import torch
import torch.nn as nn
import torch.nn.functional as F

torch.set_num_threads(1)
torch.use_deterministic_algorithms(True)

HERE = os.path.dirname(os.path.abspath(__file__))
R = torch.float64  # reference precision

# --------------------------------------------------------------------------------------------------------------
# Non-tensor arguments per case (mirrored in GoldenTests.cs). Shapes are written in the case functions.
# --------------------------------------------------------------------------------------------------------------
ARGS = {
    # elementwise
    "pow": dict(p=2.5),
    "clamp": dict(min=-0.5, max=0.5),
    "gelu_tanh": dict(approximate="tanh"),
    # reductions
    "sum_axes": dict(axes=[0, 2], keepdim=True),
    "sum_axis": dict(axes=[1], keepdim=False),
    "mean_axes": dict(axes=[1], keepdim=False),
    "mean_keep": dict(axes=[-1], keepdim=True),
    "var_axes": dict(axes=[1, 2], correction=1, keepdim=True),
    "var_axis0": dict(axes=[0], correction=1, keepdim=False),
    "var_long": dict(axes=[1], correction=1, keepdim=False),
    "max_axis": dict(axis=1),
    "softmax_last": dict(axis=-1),
    "softmax_mid": dict(axis=1),
    "log_softmax_last": dict(axis=-1),
    "log_softmax_mid": dict(axis=1),
    # shape ops
    "reshape": dict(shape=[4, 6]),
    "permute": dict(dims=[2, 0, 1]),
    "transpose": dict(a=0, b=2),
    "cat": dict(axis=1),
    "stack": dict(axis=1),
    "split": dict(size=3, axis=0),
    "narrow": dict(axis=1, start=2, length=3),
    "index_select": dict(axis=0),
    "gather": dict(axis=1),
    "masked_fill": dict(value=-2.5),
    # nn
    "layer_norm": dict(eps=1e-6),
    "layer_norm_small_var": dict(eps=1e-6),  # variance ~1e-4: eps changes the output by ~0.5%, so a wrong eps shows
    # conv family (PyTorch defaults otherwise: avg_pool2d count_include_pad=True)
    "unfold_k3": dict(kernel=3, dilation=1, padding=0, stride=1),
    "unfold_mixed": dict(kernel=2, dilation=2, padding=1, stride=2),
    "unfold_rect": dict(kernel=(2, 3), dilation=(1, 2), padding=(1, 0), stride=(2, 1)),
    "conv2d_basic": dict(stride=1, padding=0, dilation=1, groups=1),
    "conv2d_stride2": dict(stride=2, padding=0, dilation=1, groups=1),
    "conv2d_pad1": dict(stride=1, padding=1, dilation=1, groups=1),
    "conv2d_groups2": dict(stride=1, padding=0, dilation=1, groups=2),
    "conv2d_dilation2": dict(stride=1, padding=0, dilation=2, groups=1),
    "conv2d_patch": dict(stride=4, padding=0, dilation=1, groups=1),
    "conv2d_nobias": dict(stride=1, padding=1, dilation=1, groups=1),
    "conv2d_rect": dict(stride=(2, 1), padding=(0, 1), dilation=(1, 2), groups=1),
    "avg_pool2d": dict(kernel=2, stride=2, padding=0),
    "avg_pool2d_pad": dict(kernel=3, stride=2, padding=1),
    "max_pool2d": dict(kernel=2, stride=2, padding=0),
    "max_pool2d_pad": dict(kernel=3, stride=2, padding=1),
    "adaptive_avg_pool2d_7to3": dict(out_h=3, out_w=3),
    "adaptive_avg_pool2d_6to4x2": dict(out_h=4, out_w=2),
    "batch_norm_train": dict(training=True, momentum=0.1, eps=1e-5),
    "batch_norm_eval": dict(training=False, momentum=0.1, eps=1e-5),
    # losses
    "ce_mean": dict(reduction="mean", label_smoothing=0.0, ignore_index=-100),
    "ce_sum": dict(reduction="sum", label_smoothing=0.0, ignore_index=-100),
    "ce_none": dict(reduction="none", label_smoothing=0.0, ignore_index=-100),
    "ce_smooth": dict(reduction="mean", label_smoothing=0.1, ignore_index=-100),
    "ce_ignore": dict(reduction="mean", label_smoothing=0.0, ignore_index=-100),
    "ce_ignore_smooth": dict(reduction="mean", label_smoothing=0.1, ignore_index=-100),
    "ce_probs": dict(reduction="mean", label_smoothing=0.0),
    "ce_probs_smooth": dict(reduction="mean", label_smoothing=0.1),
    "kd": dict(tau=4.0),
    "kl_div_sum": dict(reduction="sum"),
    "kl_div_none": dict(reduction="none"),
    "mse_mean": dict(reduction="mean"),
    "mse_sum": dict(reduction="sum"),
    # ViT block
    "block": dict(dim=32, heads=4, mlp=64, eps=1e-6),
    # whole ViTs (vit.safetensors): timm VisionTransformer / DeiT distilled, class-token pooling, no dropout
    "vit": dict(img=12, patch=4, in_chans=1, classes=5, dim=16, depth=2, heads=2, mlp_ratio=2, eps=1e-6, dist_token=False),
    # DeiT: the same with a distillation token and head_dist; 3 channels so the (C, p, p) order of the patch flatten shows
    "deit": dict(img=12, patch=4, in_chans=3, classes=5, dim=16, depth=2, heads=2, mlp_ratio=2, eps=1e-6, dist_token=True),
}


# --------------------------------------------------------------------------------------------------------------
# safetensors writer (format: u64 LE header length, JSON header padded with spaces to a multiple of 8, raw data)
# --------------------------------------------------------------------------------------------------------------
def write_safetensors(path, tensors):
    names = sorted(tensors)
    header = {"__metadata__": {"generator": "tests/golden/make_golden.py", "torch": torch.__version__}}
    blobs, offset = [], 0
    for name in names:
        t = tensors[name].detach().to(torch.float32).contiguous()
        data = struct.pack("<%df" % t.numel(), *t.flatten().tolist())
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hdr = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hdr += b" " * ((8 - len(hdr) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hdr)))
        f.write(hdr)
        for b in blobs:
            f.write(b)


# --------------------------------------------------------------------------------------------------------------
# case machinery
# --------------------------------------------------------------------------------------------------------------
class Family:
    def __init__(self, name):
        self.name, self.tensors, self.cases = name, {}, []

    def put(self, key, t):
        assert key not in self.tensors, key
        self.tensors[key] = t.detach().to(torch.float32).clone()


def gen(name):
    """Per-case generator seeded from the case name, so adding a case never changes another."""
    torch.manual_seed(zlib.crc32(name.encode()))
    g = torch.Generator()
    g.manual_seed(zlib.crc32(name.encode()))
    return g


def randn(g, *shape):
    return torch.randn(*shape, generator=g, dtype=torch.float32)


def rand(g, *shape):
    return torch.rand(*shape, generator=g, dtype=torch.float32)


def distinct(g, *shape):
    """Values in (−1, 1) without ties (for max / max-pool gradients)."""
    n = math.prod(shape)
    return ((torch.randperm(n, generator=g).to(torch.float32) + 0.5) / n * 2 - 1).reshape(shape)


def run(fam, name, fn, inputs, grad=None, extra=None):
    """Stores inputs, outputs, weights and gradients of one case.

    inputs: float32 tensors (stored as C.inK); grad: indices of inputs that take gradients (default: all);
    fn receives float64 copies and returns a tensor or a tuple of tensors.
    """
    g = torch.Generator()
    g.manual_seed(zlib.crc32((name + ".w").encode()))
    grad = list(range(len(inputs))) if grad is None else grad
    xs = []
    for i, x in enumerate(inputs):
        fam.put(f"{name}.in{i}", x)
        xr = x.to(R).clone()
        if i in grad:
            xr.requires_grad_(True)
        xs.append(xr)
    out = fn(*xs)
    outs = list(out) if isinstance(out, tuple) else [out]
    ws = [torch.randn(o.shape, generator=g, dtype=torch.float32) for o in outs]
    loss = sum((o * w.to(R)).sum() for o, w in zip(outs, ws))
    loss.backward()
    if len(outs) == 1:
        fam.put(f"{name}.out", outs[0])
        fam.put(f"{name}.w", ws[0])
    else:
        for k, (o, w) in enumerate(zip(outs, ws)):
            fam.put(f"{name}.out{k}", o)
            fam.put(f"{name}.w{k}", w)
    for i in grad:
        fam.put(f"{name}.grad{i}", xs[i].grad)
    for k, v in (extra or {}).items():
        fam.put(f"{name}.{k}", v)
    fam.cases.append(name)


# --------------------------------------------------------------------------------------------------------------
# families
# --------------------------------------------------------------------------------------------------------------
def elementwise():
    f = Family("elementwise")
    g = gen("add"); run(f, "add", lambda a, b: a + b, [randn(g, 2, 3, 4), randn(g, 3, 1)])
    g = gen("sub"); run(f, "sub", lambda a, b: a - b, [randn(g, 3, 4), randn(g, 4)])
    g = gen("mul"); run(f, "mul", lambda a, b: a * b, [randn(g, 2, 1, 4), randn(g, 3, 1)])
    # divisor bounded away from zero: ±(0.5 .. 1.5)
    g = gen("div")
    a = randn(g, 3, 4)
    b = (rand(g, 2, 1, 4) + 0.5) * torch.sign(randn(g, 2, 1, 4))
    run(f, "div", lambda a, b: a / b, [a, b])
    g = gen("neg"); run(f, "neg", lambda x: -x, [randn(g, 3, 5)])
    g = gen("exp"); run(f, "exp", torch.exp, [randn(g, 3, 5)])
    g = gen("log"); run(f, "log", torch.log, [rand(g, 3, 5) * 2 + 0.1])
    g = gen("sqrt"); run(f, "sqrt", torch.sqrt, [rand(g, 3, 5) * 2 + 0.1])
    g = gen("pow"); run(f, "pow", lambda x: x.pow(ARGS["pow"]["p"]), [rand(g, 3, 5) * 2 + 0.1])
    # |x| ≥ 0.05 so the kinks of abs/relu are not probed
    g = gen("abs"); x = randn(g, 3, 5); x = x + 0.05 * torch.sign(x); run(f, "abs", torch.abs, [x])
    g = gen("clamp")
    x = randn(g, 4, 5)
    x = torch.where((x.abs() - 0.5).abs() < 0.02, x * 1.1, x)  # keep away from the clamp edges
    run(f, "clamp", lambda x: x.clamp(ARGS["clamp"]["min"], ARGS["clamp"]["max"]), [x])
    g = gen("relu"); x = randn(g, 3, 5); x = x + 0.05 * torch.sign(x); run(f, "relu", F.relu, [x])
    g = gen("gelu"); run(f, "gelu", F.gelu, [randn(g, 3, 5) * 2])
    g = gen("gelu_tanh"); run(f, "gelu_tanh", lambda x: F.gelu(x, approximate="tanh"), [randn(g, 3, 5) * 2])
    g = gen("sigmoid"); run(f, "sigmoid", torch.sigmoid, [randn(g, 3, 5) * 2])
    g = gen("tanh"); run(f, "tanh", torch.tanh, [randn(g, 3, 5)])
    return f


def reductions():
    f = Family("reductions")
    for name, fn in [("sum_axes", torch.sum), ("sum_axis", torch.sum), ("mean_axes", torch.mean), ("mean_keep", torch.mean)]:
        a = ARGS[name]
        g = gen(name)
        run(f, name, lambda x, fn=fn, a=a: fn(x, dim=a["axes"], keepdim=a["keepdim"]), [randn(g, 3, 4, 5)])
    for name, shape in [("var_axes", (3, 4, 5)), ("var_axis0", (6, 4)), ("var_long", (3, 100))]:
        a = ARGS[name]
        g = gen(name)
        x = randn(g, *shape) + 3.0  # offset mean: exercises the centring
        run(f, name, lambda x, a=a: torch.var(x, dim=a["axes"], unbiased=a["correction"] == 1, keepdim=a["keepdim"]), [x])
    g = gen("max_axis"); run(f, "max_axis", lambda x: x.max(dim=ARGS["max_axis"]["axis"]).values, [distinct(g, 3, 4, 5)])
    for name, fn in [("softmax_last", F.softmax), ("softmax_mid", F.softmax),
                     ("log_softmax_last", F.log_softmax), ("log_softmax_mid", F.log_softmax)]:
        g = gen(name)
        run(f, name, lambda x, fn=fn, ax=ARGS[name]["axis"]: fn(x, dim=ax), [randn(g, 2, 3, 4) * 3])
    return f


def matmul():
    f = Family("matmul")
    g = gen("matmul_2d"); run(f, "matmul_2d", torch.matmul, [randn(g, 5, 7), randn(g, 7, 3)])
    g = gen("matmul_batched"); run(f, "matmul_batched", torch.matmul, [randn(g, 2, 1, 4, 6), randn(g, 3, 6, 5)])
    # a @ bᵀ with b stored as (5, 6): the C# side passes the transposed view b.MT
    g = gen("matmul_transposed"); run(f, "matmul_transposed", lambda a, b: a @ b.transpose(-2, -1), [randn(g, 4, 6), randn(g, 5, 6)])
    # long inner dimension K = 96
    g = gen("matmul_k96"); run(f, "matmul_k96", torch.matmul, [randn(g, 8, 96), randn(g, 96, 8)])
    # matrix @ vector-like batched: (2, 3, 8) @ (8, 4), the Linear pattern
    g = gen("matmul_3d_2d"); run(f, "matmul_3d_2d", torch.matmul, [randn(g, 2, 3, 8), randn(g, 8, 4)])
    return f


def shape_ops():
    f = Family("shape")
    g = gen("reshape"); run(f, "reshape", lambda x: x.reshape(ARGS["reshape"]["shape"]), [randn(g, 2, 3, 4)])
    g = gen("permute"); run(f, "permute", lambda x: x.permute(ARGS["permute"]["dims"]), [randn(g, 2, 3, 4)])
    g = gen("transpose"); run(f, "transpose", lambda x: x.transpose(ARGS["transpose"]["a"], ARGS["transpose"]["b"]), [randn(g, 2, 3, 4)])
    g = gen("cat"); run(f, "cat", lambda a, b, c: torch.cat([a, b, c], dim=ARGS["cat"]["axis"]), [randn(g, 2, 3), randn(g, 2, 5), randn(g, 2, 1)])
    g = gen("stack"); run(f, "stack", lambda a, b, c: torch.stack([a, b, c], dim=ARGS["stack"]["axis"]), [randn(g, 2, 3), randn(g, 2, 3), randn(g, 2, 3)])
    g = gen("split"); run(f, "split", lambda x: tuple(torch.split(x, ARGS["split"]["size"], dim=ARGS["split"]["axis"])), [randn(g, 7, 4)])
    a = ARGS["narrow"]
    g = gen("narrow"); run(f, "narrow", lambda x: x.narrow(a["axis"], a["start"], a["length"]), [randn(g, 5, 6)])
    # repeated index: gradients accumulate
    g = gen("index_select")
    run(f, "index_select", lambda x, i: torch.index_select(x, ARGS["index_select"]["axis"], i.long()),
        [randn(g, 5, 4), torch.tensor([3.0, 0.0, 3.0, 1.0])], grad=[0])
    g = gen("gather")
    run(f, "gather", lambda x, i: torch.gather(x, ARGS["gather"]["axis"], i.long()),
        [randn(g, 3, 5), torch.randint(0, 5, (3, 4), generator=g).to(torch.float32)], grad=[0])
    g = gen("masked_fill")
    run(f, "masked_fill", lambda x, m: x.masked_fill(m != 0, ARGS["masked_fill"]["value"]),
        [randn(g, 3, 4), (rand(g, 3, 4) < 0.4).to(torch.float32)], grad=[0])
    g = gen("where")
    run(f, "where", lambda c, a, b: torch.where(c != 0, a, b),
        [(rand(g, 3, 4) < 0.5).to(torch.float32), randn(g, 3, 4), randn(g, 3, 4)], grad=[1, 2])
    return f


def nn_ops():
    f = Family("nn")
    g = gen("linear"); run(f, "linear", F.linear, [randn(g, 2, 3, 6), randn(g, 4, 6), randn(g, 4)])
    g = gen("linear_nobias"); run(f, "linear_nobias", lambda x, w: F.linear(x, w), [randn(g, 5, 6), randn(g, 4, 6)])
    g = gen("layer_norm")
    x = randn(g, 2, 3, 8) * 2 + 1
    run(f, "layer_norm", lambda x, w, b: F.layer_norm(x, (8,), w, b, ARGS["layer_norm"]["eps"]),
        [x, 1 + 0.3 * randn(g, 8), 0.3 * randn(g, 8)])
    g = gen("layer_norm_small_var")
    x = randn(g, 3, 16) * 0.01 + 0.5
    run(f, "layer_norm_small_var", lambda x, w, b: F.layer_norm(x, (16,), w, b, ARGS["layer_norm_small_var"]["eps"]),
        [x, 1 + 0.3 * randn(g, 16), 0.3 * randn(g, 16)])
    g = gen("embedding")
    idx = torch.tensor([[1.0, 4.0, 1.0], [6.0, 0.0, 4.0]])
    run(f, "embedding", lambda i, w: F.embedding(i.long(), w), [idx, randn(g, 7, 5)], grad=[1])
    return f


def conv():
    f = Family("conv")
    for name, shape in [("unfold_k3", (2, 3, 5, 6)), ("unfold_mixed", (2, 3, 7, 6)), ("unfold_rect", (2, 2, 6, 7))]:
        a = ARGS[name]
        g = gen(name)
        run(f, name, lambda x, a=a: F.unfold(x, a["kernel"], dilation=a["dilation"], padding=a["padding"], stride=a["stride"]),
            [randn(g, *shape)])
    convs = [
        ("conv2d_basic", (2, 3, 7, 7), (4, 3, 3, 3), True),
        ("conv2d_stride2", (2, 3, 7, 7), (4, 3, 3, 3), True),
        ("conv2d_pad1", (2, 3, 6, 5), (4, 3, 3, 3), True),
        ("conv2d_groups2", (2, 4, 6, 6), (6, 2, 3, 3), True),
        ("conv2d_dilation2", (2, 3, 8, 8), (4, 3, 3, 3), True),
        ("conv2d_patch", (2, 3, 8, 8), (16, 3, 4, 4), True),   # ViT patch embedding: kernel = stride = 4
        ("conv2d_nobias", (2, 3, 5, 5), (4, 3, 3, 3), False),
        ("conv2d_rect", (2, 3, 7, 8), (4, 3, 2, 3), True),      # rectangular kernel, per-axis stride/padding/dilation
    ]
    for name, xs, ws, bias in convs:
        a = ARGS[name]
        g = gen(name)
        x, w = randn(g, *xs), randn(g, *ws) * 0.3
        if bias:
            run(f, name, lambda x, w, b, a=a: F.conv2d(x, w, b, a["stride"], a["padding"], a["dilation"], a["groups"]),
                [x, w, randn(g, ws[0])])
        else:
            run(f, name, lambda x, w, a=a: F.conv2d(x, w, None, a["stride"], a["padding"], a["dilation"], a["groups"]), [x, w])
    for name in ["avg_pool2d", "avg_pool2d_pad"]:
        a = ARGS[name]
        g = gen(name)
        run(f, name, lambda x, a=a: F.avg_pool2d(x, a["kernel"], a["stride"], a["padding"]), [randn(g, 2, 3, 6, 7)])
    for name in ["max_pool2d", "max_pool2d_pad"]:
        a = ARGS[name]
        g = gen(name)
        run(f, name, lambda x, a=a: F.max_pool2d(x, a["kernel"], a["stride"], a["padding"]), [distinct(g, 2, 3, 6, 7)])
    for name, shape in [("adaptive_avg_pool2d_7to3", (2, 3, 7, 7)), ("adaptive_avg_pool2d_6to4x2", (2, 3, 6, 5))]:
        a = ARGS[name]
        g = gen(name)
        run(f, name, lambda x, a=a: F.adaptive_avg_pool2d(x, (a["out_h"], a["out_w"])), [randn(g, *shape)])
    for name in ["batch_norm_train", "batch_norm_eval"]:
        a = ARGS[name]
        g = gen(name)
        x = randn(g, 4, 3, 5, 5) * 2 + 0.5
        rm, rv = 0.3 * randn(g, 3), rand(g, 3) + 0.5
        w, b = 1 + 0.3 * randn(g, 3), 0.3 * randn(g, 3)
        state = {}

        def bn(x, rm, rv, w, b, a=a, state=state):
            rm2, rv2 = rm.detach().clone(), rv.detach().clone()
            y = F.batch_norm(x, rm2, rv2, w, b, a["training"], a["momentum"], a["eps"])
            state["running_mean"], state["running_var"] = rm2, rv2
            return y

        run(f, name, bn, [x, rm, rv, w, b], grad=[0, 3, 4], extra=state)
    return f


def losses():
    f = Family("losses")
    N, C = 6, 5
    for name in ["ce_mean", "ce_sum", "ce_none", "ce_smooth", "ce_ignore", "ce_ignore_smooth"]:
        a = ARGS[name]
        g = gen(name)
        logits = randn(g, N, C) * 2
        target = torch.randint(0, C, (N,), generator=g).to(torch.float32)
        if "ignore" in name:
            target[1] = a["ignore_index"]
            target[4] = a["ignore_index"]
        run(f, name, lambda s, t, a=a: F.cross_entropy(s, t.long(), ignore_index=a["ignore_index"], reduction=a["reduction"],
                                                       label_smoothing=a["label_smoothing"]),
            [logits, target], grad=[0])
    for name in ["ce_probs", "ce_probs_smooth"]:
        a = ARGS[name]
        g = gen(name)
        logits = randn(g, N, C) * 2
        probs = F.softmax(randn(g, N, C) * 2, dim=1)
        run(f, name, lambda s, p, a=a: F.cross_entropy(s, p, reduction=a["reduction"], label_smoothing=a["label_smoothing"]),
            [logits, probs], grad=[0])
    # knowledge-distillation term: τ²·KL(softmax(t/τ) ‖ softmax(s/τ)), batchmean. Gradient to the student only.
    tau = ARGS["kd"]["tau"]
    g = gen("kd")
    run(f, "kd", lambda s, t: F.kl_div(F.log_softmax(s / tau, dim=1), F.softmax(t / tau, dim=1), reduction="batchmean") * tau * tau,
        [randn(g, N, C) * 3, randn(g, N, C) * 3], grad=[0])
    for name in ["kl_div_sum", "kl_div_none"]:
        g = gen(name)
        inp = F.log_softmax(randn(g, 4, C), dim=1)
        tgt = F.softmax(randn(g, 4, C), dim=1)
        run(f, name, lambda x, t, r=ARGS[name]["reduction"]: F.kl_div(x, t, reduction=r), [inp, tgt], grad=[0])
    for name in ["mse_mean", "mse_sum"]:
        g = gen(name)
        run(f, name, lambda a, b, r=ARGS[name]["reduction"]: F.mse_loss(a, b, reduction=r), [randn(g, 3, 4), randn(g, 3, 4)])
    return f


def sdpa(q, k, v, mask=None):
    """softmax(q kᵀ/√d + mask) v, and the probabilities (PyTorch 2's F.scaled_dot_product_attention definition)."""
    s = q @ k.transpose(-2, -1) / math.sqrt(q.shape[-1])
    if mask is not None:
        s = s + mask
    p = torch.softmax(s, dim=-1)
    return p @ v, p


def attention():
    f = Family("attention")
    B, H, Nq, Nk, d = 2, 2, 4, 6, 8
    g = gen("sdpa")
    run(f, "sdpa", lambda q, k, v: sdpa(q, k, v), [randn(g, B, H, Nq, d), randn(g, B, H, Nk, d), randn(g, B, H, Nk, d)])
    g = gen("sdpa_mask")
    mask = 0.5 * randn(g, Nq, Nk)
    for (i, j) in [(0, 1), (0, 5), (2, 0), (2, 3), (2, 4), (3, 2)]:
        mask[i, j] = float("-inf")
    run(f, "sdpa_mask", lambda q, k, v, m: sdpa(q, k, v, m),
        [randn(g, B, H, Nq, d), randn(g, B, H, Nk, d), randn(g, B, H, Nk, d), mask], grad=[0, 1, 2])
    return f


class Attention(nn.Module):
    """timm's Attention: qkv packed [q; k; v] along the output dim, heads contiguous."""

    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        B, N, C = x.shape
        qkv = self.qkv(x).reshape(B, N, 3, self.heads, C // self.heads).permute(2, 0, 3, 1, 4)
        q, k, v = qkv.unbind(0)
        o, _ = sdpa(q, k, v)
        return self.proj(o.transpose(1, 2).reshape(B, N, C))


class Mlp(nn.Module):
    def __init__(self, dim, hidden):
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        return self.fc2(self.act(self.fc1(x)))


class Block(nn.Module):
    """timm's pre-norm ViT Block (no LayerScale, no drop path)."""

    def __init__(self, dim, heads, mlp, eps):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=eps)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=eps)
        self.mlp = Mlp(dim, mlp)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


def block():
    f = Family("block")
    a = ARGS["block"]
    g = gen("block")
    m = Block(a["dim"], a["heads"], a["mlp"], a["eps"])
    params = dict(m.named_parameters())
    with torch.no_grad():
        for name in sorted(params):
            p = params[name]
            if name.startswith("norm"):
                p.copy_((1 if name.endswith("weight") else 0) + 0.2 * randn(g, *p.shape))
            elif name.endswith("weight"):
                p.copy_(randn(g, *p.shape) / math.sqrt(p.shape[1]))
            else:
                p.copy_(0.1 * randn(g, *p.shape))
    x = randn(g, 2, 5, a["dim"])
    for name in sorted(params):
        f.put(f"block.{name}", params[name])
    m = m.to(R)
    xr = x.to(R).requires_grad_(True)
    out = m(xr)
    w = randn(g, *out.shape)
    (out * w.to(R)).sum().backward()
    f.put("block.in0", x)
    f.put("block.out", out)
    f.put("block.w", w)
    f.put("block.grad0", xr.grad)
    for name, p in m.named_parameters():
        f.put(f"block.grad.{name}", p.grad)
    f.cases.append("block")
    return f


class PatchEmbed(nn.Module):
    """timm's PatchEmbed: Conv2d with kernel = stride = p, then (B, D, H/p, W/p) → (B, N, D), patches row-major."""

    def __init__(self, patch, in_chans, dim):
        super().__init__()
        self.proj = nn.Conv2d(in_chans, dim, patch, stride=patch)

    def forward(self, x):
        return self.proj(x).flatten(2).transpose(1, 2)


class VisionTransformer(nn.Module):
    """timm's VisionTransformer (class token, learned pos_embed, pre-norm blocks, final norm, head on token 0) with
    DeiT's distillation token as an option (DistilledVisionTransformer: dist_token after cls_token, head_dist on
    token 1; in eval it returns the mean of both heads). Parameter names are timm's."""

    def __init__(self, img, patch, in_chans, classes, dim, depth, heads, mlp_ratio, eps, dist_token):
        super().__init__()
        n = (img // patch) ** 2
        prefix = 2 if dist_token else 1
        self.patch_embed = PatchEmbed(patch, in_chans, dim)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.dist_token = nn.Parameter(torch.zeros(1, 1, dim)) if dist_token else None
        self.pos_embed = nn.Parameter(torch.zeros(1, n + prefix, dim))
        self.blocks = nn.Sequential(*[Block(dim, heads, int(dim * mlp_ratio), eps) for _ in range(depth)])
        self.norm = nn.LayerNorm(dim, eps=eps)
        self.head = nn.Linear(dim, classes)
        self.head_dist = nn.Linear(dim, classes) if dist_token else None

    def forward_heads(self, x):
        x = self.patch_embed(x)                                                  # (B, N, D)
        B = x.shape[0]
        prefix = [self.cls_token.expand(B, -1, -1)]
        if self.dist_token is not None:
            prefix.append(self.dist_token.expand(B, -1, -1))
        x = torch.cat(prefix + [x], dim=1) + self.pos_embed                      # (B, T, D)
        x = self.norm(self.blocks(x))
        logits = self.head(x[:, 0])
        return (logits, self.head_dist(x[:, 1])) if self.dist_token is not None else logits

    def forward(self, x):
        out = self.forward_heads(x)
        if self.dist_token is not None and not self.training:
            return (out[0] + out[1]) / 2                                         # DeiT's inference rule
        return out


def vit():
    """Two whole models (cases `vit` and `deit`): parameters under <case>.<timm name>, input <case>.in0, logits
    <case>.out (DeiT: out0 = head, out1 = head_dist), weights w / w0, w1, gradients <case>.grad0 (input) and
    <case>.grad.<timm name> for every parameter; DeiT also stores <case>.prediction, the eval-mode output."""
    f = Family("vit")
    for case in ["vit", "deit"]:
        a = ARGS[case]
        g = gen(case)
        m = VisionTransformer(**a)
        params = dict(m.named_parameters())
        with torch.no_grad():
            for name in sorted(params):
                p = params[name]
                if name.startswith("norm") or ".norm" in name:        # LayerNorms: near 1 / near 0
                    p.copy_((1 if name.endswith("weight") else 0) + 0.2 * randn(g, *p.shape))
                elif name in ("cls_token", "dist_token", "pos_embed"):  # not zero: their gradients are then meaningful
                    p.copy_(0.5 * randn(g, *p.shape))
                elif name.endswith("weight"):                           # Linear (out, in), Conv2d (D, C, p, p): 1/√fan_in
                    p.copy_(randn(g, *p.shape) / math.sqrt(p[0].numel()))
                else:
                    p.copy_(0.1 * randn(g, *p.shape))
        x = randn(g, 3, a["in_chans"], a["img"], a["img"])
        for name in sorted(params):
            f.put(f"{case}.{name}", params[name])
        m = m.to(R).train()
        xr = x.to(R).requires_grad_(True)
        out = m(xr)
        outs = list(out) if isinstance(out, tuple) else [out]
        ws = [randn(g, *o.shape) for o in outs]
        sum((o * w.to(R)).sum() for o, w in zip(outs, ws)).backward()
        f.put(f"{case}.in0", x)
        if len(outs) == 1:
            f.put(f"{case}.out", outs[0])
            f.put(f"{case}.w", ws[0])
        else:
            for k, (o, w) in enumerate(zip(outs, ws)):
                f.put(f"{case}.out{k}", o)
                f.put(f"{case}.w{k}", w)
            with torch.no_grad():
                f.put(f"{case}.prediction", m.eval()(x.to(R)))
        f.put(f"{case}.grad0", xr.grad)
        for name, p in m.named_parameters():
            f.put(f"{case}.grad.{name}", p.grad)
        f.cases.append(case)
    return f


def main():
    total = 0
    for make in [elementwise, reductions, matmul, shape_ops, nn_ops, conv, losses, attention, block, vit]:
        fam = make()
        path = os.path.join(HERE, fam.name + ".safetensors")
        write_safetensors(path, fam.tensors)
        size = os.path.getsize(path)
        total += size
        print(f"{fam.name:12s} {len(fam.cases):3d} cases {len(fam.tensors):4d} tensors {size:8d} bytes")
    print(f"total {total} bytes")


if __name__ == "__main__":
    main()
