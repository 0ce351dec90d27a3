"""Exports torchvision's retinanet_resnet50_fpn to ONNX for bench/model.js's ONNX Runtime column:
the very model bench/torchvision_model.py times (same seed, random weights, num_classes=91,
min_size=<size>) with its transform and post-processing (detections) in the graph, traced on the
very input torchvision_model.py times it on, which is also written next to the model as raw
float32 (3 × size × size, CHW, in [0, 1]) so that ONNX Runtime runs on the same image.

    python3 bench/onnx_export.py <output.onnx> <size>
      -> <output.onnx> and <output.onnx>.input.f32; JSON on stdout

Needs torch and torchvision only (torch.onnx.export serializes without the `onnx` package).
"""
import json
import os
import sys
import warnings

_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import torch
import torchvision
from torchvision.models.detection import retinanet_resnet50_fpn

out, size = sys.argv[1], int(sys.argv[2])
torch.manual_seed(0)
# As in bench/torchvision_model.py: model first, then the image, from the same seed.
model = retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91, min_size=size, max_size=max(size, 1000))
# The image as ours sees it: size x size through the network, not padded up to a multiple of 32
# (608 x 608 at 600: 2.7 % more pixels for torch than for ours).
model.transform.size_divisible = 1
image = torch.rand(3, size, size)
model.eval()

tmp = f"{out}.{os.getpid()}.tmp"
with warnings.catch_warnings():
    warnings.simplefilter("ignore")  # the tracer's warnings about Python values in the graph
    torch.onnx.export(model, ([image],), tmp, opset_version=11, do_constant_folding=True,
                      input_names=["image"], output_names=["boxes", "scores", "labels"])
image.numpy().astype("<f4").tofile(f"{out}.input.f32")
os.replace(tmp, out)
print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "opset": 11,
                  "bytes": os.path.getsize(out)}))
