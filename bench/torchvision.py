"""Times torchvision's CPU nms, batched_nms and RetinaNet.postprocess_detections on the inputs
bench/run.js wrote (same files, same sizes), and writes their timings and results as JSON.

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
from torchvision.ops import batched_nms, nms

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
    if kind in ("nms", "batched_nms"):
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
