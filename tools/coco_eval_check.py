"""Runs pycocotools' COCOeval (bbox) on a JSON case written by tools/coco-eval-check.js.

usage: python3 tools/coco_eval_check.py case.json out.json

case.json: {"images": [ids], "categories": [ids], "annotations": [COCO annotations],
            "results": [COCO results], "imgIds": [ids] | null, "catIds": [ids] | null}
out.json:  {"stats": [12], "precision": [flat T*R*K*A*M], "recall": [flat T*K*A*M],
            "scores": [flat], "summary": "the printed lines"}
Floats go through json as repr, so they round-trip exactly.
"""
import contextlib
import io
import json
import sys

from pycocotools.coco import COCO
from pycocotools.cocoeval import COCOeval


def main(case_path, out_path):
    with open(case_path) as f:
        case = json.load(f)
    log = io.StringIO()
    with contextlib.redirect_stdout(log):
        gt = COCO()
        gt.dataset = {
            'images': [{'id': i} for i in case['images']],
            'categories': [{'id': c, 'name': str(c)} for c in case['categories']],
            'annotations': case['annotations'],
        }
        gt.createIndex()
        dt = gt.loadRes(case['results'])
        ev = COCOeval(gt, dt, 'bbox')
        if case.get('imgIds') is not None:
            ev.params.imgIds = case['imgIds']
        if case.get('catIds') is not None:
            ev.params.catIds = case['catIds']
        ev.evaluate()
        ev.accumulate()
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        ev.summarize()
    out = {
        'stats': [float(x) for x in ev.stats],
        'precision': ev.eval['precision'].ravel().tolist(),
        'recall': ev.eval['recall'].ravel().tolist(),
        'scores': ev.eval['scores'].ravel().tolist(),
        'summary': text.getvalue(),
    }
    with open(out_path, 'w') as f:
        json.dump(out, f)


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
