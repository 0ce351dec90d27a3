#!/usr/bin/python3
# End-to-end fixtures for test/detect-e2e.test.js: tiny torchvision RetinaNets (ResNet-18 at
# width 8; v1-style heads with P6 from P5, and v2-style GroupNorm heads with P6 from C5) with
# random frozen-BN statistics and a spread class bias, their state dicts saved by torch.save
# (v1 in the zip format, v2 in the legacy one; float16 values, so nothing is lost), an 83x117
# PNG, and torchvision's model.eval()([image]) detections on it (float64) as JSON.
# Run: /usr/bin/python3 tools/make_detect_fixture.py, then again with --train-step (torch 1.13 /
# torchvision 0.14: Debian's python3-torchvision).
import collections, functools, json, os, sys, zlib, struct
import torch
from torch import nn
from torchvision.models.detection.backbone_utils import BackboneWithFPN
from torchvision.models.detection._utils import overwrite_eps
from torchvision.models.detection.retinanet import RetinaNet, RetinaNetHead
from torchvision.models.resnet import BasicBlock
from torchvision.ops.feature_pyramid_network import LastLevelP6P7
from torchvision.ops.misc import FrozenBatchNorm2d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_fixtures import randomize, small_resnet  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, 'test', 'fixtures', 'detect')


def png(path, rgb):
    h, w, _ = rgb.shape
    raw = b''.join(b'\x00' + bytes(rgb[y].flatten().tolist()) for y in range(h))
    chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d) & 0xffffffff)
    with open(path, 'wb') as f:
        f.write(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
                + chunk(b'IDAT', zlib.compress(raw, 9)) + chunk(b'IEND', b''))


def model(version, gen):
    body = small_resnet(BasicBlock, [2, 2, 2, 2], 8, FrozenBatchNorm2d)
    # v1: P6 from P5 (LastLevelP6P7(8, 8)); v2: P6 from C5 (LastLevelP6P7(64, 8)).
    extra = LastLevelP6P7(8, 8) if version == 'v1' else LastLevelP6P7(64, 8)
    backbone = BackboneWithFPN(body, {'layer2': '0', 'layer3': '1', 'layer4': '2'}, [16, 32, 64], 8, extra_blocks=extra)
    head = None
    if version == 'v2':
        head = RetinaNetHead(8, 9, 3, norm_layer=functools.partial(nn.GroupNorm, 8))
    m = RetinaNet(backbone, num_classes=3, head=head, min_size=96, max_size=160)
    randomize(m, gen, half=True, gain=1.0)
    if version == 'v1':
        overwrite_eps(m, 0.0)  # as torchvision does when it loads its COCO v1 weights
        with torch.no_grad():
            # Running variances small enough (~1e-5) for eps 0 vs 1e-5 to change the detections.
            # Their scales shrink with them, so the activations keep their size.
            bn = m.backbone.body.layer1[0].bn1
            bn.running_var.copy_((torch.rand(bn.running_var.shape, generator=gen) * 2e-5 + 1e-6).half().float())
            bn.weight.copy_((bn.weight * bn.running_var.sqrt()).half().float())
    with torch.no_grad():
        # A spread class bias: many anchors of every class pass 0.05, few tie.
        b = m.head.classification_head.cls_logits.bias
        b.copy_((torch.rand(b.shape, generator=gen) * 4 - 3).half().float())
    return m.eval()


