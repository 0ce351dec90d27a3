"""Converts a torchvision RetinaNet checkpoint into a safetensors file tfjs-retinanet loads.

    python3 tools/convert-torchvision.py model.pth out.safetensors      (a state_dict or a model)
    python3 tools/convert-torchvision.py --random out.safetensors       (random weights, for checks)

Names and layouts stay torchvision's (convolutions OIHW); loadWeights() maps them. The model on
the tfjs side must be built to match: createRetinaNet({ preset: 'retinanet-r50-fpn',
numClasses: 91, p6FromP5: true }) for torchvision's retinanet_resnet50_fpn (its v1 model takes P6
from P5). Needs only PyTorch (no safetensors package): the file is written by hand.
"""
import json
import struct
import sys

import numpy as np
import torch


def write_safetensors(tensors, path):
    header, offset, blobs = {"__metadata__": {"format": "pt", "producer": "convert-torchvision.py"}}, 0, []
    for name in sorted(tensors):
        a = np.ascontiguousarray(tensors[name].detach().cpu().float().numpy()).astype("<f4")
        header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + a.nbytes]}
        offset += a.nbytes
        blobs.append(a.tobytes())
    text = json.dumps(header)
    text += " " * ((8 - (len(text) + 8) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for b in blobs:
            f.write(b)


def state_dict(source):
    if source == "--random":
        from torchvision.models.detection import retinanet_resnet50_fpn

        torch.manual_seed(0)
        model = retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91)
        # Non-trivial frozen-BN statistics, so the check exercises them.
        for name, buf in model.named_buffers():
            if name.endswith("running_mean"):
                buf.uniform_(-0.1, 0.1)
            elif name.endswith("running_var"):
                buf.uniform_(0.5, 1.5)
            elif name.endswith("weight") and buf.dim() == 1:
                buf.uniform_(0.5, 1.5)
        return model.state_dict()
    obj = torch.load(source, map_location="cpu")
    return obj.state_dict() if hasattr(obj, "state_dict") else obj


def main():
    if len(sys.argv) != 3:
        print(__doc__)
        sys.exit(2)
    sd = state_dict(sys.argv[1])
    # Frozen BN in torchvision keeps weight/bias/running_mean/running_var as buffers; the batch
    # counter has no counterpart here.
    tensors = {k: v for k, v in sd.items() if not k.endswith("num_batches_tracked") and v.dtype.is_floating_point}
    write_safetensors(tensors, sys.argv[2])
    print(f"wrote {len(tensors)} tensors to {sys.argv[2]}")


if __name__ == "__main__":
    main()
