"""Times every convolution inside torchvision's retinanet_resnet50_fpn on the CPU, for
bench/profile.js's table of each convolution shape against ours: an inference of one image and a
training step of <batch> images, as bench/torchvision_model.py runs them (random weights, the
image not padded to a multiple of 32) but with 80 classes, so that the class subnet's last
convolution has ours' 720 outputs. Forward passes are timed by hooks around each nn.Conv2d (CPU
ops are synchronous); backward passes by torch.profiler's aten::convolution_backward events
(input and weight gradients together, or the weight's alone where the input needs none).
Each pass: the median over 3 runs of its total per shape.

    python3 bench/torchvision_conv_profile.py <size> <threads> <batch>   -> JSON on stdout
"""
import json
import os
import statistics
import sys
import time

_here = os.path.dirname(os.path.abspath(__file__))
sys.path = [p for p in sys.path if os.path.abspath(p or ".") != _here]

import torch
import torchvision
from torchvision.models.detection import retinanet_resnet50_fpn

size, threads, batch = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(0)
model = retinanet_resnet50_fpn(weights=None, weights_backbone=None, num_classes=80, min_size=size, max_size=max(size, 1000))
model.transform.size_divisible = 1
image = torch.rand(3, size, size)
s = float(size)
targets = [{"boxes": torch.tensor([[0.1 * s, 0.1 * s, 0.4 * s, 0.5 * s], [0.5 * s, 0.3 * s, 0.9 * s, 0.8 * s]]),
            "labels": torch.tensor([1, 2])} for _ in range(batch)]
opt = torch.optim.SGD(model.parameters(), lr=1e-4, momentum=0.9, weight_decay=1e-4)

# key -> list of milliseconds, one entry per call, for the run being recorded.
current = {}


def key(x_shape, w_shape, stride):
    # NCHW input, [out, in, kh, kw] weight.
    return json.dumps({"x": list(x_shape), "w": list(w_shape), "stride": stride})


def hooks():
    def pre(mod, inp):
        mod._t0 = time.perf_counter()

    def post(mod, inp, out):
        ms = (time.perf_counter() - mod._t0) * 1e3
        current.setdefault(key(inp[0].shape, mod.weight.shape, mod.stride[0]), []).append(ms)

    for m in model.modules():
        if isinstance(m, torch.nn.Conv2d):
            m.register_forward_pre_hook(pre)
            m.register_forward_hook(post)


def median_totals(runs):
    keys = set().union(*[r.keys() for r in runs])
    out = []
    for k in sorted(keys):
        totals = [sum(r.get(k, [])) for r in runs]
        calls = max(len(r.get(k, [])) for r in runs)
        out.append({**json.loads(k), "calls": calls, "ms": statistics.median(totals)})
    return out


def record(fn, runs=3):
    global current
    fn()  # warm-up
    got = []
    for _ in range(runs):
        current = {}
        fn()
        got.append(current)
    current = {}
    return median_totals(got)


hooks()
model.eval()
with torch.no_grad():
    inference = record(lambda: model([image]))

model.train()


def step():
    opt.zero_grad()
    losses = model([image] * batch, targets)
    sum(losses.values()).backward()
    opt.step()


train_forward = record(step)

backward_runs = []
step()
for _ in range(3):
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU], record_shapes=True) as prof:
        step()
    run = {}
    for e in prof.events():
        if e.name != "aten::convolution_backward":
            continue
        grad_out, x, w = e.input_shapes[0], e.input_shapes[1], e.input_shapes[2]
        stride = max(1, round(x[2] / grad_out[2]))
        run.setdefault(key(x, w, stride), []).append(e.cpu_time_total / 1e3)
    backward_runs.append(run)
train_backward = median_totals(backward_runs)

print(json.dumps({"torch": torch.__version__, "torchvision": torchvision.__version__, "threads": threads,
                  "inference": inference, "trainForward": train_forward, "trainBackward": train_backward}))
