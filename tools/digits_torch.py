#!/usr/bin/python3
"""digits_torch.py: a digits model file as a PyTorch nn.Module with the
same predictions (the recipe of docs/model-format.md, "PyTorch").

    python3 tools/digits_torch.py MODEL [--mnist DIR] [--count N]

    import digits_torch
    net = digits_torch.load("models/lenet5.safetensors")   # eval mode
    probs = net(images)          # images (N, 1, 28, 28) float 0..1, NCHW

The module is plain PyTorch (Conv2d, BatchNorm, Linear, Flatten, ...), so
it can be fine-tuned or exported further. Three things differ from what a
PyTorch port would guess: convolution weights are stored (K, K, C, F)
and dense weights (in, out), so both are transposed; digits flattens in
NHWC order (H, W, C with C innermost) while nn.Flatten on NCHW gives
C, H, W, so the rows of the dense layer after a flatten are reordered to
PyTorch's order; and batch norm uses the file's epsilon ("bn_eps",
1e-3 when absent), not PyTorch's 1e-5. The file is read with
digits_numpy.py (beside this file).
"""
import os
import sys

import numpy as np
import torch
from torch import nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import digits_numpy as dn  # noqa: E402


class Normalize(nn.Module):
    """(x - mean) / std, the model's input normalisation."""
    def __init__(self, mean, std):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x):
        return (x - self.mean) / self.std


class Reorder(nn.Module):
    """Features back into digits' NHWC order (only at the very end of a net
    whose output is a flattened spatial tensor)."""
    def __init__(self, index):
        super().__init__()
        self.register_buffer("index", torch.as_tensor(index))

    def forward(self, x):
        return x.index_select(1, self.index)


def t(a):
    return torch.from_numpy(np.ascontiguousarray(a, dtype=np.float32))


def chw_order(h, w, c):
    """perm[i] = digits' (NHWC) index of PyTorch's (NCHW) flat feature i."""
    return np.arange(h * w * c).reshape(h, w, c).transpose(2, 0, 1).ravel()


def build(model):
    """nn.Sequential from a model read by digits_numpy.load."""
    h, w, c = model["input"]
    eps = model["bn_eps"]
    mods, spatial, perm = [], True, None
    if model["normalize"]:
        mods.append(Normalize(*model["normalize"]))

    def flatten():
        nonlocal spatial, perm, c
        mods.append(nn.Flatten())
        if c > 1 and h * w > 1:
            perm = chw_order(h, w, c)
        spatial, c = False, h * w * c

    for L in model["layers"]:
        kind, a, p = L["kind"], L["args"], L["t"]
        if kind == "conv":
            k, f, pad = int(a[1]), int(a[0]), dn.conv_pad(a)
            m = nn.Conv2d(c, f, k, padding=pad)
            m.weight.data = t(p["weight"].transpose(3, 2, 0, 1))  # HWIO -> OIHW
            m.bias.data = t(p["bias"])
            h, w, c = h + 2 * pad - k + 1, w + 2 * pad - k + 1, f
        elif kind == "dense":
            if spatial:
                flatten()
            wt = p["weight"] if perm is None else p["weight"][perm]
            perm = None
            m = nn.Linear(wt.shape[0], wt.shape[1])
            m.weight.data = t(wt.T)  # (in, out) -> (out, in)
            m.bias.data = t(p["bias"])
            c = wt.shape[1]
        elif kind == "flatten":
            if spatial:
                flatten()
            continue
        elif kind == "bn":
            m = (nn.BatchNorm2d if spatial else nn.BatchNorm1d)(c, eps=eps)
            order = slice(None) if perm is None else perm
            m.weight.data = t(p["gamma"][order])
            m.bias.data = t(p["beta"][order])
            m.running_mean.data = t(p["running_mean"][order])
            m.running_var.data = t(p["running_var"][order])
        elif kind in ("maxpool", "avgpool"):
            s = int(a[0])
            m = (nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d)(s)
            h, w = h // s, w // s
        elif kind == "gap":
            m, h, w = nn.AdaptiveAvgPool2d(1), 1, 1
        elif kind == "leakyrelu":
            m = nn.LeakyReLU(float(a[0]))
        elif kind in ("relu", "sigmoid", "tanh"):
            m = {"relu": nn.ReLU, "sigmoid": nn.Sigmoid, "tanh": nn.Tanh}[kind]()
        elif kind == "softmax":
            m = nn.Softmax(dim=1)  # the channels, spatial or flat
        elif kind == "dropout":
            m = nn.Dropout(float(a[0]))
        else:
            raise dn.FormatError(f"layer {L['name']}: {kind!r} has no PyTorch form here")
        mods.append(m)
    if spatial:
        flatten()
    if perm is not None:
        mods.append(Reorder(np.argsort(perm)))
    if model["layers"][-1]["kind"] != "softmax":
        mods.append(nn.Softmax(dim=1))  # as digits' predict does
    return nn.Sequential(*mods).eval()


def load(path):
    return build(dn.load(path))


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--mnist", metavar="DIR")
    ap.add_argument("--count", type=int, default=None)
    args = ap.parse_args(argv)
    net = load(args.model)
    print(net)
    if args.mnist:
        x, y = dn.mnist_test(args.mnist, args.count)
        with torch.no_grad():
            probs = net(torch.from_numpy(x).unsqueeze(1)).numpy()
        print(f"accuracy: {100 * (probs.argmax(1) == y).mean():.2f}% on {len(y)} test images")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
