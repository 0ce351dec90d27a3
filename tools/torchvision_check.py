"""Compares tfjs-retinanet's ops with torchvision's on the inputs tools/torchvision-check.js wrote."""
import json
import os
import sys

import numpy as np
import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import box_iou, sigmoid_focal_loss

d = sys.argv[1]
meta = json.load(open(os.path.join(d, "meta.json")))
H, W, K = meta["H"], meta["W"], meta["K"]
f32 = lambda name, cols: np.fromfile(os.path.join(d, name), dtype=np.float32).reshape(-1, cols)
i32 = lambda name: np.fromfile(os.path.join(d, name), dtype=np.int32)
failures = 0


def report(name, ok, detail):
    global failures
    failures += 0 if ok else 1
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")


sizes = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [32, 64, 128, 256, 512])
gen = AnchorGenerator(sizes, ((0.5, 1.0, 2.0),) * 5)
feats = [torch.zeros(1, 1, -(-H // 2 ** l), -(-W // 2 ** l)) for l in range(3, 8)]
tv_anchors = gen(ImageList(torch.zeros(1, 3, H, W), [(H, W)]), feats)[0].numpy()
anchors = f32("anchors.bin", 4)
report("AnchorGenerator", tv_anchors.shape == anchors.shape and np.array_equal(tv_anchors, anchors),
       f"{anchors.shape[0]} anchors, max |diff| {np.abs(tv_anchors - anchors).max()}")

gt = torch.from_numpy(f32("gt.bin", 4))
A = torch.from_numpy(anchors)
tv_matches = det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=True)(box_iou(gt, A)).numpy()
matches = i32("matches.bin")
report("Matcher", np.array_equal(tv_matches, matches), f"{(tv_matches != matches).sum()} anchors differ")

fg = matches >= 0
tv_targets = det_utils.BoxCoder((1.0, 1.0, 1.0, 1.0)).encode_single(gt[matches[fg]], A[fg]).numpy()
diff = np.abs(tv_targets - f32("targets.bin", 4)[fg]).max()
report("BoxCoder.encode", diff < 1e-5, f"{fg.sum()} foreground anchors, max |diff| {diff:.3g}")

deltas = torch.from_numpy(f32("deltas.bin", 4))
tv_dec = det_utils.BoxCoder((1.0, 1.0, 1.0, 1.0)).decode_single(deltas, A)
from torchvision.ops import clip_boxes_to_image
tv_dec = clip_boxes_to_image(tv_dec, (H, W)).numpy()
diff = np.abs(tv_dec - f32("decoded.bin", 4)).max()
report("BoxCoder.decode + clip", diff < 1e-3, f"max |diff| {diff:.3g} px")

logits = torch.from_numpy(f32("logits.bin", K)).double()
labels = i32("labels.bin")
keep = labels != -2
target = torch.zeros_like(logits)
idx = np.where(labels >= 0)[0]
target[idx, labels[idx]] = 1
x = logits[keep].clone().requires_grad_(True)
loss = sigmoid_focal_loss(x, target[keep], alpha=0.25, gamma=2, reduction="sum")
loss.backward()
grad = np.zeros(logits.shape)
grad[keep] = x.grad.numpy()
rel = abs(loss.item() - meta["loss"]) / loss.item()
gdiff = np.abs(grad - f32("grad.bin", K)).max()
report("sigmoid_focal_loss (float64 autograd)", rel < 1e-5 and gdiff < 1e-5,
       f"loss relative diff {rel:.3g}, gradient max |diff| {gdiff:.3g}")
sys.exit(1 if failures else 0)
