'use strict';
// Layer-by-layer comparison with torchvision, without Python: test/fixtures/*.safetensors hold
// torchvision 0.14 modules with random, non-trivial weights (under the names our model uses,
// convolutions OIHW), an input (NHWC) and the float64 reference output, written by
// tools/make_fixtures.py (see there to regenerate). For each fixture the matching piece of our
// model is built, the weights are loaded with importWeights (strict: every torchvision name is
// used, none is left over, shapes checked; OIHW → HWIO as for a converted checkpoint) and the
// output compared within TOL × max(1, max |expected|). Then every parameter in turn is perturbed,
// and the output must move beyond that tolerance: each loaded tensor is used, the check can fail.
const test = require('ava');
const fs = require('fs');
const path = require('path');
const tf = require('@tensorflow/tfjs');
const { Params, NormLayer } = require('../dist/model/params');
const { ResNet, BasicBlock, Bottleneck } = require('../dist/model/resnet');
const { Fpn } = require('../dist/model/fpn');
const { Subnet } = require('../dist/model/head');
const { createRetinaNet } = require('../dist/model/retinanet');
const { importWeights, fromTorch } = require('../dist/model/weights');
const { parseSafetensors } = require('../dist/model/safetensors');

const DIR = path.join(__dirname, 'fixtures');
// Max |ours − torchvision's float64 output| ≤ TOL × max(1, max |expected|). PyTorch's own
// float32 result is within 3.4e-6 absolute (2.5e-7 relative) of the reference on these fixtures.
const TOL = 1e-5;

function load(name) {
  const { tensors, metadata } = parseSafetensors(fs.readFileSync(path.join(DIR, `${name}.safetensors`)));
  const weights = new Map();
  const io = new Map();
  for (const [k, v] of tensors) (/^(input|output)(\.|$)/.test(k) ? io : weights).set(k, v);
  return { weights, io, spec: JSON.parse(metadata.fixture), metadata };
}

const tensor = ({ data, shape }) => tf.tensor(data, shape);

/** The piece of our model a fixture describes: { params, run(io) → Map(output name → tensor), dispose }. */
function build(spec) {
  if (spec.kind === 'retinanet') {
    const model = createRetinaNet(spec.config);
    return {
      params: model.params,
      run: (io) => {
        const heads = model.forward(tensor(io.get('input')));
        return new Map([['output.cls_logits', tf.concat(heads.map((h) => h.logits), 1)],
          ['output.bbox_regression', tf.concat(heads.map((h) => h.deltas), 1)]]);
      },
      dispose: () => model.dispose(),
    };
  }
  const p = new Params(1);
  const piece = { params: p, dispose: () => p.dispose() };
  if (spec.kind === 'block') {
    const Block = { BasicBlock, Bottleneck }[spec.block];
    const block = new Block(p, spec.name, spec.inC, spec.width, spec.stride, spec.norm);
    piece.run = (io) => new Map([['output', block.apply(tensor(io.get('input')))]]);
  } else if (spec.kind === 'stem') {
    // A ResNet whose stages' parameters are dropped: only the stem's names must match.
    const resnet = new ResNet(p, spec.depth, spec.widthMultiplier, spec.norm);
    for (const [name, v] of [...p.vars]) {
      if (!/^backbone\.body\.(conv1|bn1)\./.test(name)) {
        v.dispose();
        p.vars.delete(name);
      }
    }
    piece.run = (io) => new Map([['output', resnet.stem(tensor(io.get('input')))]]);
  } else if (spec.kind === 'fpn') {
    const fpn = new Fpn(p, spec.inChannels, spec.channels, spec.p6FromP5);
    piece.run = (io) => {
      const outs = fpn.apply(['c3', 'c4', 'c5'].map((c) => tensor(io.get(`input.${c}`))));
      return new Map(outs.map((o, i) => [`output.p${i + 3}`, o]));
    };
  } else if (spec.kind === 'head') {
    const cls = new Subnet(p, 'head.classification_head', 'cls_logits', spec.channels, spec.depth, spec.numClasses, spec.anchors, 0);
    const box = new Subnet(p, 'head.regression_head', 'bbox_reg', spec.channels, spec.depth, 4, spec.anchors, 0);
    piece.run = (io) => {
      const levels = Array.from({ length: spec.levels }, (_, i) => tensor(io.get(`input.${i}`)));
      return new Map([['output.cls_logits', tf.concat(levels.map((x) => cls.apply(x)), 1)],
        ['output.bbox_regression', tf.concat(levels.map((x) => box.apply(x)), 1)]]);
    };
  } else if (spec.kind === 'norm') {
    const layers = spec.layers.map((l) => [l, new NormLayer(p, l.name, l.channels, spec.norm)]);
    piece.run = (io) => new Map(layers.map(([l, layer]) => [`output.c${l.channels}`, layer.apply(tensor(io.get(`input.c${l.channels}`)))]));
  } else {
    throw new Error(`unknown fixture kind ${spec.kind}`);
  }
  return piece;
}