def main():
    os.makedirs(OUT, exist_ok=True)
    gen = torch.Generator().manual_seed(21)
    h, w = 83, 117
    yy, xx = torch.meshgrid(torch.arange(h), torch.arange(w), indexing='ij')
    noise = torch.randint(0, 40, (h, w, 3), generator=gen)
    rgb = torch.stack([(xx * 2 + yy) % 256, (yy * 3) % 256, ((xx - yy) * 5) % 256], -1)
    rgb = ((rgb + noise) % 256).to(torch.uint8)
    rgb[20:50, 30:70] = torch.tensor([230, 40, 40], dtype=torch.uint8)
    png(os.path.join(OUT, 'image.png'), rgb.numpy())
    image = rgb.permute(2, 0, 1).double() / 255
    expected = {}
    for version, legacy in (('v1', False), ('v2', True)):
        m = model(version, gen)
        sd = collections.OrderedDict((k, v.half() if v.is_floating_point() else v) for k, v in m.state_dict().items())
        torch.save({'model': sd, 'epoch': 12}, os.path.join(OUT, f'{version}.pth'), _use_new_zipfile_serialization=not legacy)
        with torch.no_grad():
            (det,) = m.double()([image])
        expected[version] = {
            'boxes': det['boxes'].tolist(), 'scores': det['scores'].tolist(), 'labels': det['labels'].tolist(),
            'config': {'numClasses': 3, 'depth': 18, 'widthMultiplier': 0.125, 'channels': 8, 'headDepth': 4, 'norm': 'frozen-bn',
                       'p6FromP5': version == 'v1', 'headNorm': 'gn' if version == 'v2' else 'none', 'frozenBnEps': 0 if version == 'v1' else 1e-5},
        }
        print(version, len(det['scores']), 'detections, top score', float(det['scores'][0]))
    with open(os.path.join(OUT, 'expected.json'), 'w') as f:
        json.dump({'minSize': 96, 'maxSize': 160, 'image': [h, w], 'versions': expected}, f)


if __name__ == '__main__' and '--train-step' not in sys.argv:
    main()


def training_step_fixture():
    """torchvision's v1 training losses and some parameter gradients (float64) for the v1 model
    on the fixture image with two boxes: test/fixtures/detect/train-step.json."""
    gen = torch.Generator().manual_seed(21)
    # Rebuild the same v1 model as main() (same generator draws, in the same order).
    h, w = 83, 117
    torch.randint(0, 40, (h, w, 3), generator=gen)
    m = model('v1', gen).double()
    sd = torch.load(os.path.join(OUT, 'v1.pth'))['model']
    m.load_state_dict({k: v.double() if v.is_floating_point() else v for k, v in sd.items()})
    m.train()
    from torchvision.io import read_image
    image = read_image(os.path.join(OUT, 'image.png')).double() / 255
    boxes = [[30.0, 20.0, 70.0, 50.0], [5.5, 40.25, 47.0, 80.0]]
    labels = [2, 0]
    losses = m([image], [{'boxes': torch.tensor(boxes, dtype=torch.float64), 'labels': torch.tensor(labels)}])
    total = losses['classification'] + losses['bbox_regression']
    total.backward()
    names = ['backbone.body.conv1.weight', 'backbone.body.layer1.0.conv1.weight', 'backbone.body.layer2.0.downsample.0.weight',
             'backbone.fpn.inner_blocks.0.0.weight', 'backbone.fpn.layer_blocks.2.0.bias', 'backbone.fpn.extra_blocks.p6.weight',
             'head.classification_head.conv.0.0.weight', 'head.classification_head.cls_logits.weight',
             'head.classification_head.cls_logits.bias', 'head.regression_head.conv.3.0.weight', 'head.regression_head.bbox_reg.weight',
             'head.regression_head.bbox_reg.bias']
    params = dict(m.named_parameters())
    out = {'boxes': boxes, 'labels': labels, 'classification': float(losses['classification']),
           'box': float(losses['bbox_regression']),
           'grads': {n: {'shape': list(params[n].shape), 'values': params[n].grad.flatten().tolist()} for n in names}}
    with open(os.path.join(OUT, 'train-step.json'), 'w') as f:
        json.dump(out, f)
    print('train step: classification', out['classification'], 'box', out['box'])


if __name__ == '__main__' and len(sys.argv) > 1 and sys.argv[1] == '--train-step':
    training_step_fixture()
