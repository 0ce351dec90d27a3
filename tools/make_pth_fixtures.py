#!/usr/bin/python3
# Small torch.save files for test/pth.test.js: the zip format and the legacy one, float32 /
# float16 / bfloat16 / float64 / int64 tensors, a non-contiguous view and a shared storage,
# wrappers ({'model': ...}, {'state_dict': ...}, 'module.' prefixes), and a pickle that runs code.
# expected.json holds the expected values (float64 lists). Seeded: the same values each run (the
# legacy format's storage keys, and so its bytes, vary).
import collections, json, os, pickle, sys
import torch

out = sys.argv[1] if len(sys.argv) > 1 else 'test/fixtures/pth'
os.makedirs(out, exist_ok=True)
g = torch.Generator().manual_seed(0)

def base():
    w = torch.randn(4, 3, 3, 3, generator=g)
    big = torch.randn(6, 5, generator=g)
    sd = collections.OrderedDict()
    sd['conv.weight'] = w
    sd['conv.bias'] = torch.randn(4, generator=g)
    sd['half'] = torch.randn(7, generator=g).half()
    sd['bf16'] = torch.randn(3, 2, generator=g).bfloat16()
    sd['double'] = torch.randn(2, 2, generator=g).double()
    sd['transposed'] = big.t()              # non-contiguous: stride (1, 5)
    sd['column'] = big[:, 2]                # offset 2, stride 5, shares big's storage
    sd['bn.num_batches_tracked'] = torch.tensor(17)
    sd['scalar'] = torch.tensor(2.5)
    return sd

def expected(sd):
    return {k: {'shape': list(v.shape), 'values': v.float().flatten().tolist()} for k, v in sd.items() if v.is_floating_point()}

sd = base()
cases = {
    'zip': (sd, {}),
    'legacy': (sd, {'_use_new_zipfile_serialization': False}),
    'wrapped-model': ({'model': sd, 'epoch': 3, 'optimizer': {'lr': 0.1}}, {}),
    'wrapped-state-dict-module': ({'state_dict': collections.OrderedDict(('module.' + k, v) for k, v in sd.items())}, {}),
    'parameters': (collections.OrderedDict((k, torch.nn.Parameter(v, requires_grad=False) if v.is_floating_point() else v) for k, v in sd.items()), {}),
}
for name, (obj, kw) in cases.items():
    torch.save(obj, os.path.join(out, name + '.pth'), **kw)
with open(os.path.join(out, 'expected.json'), 'w') as f:
    json.dump(expected(sd), f)

# A pickle that would run code on load (os.system): must be refused, not executed.
class Evil:
    def __reduce__(self):
        return (os.system, ('echo pwned',))
torch.save({'w': torch.zeros(1), 'x': Evil()}, os.path.join(out, 'evil.pth'))
print('wrote', sorted(os.listdir(out)))

# The tiny RetinaNet fixture (test/fixtures/retinanet_r18_tiny.safetensors, float16, torchvision's
# names) as a torch.save state dict: loadWeights must read both to the same model.
def read_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    n = int.from_bytes(raw[:8], 'little')
    header = json.loads(raw[8:8 + n])
    data = raw[8 + n:]
    dtypes = {'F16': torch.float16, 'F32': torch.float32, 'BF16': torch.bfloat16}
    out = collections.OrderedDict()
    for name, h in header.items():
        if name == '__metadata__':
            continue
        b, e = h['data_offsets']
        out[name] = torch.frombuffer(bytearray(data[b:e]), dtype=dtypes[h['dtype']]).reshape(h['shape']).clone()
    return out

tiny = read_safetensors(os.path.join(os.path.dirname(out.rstrip('/')), 'retinanet_r18_tiny.safetensors'))
torch.save(collections.OrderedDict((k, v) for k, v in tiny.items() if not k.startswith(('input', 'output'))), os.path.join(out, 'retinanet_r18_tiny.pth'))
print('tiny retinanet:', len(tiny), 'tensors')
