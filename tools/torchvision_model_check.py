"""Writes a randomly initialised torchvision retinanet_resnet50_fpn (non-trivial frozen-BN
statistics) as safetensors through tools/convert-torchvision.py, and its head outputs on a fixed
input, for tools/torchvision-check.js to compare with this package's model.

    python3 tools/torchvision_model_check.py <dir>
"""
import os
import sys

import numpy as np
import torch
from torchvision.models.detection import retinanet_resnet50_fpn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
convert = __import__("convert-torchvision")

d = sys.argv[1]
sd = convert.state_dict("--random")
torch.manual_seed(0)
model = retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91)
model.load_state_dict(sd)
model.eval()
convert.write_safetensors({k: v for k, v in sd.items() if not k.endswith("num_batches_tracked") and v.dtype.is_floating_point},
                          os.path.join(d, "model.safetensors"))
x = torch.randn(1, 3, 128, 160, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    out = model.head(list(model.backbone(x).values()))
x.permute(0, 2, 3, 1).contiguous().numpy().astype("<f4").tofile(os.path.join(d, "x.bin"))
out["cls_logits"].numpy().astype("<f4").tofile(os.path.join(d, "cls.bin"))
out["bbox_regression"].numpy().astype("<f4").tofile(os.path.join(d, "box.bin"))
