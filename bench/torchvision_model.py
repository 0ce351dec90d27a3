"""Times torchvision's retinanet_resnet50_fpn on the CPU (random weights, min_size=600) for
bench/model.js: inference per image (detections included) and a training step (2 images).
With a mode (inference or train), for bench/memory.js: that part alone, and the process's peak
RSS (getrusage) and its RSS before the model was built. With `serve`, for bench/model.js's
interleaved training steps (bench/torchvision-pair.js): after a warm-up step it prints a "ready"
line, then times one step for each "step" line read from stdin, one JSON line each, until EOF.

    python3 bench/torchvision_model.py <size> <threads> [inference|train|serve]   -> JSON on stdout
"""
import json
import os
import resource
import statistics
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import torch
import torchvision
from torchvision.models.detection import retinanet_resnet50_fpn

size, threads = int(sys.argv[1]), int(sys.argv[2])
mode = sys.argv[3] if len(sys.argv) > 3 else "both"


def rss_mib():  # the current RSS, from /proc (Linux)
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


rss_before = rss_mib()
torch.set_num_threads(threads)
torch.manual_seed(0)


def timed(fn, runs):
    fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1e3)
    return statistics.median(samples)


model = retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=91, min_size=size, max_size=max(size, 1000))
# The image as ours sees it: size x size through the network, not padded up to a multiple of 32
# (608 x 608 at 600: 2.7 % more pixels for torch than for ours).
model.transform.size_divisible = 1
image = torch.rand(3, size, size)
infer = None
# Not in serve mode: its training steps are all it is asked for, and inference run first left them
# slower (6.9-7.3 s against 5.8-7.0 in one comparison of 6 steps each).
if mode not in ("train", "serve"):
    model.eval()
    with torch.no_grad():
        infer = timed(lambda: model([image]), 5)  # as bench/model.js times ours
model.train()
opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)
s = float(size)
targets = [{"boxes": torch.tensor([[0.1 * s, 0.1 * s, 0.4 * s, 0.5 * s], [0.5 * s, 0.3 * s, 0.9 * s, 0.8 * s]]),
            "labels": torch.tensor([1, 2])} for _ in range(2)]


def step():
    opt.zero_grad()
    losses = model([image, image], targets)
    sum(losses.values()).backward()
    opt.step()


if mode == "serve":
    step()
    print(json.dumps({"ready": True, "torch": torch.__version__, "torchvision": torchvision.__version__}), flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            continue
        t = time.perf_counter()
        step()
        print(json.dumps({"stepMs": (time.perf_counter() - t) * 1e3}), flush=True)
    sys.exit(0)

train = timed(step, 3) if mode != "inference" else None  # as bench/model.js times ours
print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": threads,
                  "inferenceMs": infer, "trainStepMs": train, "rssBeforeMiB": rss_before,
                  "maxRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
