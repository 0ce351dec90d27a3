"""Times torchvision's CPU ops on the inputs bench/run.js wrote (same files, same sizes) and writes
their timings and results as JSON: sigmoid_focal_loss forward+backward, box_iou + Matcher, the
target construction of its RetinaNet loss, nms, batched_nms and
RetinaNet.postprocess_detections.

    python3 bench/torchvision.py <dir> <threads>     (run by `npm run bench:torchvision`)
"""
import json
import os
import statistics
import sys
import time
from types import SimpleNamespace

# This file is named torchvision.py: keep its own folder off the path so `import torchvision`
# finds the library, not this script.
_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import numpy as np
import torch
import torchvision
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.retinanet import RetinaNet
from torchvision.ops import batched_nms, box_iou, nms, sigmoid_focal_loss

d, threads = sys.argv[1], int(sys.argv[2])
torch.set_num_threads(threads)
meta = json.load(open(os.path.join(d, "cases.json")))


def load(name, dtype=np.float32, shape=(-1,)):
    return torch.from_numpy(np.fromfile(os.path.join(d, name), dtype=dtype).reshape(shape))


def timed(fn, min_time=2.0, min_runs=10):
    fn()
    samples = []
    start = time.perf_counter()
    while len(samples) < min_runs or time.perf_counter() - start < min_time:
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
        if len(samples) >= 2000:
            break
    return statistics.median(samples), len(samples)


out = {"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": threads, "cases": {}}
for case in meta:
    name, kind = case["name"], case["kind"]
    if kind == "focal_loss":
        k = case["k"]
        logits = load(case["logits"], shape=(-1, k))
        labels = load(case["labels"], np.int32).long()
        # As torchvision's RetinaNetClassificationHead.compute_loss: one-hot targets, ignored
        # anchors dropped, summed, divided by the foreground count; then the backward pass.
        valid = labels != -2
        target = torch.zeros_like(logits)
        fg_idx = torch.where(labels >= 0)[0]
        target[fg_idx, labels[fg_idx]] = 1.0
        num_fg = max(1, int(fg_idx.numel()))

        def fn():
            x = logits.clone().requires_grad_(True)
            loss = sigmoid_focal_loss(x[valid], target[valid], alpha=0.25, gamma=2, reduction="sum") / num_fg
            loss.backward()
            return loss

        ms, runs = timed(fn)
        out["cases"][name] = {"ms": ms, "runs": runs, "loss": float(fn())}
    elif kind == "conv":
        xs, ws, stride = case["xShape"], case["wShape"], case["stride"]
        # NHWC / HWIO files to torch's NCHW / OIHW, kept channels-last in memory (oneDNN's fast path).
        x = load(case["x"], shape=tuple(xs)).permute(0, 3, 1, 2).contiguous(memory_format=torch.channels_last)
        w = load(case["w"], shape=tuple(ws)).permute(3, 2, 0, 1).contiguous(memory_format=torch.channels_last)
        pad = (ws[0] // 2) if case["pad"] == "same" else 0
        if case["pad"] == "same" and stride == 2:
            pad = (ws[0] - 1) // 2
        fwd = lambda: torch.nn.functional.conv2d(x, w, stride=stride, padding=pad)
        fwd_ms, runs = timed(fwd)
        xg = x.clone().requires_grad_(True)
        wg = w.clone().requires_grad_(True)

        def bwd():
            y = torch.nn.functional.conv2d(xg, wg, stride=stride, padding=pad)
            return torch.autograd.grad(y, (xg, wg), torch.ones_like(y))

        bwd_total, _ = timed(bwd)
        out["cases"][name] = {"fwdMs": fwd_ms, "bwdMs": max(bwd_total - fwd_ms, 1e-3), "runs": runs}
    elif kind in ("match", "targets"):
        anchors = load(case["anchors"], shape=(-1, 4))
        gt = load(case["gt"], shape=(-1, 4))
        matcher = det_utils.Matcher(0.5, 0.4, allow_low_quality_matches=True)
        coder = det_utils.BoxCoder((1.0, 1.0, 1.0, 1.0))
        if kind == "match":
            fn = lambda: matcher(box_iou(gt, anchors))
        else:
            gt_labels = load(case["labels"], np.int32).long()

            def fn():  # RetinaNet's targets: matches, class targets, box targets of foreground anchors
                matched = matcher(box_iou(gt, anchors))
                fg = matched >= 0
                classes = gt_labels[matched.clamp(min=0)]
                classes[~fg] = -1
                boxes = coder.encode_single(gt[matched[fg]], anchors[fg])
                return matched, classes, boxes

        ms, runs = timed(fn)
        result = {"ms": ms, "runs": runs}
        if kind == "match":
            result["matches"] = fn().tolist()
        out["cases"][name] = result
    elif kind in ("nms", "batched_nms"):
        boxes = load(case["boxes"], shape=(-1, 4))
        scores = load(case["scores"])
        if kind == "nms":
            fn = lambda: nms(boxes, scores, case["iou"])
        else:
            groups = load(case["groups"], np.int32).long()
            fn = lambda: batched_nms(boxes, scores, groups, case["iou"])
        ms, runs = timed(fn)
        keep = fn()[: case.get("max", None)]
        out["cases"][name] = {"ms": ms, "runs": runs, "keep": keep.tolist()}
    elif kind == "postprocess":
        k, h, w = case["k"], case["height"], case["width"]
        cls, box, anchors = [], [], []
        for i, lv in enumerate(case["levels"]):
            cls.append(load(lv["logits"], shape=(1, -1, k)))
            box.append(load(lv["deltas"], shape=(1, -1, 4)))
            anchors.append(load(lv["anchors"], shape=(-1, 4)))
        head = {"cls_logits": cls, "bbox_regression": box}
        model = SimpleNamespace(score_thresh=0.05, topk_candidates=1000, nms_thresh=0.5,
                                detections_per_img=100, box_coder=det_utils.BoxCoder((1.0, 1.0, 1.0, 1.0)))
        fn = lambda: RetinaNet.postprocess_detections(model, head, [anchors], [(h, w)])
        ms, runs = timed(fn)
        det = fn()[0]
        out["cases"][name] = {"ms": ms, "runs": runs, "boxes": det["boxes"].flatten().tolist(),
                              "scores": det["scores"].tolist(), "classes": det["labels"].tolist()}
json.dump(out, open(os.path.join(d, "torchvision.json"), "w"))
