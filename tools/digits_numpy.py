#!/usr/bin/python3
"""digits_numpy.py: a reference reader and forward pass for digits model
files, in NumPy alone (docs/model-format.md describes the format).

    python3 tools/digits_numpy.py MODEL                  the layers and metadata
    python3 tools/digits_numpy.py MODEL --mnist DIR [--count N]
                                                         accuracy on MNIST's
                                                         test set (idx files)

As a module:

    import digits_numpy as dn
    model = dn.load("models/lenet5.safetensors")
    probs = dn.predict(model, images)   # images (N, 28, 28) floats 0..1

It is written to be read: every layout rule of the format is visible in a
line or two (weights HWIO and (in, out), activations NHWC, the flatten
order, the batch-norm epsilon, the input normalisation). It checks what it
reads but is no substitute for the C loader's validation.
"""
import json
import struct
import sys

import numpy as np

FORMAT = "digits"
VERSION = 1            # the newest format_version this reader knows
BN_EPS_DEFAULT = 1e-3  # files without "bn_eps" (all older ones)
DTYPES = {"F32": "<f4", "F16": "<f2", "I8": "<i1"}


class FormatError(ValueError):
    pass


# ---- the file ----------------------------------------------------------------

def read_safetensors(path):
    """(metadata dict, {name: float32 array}) of a safetensors file."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise FormatError(f"{path}: too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if hlen > len(blob) - 8:
        raise FormatError(f"{path}: header length {hlen} beyond the file")
    header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    data = blob[8 + hlen:]
    meta = header.pop("__metadata__", None)
    if meta is None:
        raise FormatError(f"{path}: no __metadata__: not a digits model")
    tensors = {}
    for name, e in header.items():
        if e["dtype"] not in DTYPES:
            raise FormatError(f"{path}: tensor {name}: dtype {e['dtype']}")
        begin, end = e["data_offsets"]
        a = np.frombuffer(data[begin:end], dtype=DTYPES[e["dtype"]])
        tensors[name] = a.astype(np.float32).reshape(e["shape"])
    # I8 weights: times their per-channel (last axis) scales "NAME.scale"
    for name, e in header.items():
        if e["dtype"] == "I8":
            scale = tensors.pop(name + ".scale", None)
            if scale is None or scale.shape != (e["shape"][-1],):
                raise FormatError(f"{path}: tensor {name}: I8 without its scales")
            tensors[name] = tensors[name] * scale
    return meta, tensors


def parse_arch(spec):
    """The architecture string as a list of (keyword, [arguments])."""
    layers = []
    for item in spec.replace("\n", ";").split(";"):
        tok = item.split()
        if tok:
            layers.append((tok[0].lower(), tok[1:]))
    return layers


def load(path):
    """A model: its metadata, its layers (with their tensors) and the
    settings that apply to the whole net."""
    meta, tensors = read_safetensors(path)
    if meta.get("format") != FORMAT:
        raise FormatError(f"{path}: format {meta.get('format')!r}, not {FORMAT!r}")
    if int(meta.get("format_version", "0")) > VERSION:
        raise FormatError(f"{path}: format_version {meta['format_version']} "
                          f"is newer than this reader ({VERSION})")
    layers, counts = [], {}
    for kw, args in parse_arch(meta["arch"]):
        kw = {"batchnorm": "bn", "globalavgpool": "gap"}.get(kw, kw)
        if kw == "input":
            continue
        counts[kw] = counts.get(kw, 0) + 1
        name = f"{kw}{counts[kw]}"  # layers are named, never numbered twice
        own = {k[len(name) + 1:]: v for k, v in tensors.items()
               if k.startswith(name + ".")}
        layers.append({"kind": kw, "name": name, "args": args, "t": own})
    norm = None
    if "input_mean" in meta:
        norm = (float(meta["input_mean"]), float(meta["input_std"]))
    shape = [int(v) for v in parse_arch(meta["arch"])[0][1]] \
        if meta["arch"].strip().lower().startswith("input") else [28, 28, 1]
    return {"meta": meta, "layers": layers, "input": shape,
            "bn_eps": float(meta.get("bn_eps", BN_EPS_DEFAULT)),
            "normalize": norm}


# ---- the layers: activations are NHWC (N, H, W, C) --------------------------

def conv(x, w, b, pad):
    """w (K, K, C, F) 'HWIO', stride 1, zero padding pad on every side."""
    k = w.shape[0]
    x = np.pad(x, ((0, 0), (pad, pad), (pad, pad), (0, 0)))
    n, h, wd, c = x.shape
    oh, ow = h - k + 1, wd - k + 1
    # im2col: (N, OH, OW, K, K, C) windows, then one matrix product
    cols = np.lib.stride_tricks.sliding_window_view(x, (k, k), axis=(1, 2))
    cols = cols.transpose(0, 1, 2, 4, 5, 3).reshape(n * oh * ow, k * k * c)
    return (cols @ w.reshape(k * k * c, -1) + b).reshape(n, oh, ow, -1)


def pool(x, p, reduce):
    """P x P windows, stride P; rows and columns that do not fill a window
    are dropped (floor)."""
    n, h, w, c = x.shape
    h, w = h // p * p, w // p * p
    x = x[:, :h, :w, :].reshape(n, h // p, p, w // p, p, c)
    return reduce(x, axis=(2, 4))


def conv_pad(args):
    """conv F K [same|valid|pad P]: the zero padding on every side."""
    k, mode = int(args[1]), args[2] if len(args) > 2 else "valid"
    if mode == "same":
        return (k - 1) // 2
    if mode == "valid":
        return 0
    return int(args[3] if mode == "pad" else mode)


def softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def layer_forward(L, x, eps):
    kind, a, t = L["kind"], L["args"], L["t"]
    if kind == "conv":
        return conv(x, t["weight"], t["bias"], conv_pad(a))
    if kind == "dense":
        # the flat input in NHWC order (H, W, C with C innermost);
        # weight (in, out)
        return x.reshape(len(x), -1) @ t["weight"] + t["bias"]
    if kind == "flatten":
        return x.reshape(len(x), -1)  # NHWC order, not PyTorch's CHW
    if kind == "bn":  # inference: running statistics, over the last axis
        scale = t["gamma"] / np.sqrt(t["running_var"] + eps)
        return (x - t["running_mean"]) * scale + t["beta"]
    if kind == "maxpool":
        return pool(x, int(a[0]), np.max)
    if kind == "avgpool":
        return pool(x, int(a[0]), np.mean)
    if kind == "gap":
        return x.mean(axis=(1, 2), keepdims=True)
    if kind == "relu":
        return np.maximum(x, 0)
    if kind == "leakyrelu":  # leakyrelu ALPHA: the slope below 0
        return np.where(x > 0, x, float(a[0]) * x)
    if kind == "sigmoid":
        return 1 / (1 + np.exp(-x))
    if kind == "tanh":
        return np.tanh(x)
    if kind == "softmax":  # over the channels (the last axis)
        return softmax(x)
    if kind == "dropout":  # inference: the identity
        return x
    raise FormatError(f"layer {L['name']}: kind {kind!r} unknown to this reader")


def predict(model, images):
    """images (N, H, W) or (N, H, W, C) floats 0..1 -> probabilities (N, K)."""
    h, w, c = model["input"]
    x = np.asarray(images, dtype=np.float32).reshape(-1, h, w, c)
    if model["normalize"]:
        mean, std = model["normalize"]
        x = (x - mean) / std
    for L in model["layers"]:
        x = layer_forward(L, x, model["bn_eps"])
    x = x.reshape(len(x), -1)
    if model["layers"][-1]["kind"] != "softmax":
        x = softmax(x)  # as digits' predict does for a net without one
    return x.astype(np.float32)


# ---- MNIST idx files and the command line ------------------------------------

def read_idx(path):
    """An idx file (raw or .gz) as a uint8 array."""
    import gzip
    import os
    if not os.path.exists(path) and os.path.exists(path + ".gz"):
        path += ".gz"
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        blob = f.read()
    ndim = blob[3]
    dims = struct.unpack(">" + "I" * ndim, blob[4:4 + 4 * ndim])
    return np.frombuffer(blob[4 + 4 * ndim:], dtype=np.uint8).reshape(dims)


def mnist_test(folder, count=None):
    """The first count test images (floats 0..1) and labels."""
    x = read_idx(f"{folder}/t10k-images-idx3-ubyte")[:count]
    y = read_idx(f"{folder}/t10k-labels-idx1-ubyte")[:count]
    return x.astype(np.float32) / 255, y


def main(argv):
    import argparse
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--mnist", metavar="DIR", help="MNIST idx folder")
    ap.add_argument("--count", type=int, default=None)
    args = ap.parse_args(argv)
    model = load(args.model)
    print(f"arch: {model['meta']['arch']}")
    for L in model["layers"]:
        shapes = ", ".join(f"{k} {list(v.shape)}" for k, v in L["t"].items())
        print(f"  {L['name']:<10} {' '.join(L['args']):<12} {shapes}")
    print(f"bn_eps: {model['bn_eps']:g}  normalize: {model['normalize']}")
    if args.mnist:
        x, y = mnist_test(args.mnist, args.count)
        probs = np.concatenate([predict(model, x[i:i + 500])
                                for i in range(0, len(x), 500)])
        acc = float((probs.argmax(axis=1) == y).mean())
        print(f"accuracy: {100 * acc:.2f}% on {len(y)} test images")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
