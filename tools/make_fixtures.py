"""Writes the small torchvision fixtures that test/fixtures.test.js compares our model with, layer
by layer, so that `npm test` checks torchvision compatibility without Python.

Regenerate (Debian's PyTorch 1.13 / torchvision 0.14 at /usr/bin/python3; no `safetensors`
package needed, the files are written by hand):

    /usr/bin/python3 tools/make_fixtures.py              # writes test/fixtures/*.safetensors
    /usr/bin/python3 tools/make_fixtures.py OUT_DIR      # somewhere else

Everything is seeded (one torch.Generator per fixture), so a rerun with the same PyTorch writes
the same bytes. Every file is a safetensors file holding:

  * the torchvision module's parameters and buffers (num_batches_tracked left out) under the
    names our model gives them (torchvision's full-RetinaNet names, e.g.
    `backbone.body.layer2.0.conv1.weight`), convolutions OIHW as PyTorch keeps them — exactly
    what tools/convert-torchvision.py writes for a whole model. All of them random and
    non-trivial: He-normal conv weights, non-zero biases, frozen-BN / GroupNorm affine and
    running statistics drawn away from 1 and 0;
  * `input` (or `input.<k>`): the input, stored NHWC (our layout; PyTorch ran it NCHW);
  * `output` (or `output.<k>`): the expected output, NHWC for feature maps, torchvision's
    [N, H·W·A, K] for the heads' outputs. The reference is computed in float64 from the
    float32-rounded parameters and input, then rounded to float32, so what the test measures is
    our float32 error alone;
  * metadata `fixture`: JSON telling the test what to build (block class, channels, stride…).

The whole tiny RetinaNet keeps its parameters and input as F16 (rounded to float16 before the
reference runs, so they are exact; this also exercises our F16 reader) to stay small. All files
together stay under 1 MB.
"""
import copy
import json
import math
import os
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch
import torch.nn.functional as F
import torchvision
from torch import nn
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead
from torchvision.models.resnet import BasicBlock, Bottleneck, ResNet
from torchvision.ops import FeaturePyramidNetwork
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_safetensors(path, tensors, metadata, half=()):
    """tensors: name -> float array; names in `half` are stored F16, the rest F32."""
    header, offset, blobs = {"__metadata__": metadata}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(np.asarray(tensors[name], dtype=np.float64))
        a = a.astype("<f2" if name in half else "<f4")
        header[name] = {"dtype": "F16" if name in half else "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    text = json.dumps(header, sort_keys=True)
    text += " " * ((8 - (len(text) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)
    return os.path.getsize(path)


def gn(channels):
    """Our 'gn' NormLayer's groups: min(32, C), lowered until it divides C (32 for C % 32 == 0,
    as torchvision's GroupNorm(32, C) in its v2 models)."""
    groups = min(32, channels)
    while channels % groups:
        groups -= 1
    return nn.GroupNorm(groups, channels, eps=1e-5)


def randomize(module, gen, half=False, gain=2.0):
    """Non-trivial values for every float parameter and buffer, drawn from `gen`, in the
    module's (deterministic) named order; rounded to float32 (or float16 when `half`). Conv
    weights N(0, gain / fan_in) (He for gain 2)."""
    tensors = dict(module.named_parameters())
    tensors.update(dict(module.named_buffers()))
    norms = {n for n, m in module.named_modules() if isinstance(m, (FrozenBatchNorm2d, nn.GroupNorm, nn.BatchNorm2d))}
    with torch.no_grad():
        for name in sorted(tensors):
            t = tensors[name]
            if not t.dtype.is_floating_point:
                continue
            owner, leaf = name.rsplit(".", 1) if "." in name else ("", name)
            if owner in norms:
                lo, hi = {"weight": (0.5, 1.5), "bias": (-0.3, 0.3), "running_mean": (-0.3, 0.3), "running_var": (0.4, 2.0)}[leaf]
                v = torch.rand(t.shape, generator=gen, dtype=torch.float64) * (hi - lo) + lo
            elif t.dim() == 4:
                fan_in = t.shape[1] * t.shape[2] * t.shape[3]
                v = torch.randn(t.shape, generator=gen, dtype=torch.float64) * math.sqrt(gain / fan_in)
            elif leaf == "bias":
                v = (torch.rand(t.shape, generator=gen, dtype=torch.float64) * 2 - 1) * 0.2
            else:
                raise ValueError(f"no rule for {name} {tuple(t.shape)}")
            v = v.half() if half else v.float()
            t.copy_(v.to(t.dtype))


def state(module, prefix):
    """The module's parameters and buffers (float, no num_batches_tracked) under prefix."""
    return {prefix + k: v.detach().float().numpy().copy() for k, v in module.state_dict().items()
            if v.dtype.is_floating_point and not k.endswith("num_batches_tracked")}


def nhwc(t):
    return t.detach().permute(0, 2, 3, 1).numpy() if t.dim() == 4 else t.detach().numpy()


def rand_input(gen, shape, half=False):
    x = torch.randn(shape, generator=gen, dtype=torch.float64)
    return (x.half() if half else x.float()).double()


def run_both(module, fn):
    """fn(module, dtype) in float64 (the reference) and float32 (to report PyTorch's own float32
    error next to ours); returns (reference, max |float32 - float64| over all outputs)."""
    m64 = copy.deepcopy(module).double().eval()
    m32 = copy.deepcopy(module).float().eval()
    with torch.no_grad():
        ref, f32 = fn(m64, torch.float64), fn(m32, torch.float32)
    flat = lambda o: list(o.values()) if isinstance(o, dict) else [o]
    err = max(float((a.double() - b.double()).abs().max()) for a, b in zip(flat(ref), flat(f32)))
    return ref, err


def small_resnet(block, layers, base, norm_layer):
    """torchvision's ResNet with widths base·2^s (ours: max(8, round(64 · widthMultiplier)))."""
    m = ResNet(block, layers, norm_layer=norm_layer)
    m.inplanes = base
    m.conv1 = nn.Conv2d(3, base, kernel_size=7, stride=2, padding=3, bias=False)
    m.bn1 = norm_layer(base)
    m.layer1 = m._make_layer(block, base, layers[0])
    m.layer2 = m._make_layer(block, base * 2, layers[1], stride=2)
    m.layer3 = m._make_layer(block, base * 4, layers[2], stride=2)
    m.layer4 = m._make_layer(block, base * 8, layers[3], stride=2)
    m.fc = nn.Identity()
    return m


def block_fixture(cls, name, in_c, width, stride, norm, seed, hw=(9, 11)):
    gen = torch.Generator().manual_seed(seed)
    norm_layer = FrozenBatchNorm2d if norm == "frozen-bn" else gn
    out_c = width * cls.expansion
    down = None
    if stride != 1 or in_c != out_c:
        down = nn.Sequential(nn.Conv2d(in_c, out_c, 1, stride, bias=False), norm_layer(out_c))
    m = cls(in_c, width, stride, down, norm_layer=norm_layer)
    randomize(m, gen)
    x = rand_input(gen, (1, in_c) + hw)
    ref, err = run_both(m, lambda mm, dt: mm(x.to(dt)))
    tensors = state(m, name + ".")
    tensors.update(input=nhwc(x), output=nhwc(ref))
    meta = {"kind": "block", "block": cls.__name__, "name": name, "inC": in_c, "width": width, "stride": stride, "norm": norm}
    return tensors, meta, err


def stem_fixture(seed):
    gen = torch.Generator().manual_seed(seed)
    r = small_resnet(BasicBlock, [2, 2, 2, 2], 8, FrozenBatchNorm2d)
    stem = nn.Sequential(OrderedDict(conv1=r.conv1, bn1=r.bn1, relu=r.relu, maxpool=r.maxpool))
    randomize(stem, gen)
    x = rand_input(gen, (1, 3, 21, 27))
    ref, err = run_both(stem, lambda mm, dt: mm(x.to(dt)))
    tensors = state(stem, "backbone.body.")
    tensors.update(input=nhwc(x), output=nhwc(ref))
    return tensors, {"kind": "stem", "depth": 18, "widthMultiplier": 0.125, "norm": "frozen-bn"}, err


def fpn_fixture(in_channels, channels, p6_from_p5, seed, sizes=((9, 11), (5, 6), (3, 3))):
    gen = torch.Generator().manual_seed(seed)
    # torchvision chooses P5 over C5 when LastLevelP6P7's in_channels == out_channels.
    extra = LastLevelP6P7(channels if p6_from_p5 else in_channels[-1], channels)
    assert extra.use_P5 == p6_from_p5
    m = FeaturePyramidNetwork(in_channels, channels, extra_blocks=extra)
    randomize(m, gen)
    xs = OrderedDict((f"c{i + 3}", rand_input(gen, (1, c) + hw)) for i, (c, hw) in enumerate(zip(in_channels, sizes)))
    ref, err = run_both(m, lambda mm, dt: mm(OrderedDict((k, v.to(dt)) for k, v in xs.items())))
    tensors = state(m, "backbone.fpn.")
    tensors.update({f"input.{k}": nhwc(v) for k, v in xs.items()})
    # Outputs keep the inputs' keys (c3…c5 → P3…P5), then p6, p7.
    names = {"c3": "p3", "c4": "p4", "c5": "p5", "p6": "p6", "p7": "p7"}
    assert list(ref) == list(names)
    tensors.update({f"output.{names[k]}": nhwc(v) for k, v in ref.items()})
    return tensors, {"kind": "fpn", "inChannels": in_channels, "channels": channels, "p6FromP5": p6_from_p5}, err


def head_fixture(channels, num_classes, seed, sizes=((5, 7), (3, 4)), batch=2):
    gen = torch.Generator().manual_seed(seed)
    m = RetinaNetHead(channels, 9, num_classes)
    randomize(m, gen)
    xs = [rand_input(gen, (batch, channels) + hw) for hw in sizes]
    ref, err = run_both(m, lambda mm, dt: mm([x.to(dt) for x in xs]))
    tensors = state(m, "head.")
    tensors.update({f"input.{i}": nhwc(x) for i, x in enumerate(xs)})
    tensors.update({f"output.{k}": nhwc(v) for k, v in ref.items()})
    meta = {"kind": "head", "channels": channels, "depth": 4, "numClasses": num_classes, "anchors": 9, "levels": len(sizes)}
    return tensors, meta, err


def group_norm_fixture(seed, channels=(64, 48, 8)):
    gen = torch.Generator().manual_seed(seed)
    m = nn.ModuleDict({f"gn_c{c}": gn(c) for c in channels})
    randomize(m, gen)
    # Offset, scaled input: the normalization has something to remove.
    xs = {c: rand_input(gen, (1, c, 3, 5)) * 3 + 1.5 for c in channels}
    ref, err = run_both(m, lambda mm, dt: {c: mm[f"gn_c{c}"](xs[c].to(dt)) for c in channels})
    tensors = state(m, "")
    tensors.update({f"input.c{c}": nhwc(x) for c, x in xs.items()})
    tensors.update({f"output.c{c}": nhwc(v) for c, v in ref.items()})
    layers = [{"name": f"gn_c{c}", "channels": c, "groups": m[f"gn_c{c}"].num_groups} for c in channels]
    return tensors, {"kind": "norm", "norm": "gn", "layers": layers}, err


def retinanet_fixture(seed):
    """A whole tiny RetinaNet: ResNet-18 at width 8 (our widthMultiplier 0.125), FPN and heads
    of 8 channels, 3 classes, P6 from C5, frozen BN; torchvision's RetinaNet class for the names."""
    gen = torch.Generator().manual_seed(seed)
    body = small_resnet(BasicBlock, [2, 2, 2, 2], 8, FrozenBatchNorm2d)
    backbone = BackboneWithFPN(body, {"layer2": "0", "layer3": "1", "layer4": "2"}, [16, 32, 64], 8,
                               extra_blocks=LastLevelP6P7(64, 8))
    m = RetinaNet(backbone, num_classes=3)
    # Gain 1: the outputs stay O(10) through 20 convolutions and the residual sums.
    randomize(m, gen, half=True, gain=1.0)
    x = rand_input(gen, (1, 3, 67, 93), half=True)
    ref, err = run_both(m, lambda mm, dt: mm.head(list(mm.backbone(x.to(dt)).values())))
    tensors = state(m, "")
    half = set(tensors) | {"input"}
    tensors.update(input=nhwc(x))
    tensors.update({f"output.{k}": nhwc(v) for k, v in ref.items()})
    config = {"numClasses": 3, "depth": 18, "widthMultiplier": 0.125, "channels": 8, "headDepth": 4,
              "norm": "frozen-bn", "p6FromP5": False}
    return tensors, {"kind": "retinanet", "config": config}, err, half


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "test", "fixtures")
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(1)
    fixtures = [
        ("basic_block_frozen_bn", lambda: block_fixture(BasicBlock, "backbone.body.layer2.0", 8, 16, 2, "frozen-bn", 1)),
        ("bottleneck_frozen_bn", lambda: block_fixture(Bottleneck, "backbone.body.layer2.0", 32, 16, 2, "frozen-bn", 2)),
        ("stem_frozen_bn", lambda: stem_fixture(3)),
        ("fpn_p6_from_c5", lambda: fpn_fixture([8, 16, 32], 16, False, 4)),
        ("fpn_p6_from_p5", lambda: fpn_fixture([8, 16, 32], 8, True, 5)),
        ("head", lambda: head_fixture(8, 3, 6)),
        ("group_norm", lambda: group_norm_fixture(7)),
        ("bottleneck_gn", lambda: block_fixture(Bottleneck, "backbone.body.layer1.1", 64, 16, 1, "gn", 8, hw=(7, 9))),
        ("basic_block_gn", lambda: block_fixture(BasicBlock, "backbone.body.layer2.0", 8, 16, 2, "gn", 9)),
        ("retinanet_r18_tiny", lambda: retinanet_fixture(10)),
    ]
    total = 0
    for name, make in fixtures:
        result = make()
        tensors, meta, err = result[:3]
        half = result[3] if len(result) > 3 else ()
        meta = {"fixture": json.dumps(meta, sort_keys=True), "layout": "NHWC (input, output); conv weights OIHW",
                "producer": "tools/make_fixtures.py", "torch": torch.__version__, "torchvision": torchvision.__version__}
        size = write_safetensors(os.path.join(out, f"{name}.safetensors"), tensors, meta, half)
        total += size
        scale = max(float(np.abs(v).max()) for k, v in tensors.items() if k.startswith("output"))
        print(f"{name}.safetensors: {size} bytes, {len(tensors)} tensors, output scale {scale:.3g}, "
              f"PyTorch float32 vs float64 max |diff| {err:.3g}")
    print(f"total {total} bytes")
    if total >= 1 << 20:
        sys.exit("fixtures exceed 1 MB")


if __name__ == "__main__":
    main()