/** Max |diff| and max |expected| per output, for the outputs the fixture stores. */
function compare(piece, io) {
  return tf.tidy(() => {
    const outs = piece.run(io);
    const expectedNames = [...io.keys()].filter((k) => k.startsWith('output')).sort();
    if ([...outs.keys()].sort().join() !== expectedNames.join()) throw new Error(`outputs ${[...outs.keys()]} vs ${expectedNames}`);
    return expectedNames.map((name) => {
      const want = io.get(name);
      const got = outs.get(name);
      if (got.shape.join() !== want.shape.join()) return { name, diff: Infinity, scale: 0, shape: `[${got.shape}] vs [${want.shape}]` };
      const g = got.dataSync();
      let diff = 0;
      let scale = 0;
      for (let i = 0; i < g.length; i++) {
        diff = Math.max(diff, Math.abs(g[i] - want.data[i]) || (Number.isNaN(g[i]) ? Infinity : 0));
        scale = Math.max(scale, Math.abs(want.data[i]));
      }
      return { name, diff, scale };
    });
  });
}

const within = (r) => r.diff <= TOL * Math.max(1, r.scale);

const FIXTURES = {
  basic_block_frozen_bn: 'ResNet BasicBlock, stride 2 + downsample, FrozenBatchNorm2d',
  bottleneck_frozen_bn: 'ResNet Bottleneck (v1.5: stride on the 3x3), stride 2 + downsample, FrozenBatchNorm2d',
  stem_frozen_bn: 'ResNet stem: conv1 7x7/2, FrozenBatchNorm2d, ReLU, max pool 3x3/2 pad 1',
  fpn_p6_from_c5: 'FeaturePyramidNetwork + LastLevelP6P7, P6 from C5 (in_channels != out_channels)',
  fpn_p6_from_p5: 'FeaturePyramidNetwork + LastLevelP6P7, P6 from P5 (in_channels == out_channels)',
  head: 'RetinaNetHead (classification + regression), 2 levels, batch 2',
  group_norm: "GroupNorm: our 'gn' NormLayer (C = 64, 48, 8)",
  bottleneck_gn: 'ResNet Bottleneck, stride 1, identity shortcut, GroupNorm',
  basic_block_gn: 'ResNet BasicBlock, stride 2 + downsample, GroupNorm',
  retinanet_r18_tiny: 'whole RetinaNet (ResNet-18 width 8, FPN, heads), head outputs; F16 weights',
};

test('the fixtures stay under 1 MB in all and were all made by tools/make_fixtures.py', (t) => {
  const files = fs.readdirSync(DIR).filter((f) => f.endsWith('.safetensors')).sort();
  t.deepEqual(files, Object.keys(FIXTURES).map((f) => `${f}.safetensors`).sort());
  const total = files.reduce((s, f) => s + fs.statSync(path.join(DIR, f)).size, 0);
  t.true(total < 2 ** 20, `${total} bytes`);
  for (const f of Object.keys(FIXTURES)) t.is(load(f).metadata.producer, 'tools/make_fixtures.py');
});

for (const [name, what] of Object.entries(FIXTURES)) {
  test(`torchvision fixture ${name}: ${what}`, (t) => {
    const { weights, io, spec } = load(name);
    const piece = build(spec);
    try {
      // Names: exactly torchvision's, in both directions (importWeights also checks every shape).
      t.deepEqual([...piece.params.vars.keys()].sort(), [...weights.keys()].sort());
      importWeights({ params: piece.params }, weights);
      const results = compare(piece, io);
      for (const r of results) {
        t.log(`${r.name}: max |diff| ${r.diff.toExponential(2)} at scale ${r.scale.toFixed(2)}${r.shape ? ` shape ${r.shape}` : ''}`);
        t.true(within(r), `${name} ${r.name}: max |diff| ${r.diff} > ${TOL} × max(1, ${r.scale})`);
      }
      // Every parameter matters: scaling and shifting any one of them moves some output beyond
      // the tolerance (so a parameter loaded but unused, or the check itself, cannot pass silently).
      const insensitive = [];
      for (const [pname, v] of piece.params.vars) {
        const saved = v.clone();
        tf.tidy(() => v.assign(saved.mul(1.25).add(0.05)));
        if (compare(piece, io).every(within)) insensitive.push(pname);
        v.assign(saved);
        saved.dispose();
      }
      t.deepEqual(insensitive, [], 'parameters whose perturbation the comparison does not see');
      t.true(compare(piece, io).every(within), 'restored after the perturbations');
    } finally {
      piece.dispose();
    }
  });
}

test('the checks can fail: wrong conv layout, a missing or an extra name', (t) => {
  const { weights, io, spec } = load('basic_block_frozen_bn');
  const piece = build(spec);
  try {
    importWeights({ params: piece.params }, weights);
    t.true(compare(piece, io).every(within));
    // OIHW data taken as HWIO (no transpose): the output is wrong.
    const w = piece.params.get('backbone.body.layer2.0.conv2.weight');
    const torchW = weights.get('backbone.body.layer2.0.conv2.weight');
    t.deepEqual(fromTorch(torchW.data, torchW.shape).shape, w.shape);
    w.assign(tf.tensor(torchW.data, w.shape));
    t.false(compare(piece, io).every(within));
    const missing = new Map(weights);
    missing.delete('backbone.body.layer2.0.downsample.1.running_var');
    t.throws(() => importWeights({ params: piece.params }, missing), { message: /missing backbone\.body\.layer2\.0\.downsample\.1\.running_var/ });
    const extra = new Map(weights);
    extra.set('backbone.body.layer2.0.downsample.1.num_batches_tracked', { shape: [], data: new Float32Array(1) });
    t.throws(() => importWeights({ params: piece.params }, extra), { message: /unexpected .*num_batches_tracked/ });
  } finally {
    piece.dispose();
  }
});
