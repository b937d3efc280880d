#!/bin/bash
# Regenerates tests/fixtures/face-ref/: reference outputs of the MediaPipe face models made
# by the ORIGINAL frameworks (TFLite interpreter via ../shared/tools/tflite-ref, the official
# MediaPipe JS pipeline via ../shared/tools/mediapipe-ref). NOT run by CI (needs node, npm,
# Chromium and network for `npm pack`); its outputs are committed.
#
# usage: bash tests/gen/make_face_refs.sh [OUTDIR]      (default tests/fixtures/face-ref)
# env:   FACEREF_SCRATCH  scratch dir for the npm tarball, models, temporaries
#                         (default ${TMPDIR:-/tmp}/faceref-scratch; never inside the repo)
#        SM_SHARED        the shared/ folder holding tools/ (default ../shared)
#        PYTHON           default /usr/bin/python3 (Debian numpy, scikit-image, PIL)
# Once: bash $SM_SHARED/tools/tflite-ref/setup.sh; bash $SM_SHARED/tools/mediapipe-ref/setup.sh
set -euo pipefail
if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
repo=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$repo/tests/fixtures/face-ref}
SCR=${FACEREF_SCRATCH:-${TMPDIR:-/tmp}/faceref-scratch}
SHARED=${SM_SHARED:-$repo/../shared}
PY=${PYTHON:-/usr/bin/python3}
TFL="node $SHARED/tools/tflite-ref/tflite_run.js"
MPR="node $SHARED/tools/mediapipe-ref/facemesh_run.js"
MPS="node $SHARED/tools/mediapipe-ref/facemesh_seq.js"
ASTRONAUT=${ASTRONAUT:-/usr/lib/python3/dist-packages/skimage/data/astronaut.png}
CAMERA=${CAMERA:-/usr/lib/python3/dist-packages/skimage/data/camera.png}
mkdir -p "$SCR" "$OUT"
OUT=$(cd "$OUT" && pwd)
log() { printf '[make_face_refs %s] %s\n' "$(date +%T)" "$*" >&2; }
timed() { local t0=$SECONDS; "$@"; echo "$* : $((SECONDS - t0)) s" >> "$SCR/timings.txt"; }
: > "$SCR/timings.txt"

# ---------------------------------------------------------------- 1. the models
cd "$SCR"
TGZ=mediapipe-face_mesh-0.4.1657299874.tgz
[ -f "$TGZ" ] || npm pack --silent @mediapipe/face_mesh@0.4.1657299874 >/dev/null
echo "c08a7e0742a326285da666cf81d77c8b6f3a181a2ee948cadaf166008e0d3bc7  $TGZ" | sha256sum -c --quiet
tar xzf "$TGZ" package/face_mesh_solution_packed_assets.data
"$PY" - <<'PY'
import hashlib
d = open('package/face_mesh_solution_packed_assets.data', 'rb').read()
assert hashlib.sha256(d).hexdigest() == 'dbe5905c582c0462cdaea17e7e6ecea92edaa8cccc515c5e2e7291f2cbb5fb99'
for name, a, b, sha in [
        ('face_landmark_with_attention.tflite', 0, 2495952,
         '883b7411747bac657c30c462d305d312e9dec6adbf8b85e2f5d8d722fca9455d'),
        ('face_landmark.tflite', 2495952, 3737848,
         'c603fa6149219a3e9487dc9abd7a0c24474c77263273d24868378cdf40aa26d1'),
        ('face_detection_short_range.tflite', 3757224, 3986256,
         '3bc182eb9f33925d9e58b5c8d59308a760f4adea8f282370e428c51212c26633')]:
    s = d[a:b]
    assert hashlib.sha256(s).hexdigest() == sha, name
    open(name, 'wb').write(s)
PY
log "models sliced and verified in $SCR"

# ---------------------------------------------------------------- the numpy side
# Everything that is "ours" here only makes INPUTS (images, tensors) and cross-checks;
# every reference number comes from TFLite or the official pipeline.
cat > "$SCR/faceref.py" <<'PY'
import hashlib, json, math, os, sys
import numpy as np
from PIL import Image

SCR, OUT = os.environ['SCR'], os.environ['OUT']
IMG = os.path.join(SCR, 'img')           # every image the pipeline saw (also the uncommitted ones)
TEN = os.path.join(SCR, 'tensors')

def load_rgb(p):
    return np.asarray(Image.open(p).convert('RGB'))

def save_png(a, p):
    Image.fromarray(a).save(p, optimize=True, compress_level=9)

def sha256(p):
    return hashlib.sha256(open(p, 'rb').read()).hexdigest()

# ---- FACE_MODELS.md section 3: rotated-rect ROI, bilinear at texel centres ----
def sample_roi(img, cx, cy, w, h, r, n, border):
    """img uint8 HxWx3; returns float64 n x n x 3 colours (0..255).
    border 'zero': p outside [0,W]x[0,H] -> colour 0, clamp-to-edge inside;
    border 'replicate': clamp-to-edge everywhere."""
    H, W = img.shape[:2]
    t = (np.arange(n, dtype=np.float64) + 0.5) / n - 0.5
    u, v = t[None, :] * w, t[:, None] * h            # u along x (column i), v along y (row j)
    c, s = math.cos(r), math.sin(r)
    px = cx + c * u - s * v
    py = cy + s * u + c * v
    qx, qy = px - 0.5, py - 0.5
    x0, y0 = np.floor(qx), np.floor(qy)
    fx, fy = (qx - x0)[..., None], (qy - y0)[..., None]
    x0, y0 = x0.astype(np.int64), y0.astype(np.int64)
    f = img.astype(np.float64)
    def tex(yy, xx):
        return f[np.clip(yy, 0, H - 1), np.clip(xx, 0, W - 1)]
    val = ((1 - fy) * ((1 - fx) * tex(y0, x0) + fx * tex(y0, x0 + 1)) +
           fy * ((1 - fx) * tex(y0 + 1, x0) + fx * tex(y0 + 1, x0 + 1)))
    if border == 'zero':
        out = (px < 0) | (px > W) | (py < 0) | (py > H)
        val[out] = 0.0
    return val

def detector_tensor(img):
    H, W = img.shape[:2]
    side = max(W, H)
    col = sample_roi(img, W / 2, H / 2, side, side, 0.0, 128, 'zero')
    return (col / 127.5 - 1.0).astype('<f4')

def norm_angle(a):
    return a - 2 * math.pi * math.floor((a + math.pi) / (2 * math.pi))

def roi_from_detection(det, W, H):
    b, kp = det['box'], det['keypoints']
    (x0, y0), (x1, y1) = kp[0], kp[1]
    r = norm_angle(0 - math.atan2(-(y1 - y0) * H, (x1 - x0) * W))
    side = max(b['width'] * W, b['height'] * H) * 1.5
    return dict(cx=b['xCenter'] * W, cy=b['yCenter'] * H, w=side, h=side, r=r)

def lcg_random(n, seed, k=0):
    """tflite_run.js --fill random:SEED for input k (uniform [-1,1) from an LCG)."""
    s = (seed + 7919 * k) & 0xffffffff
    out = np.empty(n, dtype='<f4')
    for i in range(n):
        s = (s * 1664525 + 1013904223) & 0xffffffff
        out[i] = s / 2147483648.0 - 1.0
    return out

# ---- crops / derived images (all from the Debian astronaut.png, public domain) ----
CROPS = {'wide': (0, 0, 512, 288), 'tall': (106, 0, 300, 512)}   # x, y, w, h
ROT_SRC = (75, 0, 300, 300)                                      # crop rotated by +45 deg

def stage_prep():
    os.makedirs(IMG, exist_ok=True); os.makedirs(TEN, exist_ok=True)
    from skimage.transform import rotate
    a = load_rgb(os.environ['ASTRONAUT'])
    assert a.shape == (512, 512, 3)
    imgs = {'astronaut': a}
    for k, (x, y, w, h) in CROPS.items():
        imgs[k] = a[y:y + h, x:x + w].copy()
    x, y, w, h = ROT_SRC
    rot = rotate(a[y:y + h, x:x + w].astype(np.float64), 45.0, resize=True, order=1,
                 mode='constant', cval=0.0, preserve_range=True)
    imgs['rot45'] = np.clip(np.round(rot), 0, 255).astype(np.uint8)
    # 2x2 box mean, round half up: exactly reproducible in C
    s = a.astype(np.uint32).reshape(256, 2, 256, 2, 3).sum(axis=(1, 3))
    imgs['small'] = ((s + 2) // 4).astype(np.uint8)
    imgs['camera'] = load_rgb(os.environ['CAMERA'])
    for k, v in imgs.items():
        save_png(v, os.path.join(IMG, k + '.png'))
        assert (load_rgb(os.path.join(IMG, k + '.png')) == v).all()
    for k in ('astronaut', 'wide', 'tall'):
        detector_tensor(imgs[k]).tofile(os.path.join(TEN, 'det_%s.f32' % k))
    lcg_random(128 * 128 * 3, 1).tofile(os.path.join(TEN, 'det_random1.f32'))
    np.full(128 * 128 * 3, 0.25, dtype='<f4').tofile(os.path.join(TEN, 'det_const0.25.f32'))
    lcg_random(192 * 192 * 3, 2).tofile(os.path.join(TEN, 'mesh_random2.f32'))
    np.full(192 * 192 * 3, 0.5, dtype='<f4').tofile(os.path.join(TEN, 'mesh_const0.5.f32'))

def stage_mesh():
    rois = {}
    for k in ('astronaut', 'rot45'):
        img = load_rgb(os.path.join(IMG, k + '.png'))
        H, W = img.shape[:2]
        det = json.load(open(os.path.join(OUT, 'mediapipe', k + '.detection.json')))['detections'][0]
        roi = roi_from_detection(det, W, H)
        col = sample_roi(img, roi['cx'], roi['cy'], roi['w'], roi['h'], roi['r'], 192, 'replicate')
        (col / 255.0).astype('<f4').tofile(os.path.join(TEN, 'mesh_%s.f32' % k))
        rois[k] = roi
    json.dump(rois, open(os.path.join(TEN, 'mesh_rois.json'), 'w'))

def anchors():
    a = []
    for fm, per in ((16, 2), (8, 6)):
        for y in range(fm):
            for x in range(fm):
                for _ in range(per):
                    a.append(((x + 0.5) / fm, (y + 0.5) / fm))
    return np.array(a)

def decode_detector(reg, cls, W, H):
    """FACE_MODELS.md section 4 in numpy (a cross-check of our input tensors only)."""
    A = anchors()
    reg = reg.reshape(896, 16).astype(np.float64)
    sc = 1 / (1 + np.exp(-np.clip(cls.reshape(896).astype(np.float64), -100, 100)))
    xc = reg[:, 0] / 128 + A[:, 0]; yc = reg[:, 1] / 128 + A[:, 1]
    w = reg[:, 2] / 128; h = reg[:, 3] / 128
    kx = reg[:, 4::2] / 128 + A[:, :1]; ky = reg[:, 5::2] / 128 + A[:, 1:]
    box = np.stack([xc - w / 2, yc - h / 2, xc + w / 2, yc + h / 2], 1)
    idx = [i for i in np.argsort(-sc, kind='stable') if sc[i] >= 0.5]
    dets = []
    while idx:
        t = idx[0]
        b = box[idx]
        ix = np.clip(np.minimum(b[:, 2], box[t, 2]) - np.maximum(b[:, 0], box[t, 0]), 0, None)
        iy = np.clip(np.minimum(b[:, 3], box[t, 3]) - np.maximum(b[:, 1], box[t, 1]), 0, None)
        inter = ix * iy
        area = lambda q: (q[..., 2] - q[..., 0]) * (q[..., 3] - q[..., 1])
        iou = inter / (area(b) + area(box[t]) - inter)
        grp = [i for i, o in zip(idx, iou) if o > 0.3]
        ws = sc[grp] / sc[grp].sum()
        bb = (box[grp] * ws[:, None]).sum(0)
        kk = np.stack([(kx[grp] * ws[:, None]).sum(0), (ky[grp] * ws[:, None]).sum(0)], 1)
        dets.append((sc[t], bb, kk))
        idx = [i for i, o in zip(idx, iou) if o <= 0.3]
    side = max(W, H)
    res = []
    for s, bb, kk in dets:
        fx = lambda x: (x - 0.5) * side / W + 0.5
        fy = lambda y: (y - 0.5) * side / H + 0.5
        x0, y0, x1, y1 = fx(bb[0]), fy(bb[1]), fx(bb[2]), fy(bb[3])
        res.append(dict(score=s, xCenter=(x0 + x1) / 2, yCenter=(y0 + y1) / 2, width=x1 - x0,
                        height=y1 - y0, keypoints=np.stack([fx(kk[:, 0]), fy(kk[:, 1])], 1)))
    return res

def project(raw, roi, W, H):
    p = raw.reshape(-1, 3).astype(np.float64) / 192
    x, y = p[:, 0] - 0.5, p[:, 1] - 0.5
    c, s = math.cos(roi['r']), math.sin(roi['r'])
    X = (c * x - s * y) * roi['w'] / W + roi['cx'] / W
    Y = (s * x + c * y) * roi['h'] / H + roi['cy'] / H
    return np.stack([X * W, Y * H, p[:, 2] * roi['w'] / W * W], 1)

def roi_from_landmarks(lm, W, H):
    """FACE_MODELS.md section 3, tracking: box of all points, rotation from 33 -> 263."""
    lm = np.asarray(lm, dtype=np.float64)
    x0, y0 = lm[:, 0].min(), lm[:, 1].min()
    x1, y1 = lm[:, 0].max(), lm[:, 1].max()
    (ax, ay), (bx, by) = lm[33, :2], lm[263, :2]
    r = norm_angle(0 - math.atan2(-(by - ay) * H, (bx - ax) * W))
    side = max((x1 - x0) * W, (y1 - y0) * H) * 1.5
    return dict(cx=(x0 + x1) / 2 * W, cy=(y0 + y1) / 2 * H, w=side, h=side, r=r)

def stage_track():
    """Tensors for the plain model on tracking frame 2 (ROI from frame 1's official landmarks)."""
    rois = {}
    for k in ('astronaut', 'rot45'):
        img = load_rgb(os.path.join(IMG, k + '.png')); H, W = img.shape[:2]
        j = json.load(open(os.path.join(OUT, 'mediapipe', k + '.plain.json')))
        roi = roi_from_landmarks(j['faces'][0]['landmarks_norm'], W, H)
        col = sample_roi(img, roi['cx'], roi['cy'], roi['w'], roi['h'], roi['r'], 192, 'replicate')
        (col / 255.0).astype('<f4').tofile(os.path.join(TEN, 'track_%s.f32' % k))
        rois[k] = roi
    json.dump(rois, open(os.path.join(TEN, 'track_rois.json'), 'w'))

def stage_check():
    """Our section-3 inputs + section-4 decode on TFLite outputs vs the official pipeline."""
    checks = {}
    for k in ('astronaut', 'wide', 'tall'):
        img = load_rgb(os.path.join(IMG, k + '.png')); H, W = img.shape[:2]
        d = os.path.join(OUT, 'tflite', 'det_' + k)
        reg = np.fromfile(os.path.join(d, '0_regressors.f32'), '<f4')
        cls = np.fromfile(os.path.join(d, '1_classificators.f32'), '<f4')
        ours = decode_detector(reg, cls, W, H)[0]
        off = json.load(open(os.path.join(OUT, 'mediapipe', k + '.detection.json')))['detections'][0]
        db = max(abs(ours[q] - off['box'][q]) * (W if q in ('xCenter', 'width') else H)
                 for q in ('xCenter', 'yCenter', 'width', 'height'))
        dk = np.abs((ours['keypoints'] - np.array(off['keypoints'])) * [W, H]).max()
        checks['detector_' + k] = dict(max_box_px=float(db), max_keypoint_px=float(dk),
                                       score_diff=float(abs(ours['score'] - off['score'])))
    rois = json.load(open(os.path.join(TEN, 'mesh_rois.json')))
    for k in ('astronaut', 'rot45'):
        img = load_rgb(os.path.join(IMG, k + '.png')); H, W = img.shape[:2]
        raw = np.fromfile(os.path.join(OUT, 'tflite', 'mesh_' + k, '0_conv2d_21.f32'), '<f4')
        lm = project(raw, rois[k], W, H)
        off = np.array(json.load(open(os.path.join(OUT, 'mediapipe', k + '.plain.json')))['faces'][0]['landmarks_px'])
        d = np.abs(lm - off)
        checks['mesh_plain_' + k] = dict(max_xy_px=float(d[:, :2].max()), max_z_px=float(d[:, 2].max()),
                                         max_xy_192=float(d[:, :2].max() * 192 / rois[k]['w']))
    trois = json.load(open(os.path.join(TEN, 'track_rois.json')))
    for k in ('astronaut', 'rot45'):
        img = load_rgb(os.path.join(IMG, k + '.png')); H, W = img.shape[:2]
        raw = np.fromfile(os.path.join(SCR, 'track_' + k, '0_conv2d_21.f32'), '<f4')
        lm = project(raw, trois[k], W, H)
        off = np.array(json.load(open(os.path.join(OUT, 'mediapipe', k + '.plain.json')))['frames'][0][0]['landmarks_norm'])
        d = np.abs(lm - off * [W, H, W])
        checks['mesh_plain_tracking_frame2_' + k] = dict(max_xy_px=float(d[:, :2].max()), max_z_px=float(d[:, 2].max()),
                                                        max_xy_192=float(d[:, :2].max() * 192 / trois[k]['w']))
    json.dump(checks, open(os.path.join(SCR, 'checks.json'), 'w'), indent=1)
    print(json.dumps(checks, indent=1))

def stage_strip():
    """Drop faces[].landmarks_px (= landmarks_norm * [W, H, W], exactly) to halve the JSON."""
    import glob, re
    for p in sorted(glob.glob(os.path.join(OUT, 'mediapipe', '*.json'))):
        j = json.load(open(p))
        if 'faces' not in j or not j['faces'] or 'landmarks_px' not in j['faces'][0]:
            continue
        for f in j['faces']:
            del f['landmarks_px']
        j['coords'] = ('landmarks_norm: raw NormalizedLandmark [x,y,z] as returned by the solution; pixels are '
                       '[x*W, y*H, z*W] (normalized x=0 is the left edge of pixel 0). landmarks_px, which '
                       'facemesh_run.js also writes, was removed by make_face_refs.sh (redundant).')
        txt = json.dumps(j, indent=1)
        txt = re.sub(r'\[\s+([-+\d.eE,\s]+?)\s+\]', lambda m: '[' + re.sub(r'\s+', '', m.group(1)) + ']', txt)
        open(p, 'w').write(txt + '\n')

def stage_clip():
    """10 frames: a 320x320 window of astronaut.png moving 4 px right, 2 px down per frame."""
    a = load_rgb(os.path.join(IMG, 'astronaut.png'))
    with open(os.path.join(SCR, 'clip_320x320.rgb'), 'wb') as f:
        for k in range(10):
            x, y = 40 + 4 * k, 2 * k
            f.write(np.ascontiguousarray(a[y:y + 320, x:x + 320]).tobytes())

def stage_index():
    """tflite/index.json: every TFLite case, its input and its outputs in interpreter order."""
    rois = json.load(open(os.path.join(TEN, 'mesh_rois.json')))
    gen = {'det_random1': 'tflite_run.js --fill random:1 (LCG, see README)',
           'det_const0.25': 'constant 0.25 in every element',
           'mesh_random2': 'tflite_run.js --fill random:2 (LCG, see README)',
           'mesh_const0.5': 'constant 0.5 in every element'}
    src = {'det_astronaut': 'images/astronaut.png letterboxed (FACE_MODELS.md s3, detector)',
           'det_wide': 'crop x=0,y=0,w=512,h=288 of images/astronaut.png, letterboxed',
           'det_tall': 'crop x=106,y=0,w=300,h=512 of images/astronaut.png, letterboxed',
           'mesh_astronaut': 'images/astronaut.png, ROI from mediapipe/astronaut.detection.json',
           'mesh_rot45': 'images/rot45.png, ROI from mediapipe/rot45.detection.json'}
    cases = []
    for d in sorted(os.listdir(os.path.join(OUT, 'tflite'))):
        full = os.path.join(OUT, 'tflite', d)
        if not os.path.isdir(full):
            continue
        o = json.load(open(os.path.join(full, 'outputs.json')))
        tin = os.path.join(TEN, d + '.f32')
        x = np.fromfile(tin, '<f4')
        c = dict(name=d, dir='tflite/' + d, model=os.path.basename(o['model']),
                 input=dict(name=o['inputs'][0]['name'], shape=o['inputs'][0]['shape'], dtype='float32 LE NHWC',
                            file=('tflite/%s/input.f32' % d) if d in src else None,
                            made_by=src.get(d) or gen[d], sha256=hashlib.sha256(x.tobytes()).hexdigest(),
                            first=[float(v) for v in x[:4]]),
                 outputs=[dict(index=q['index'], name=q['name'], shape=q['shape'], file='tflite/%s/%s' % (d, q['file']),
                               max_abs=float(np.abs(np.fromfile(os.path.join(full, q['file']), '<f4')).max()))
                          for q in o['outputs']])
        if d.startswith('mesh_') and d[5:] in rois:
            c['roi_px'] = rois[d[5:]]
        cases.append(c)
    json.dump(dict(runtime=o['runtime'], cases=cases), open(os.path.join(OUT, 'tflite', 'index.json'), 'w'), indent=1)

def stage_mpindex():
    """mediapipe/index.json: one entry per official-pipeline file, with the image it saw."""
    img = {'astronaut': dict(image_file='images/astronaut.png'), 'rot45': dict(image_file='images/rot45.png'),
           'small': dict(image_file='images/small.png'), 'camera': dict(image_file='images/camera.png'),
           'wide': dict(image_file=None, crop_of='images/astronaut.png', crop_xywh=list(CROPS['wide'])),
           'tall': dict(image_file=None, crop_of='images/astronaut.png', crop_xywh=list(CROPS['tall']))}
    ents = []
    for f in sorted(os.listdir(os.path.join(OUT, 'mediapipe'))):
        if not f.endswith('.json') or f in ('index.json', 'clip.refine.meta.json'):
            continue
        k, kind = f.split('.')[:2]
        j = json.load(open(os.path.join(OUT, 'mediapipe', f)))
        e = dict(file='mediapipe/' + f, image=k, kind=kind, width=j['width'], height=j['height'], **img[k])
        if kind == 'detection':
            e['num_detections'] = len(j['detections'])
        else:
            e.update(refine=j['options']['refineLandmarks'], num_faces_first=len(j['faces']),
                     num_landmarks=j['faces'][0]['num_landmarks'] if j['faces'] else 0,
                     num_faces_tracking_frames=[len(fr) for fr in j['frames']])
        ents.append(e)
    ents.append(dict(file='mediapipe/clip.refine.landmarks.npy', meta='mediapipe/clip.refine.meta.json',
                     kind='clip', refine=True, width=320, height=320, frames=10,
                     frame_k='astronaut.png[y 2k:2k+320, x 40+4k:40+4k+320], raw RGB, sent in order without reset()'))
    json.dump(dict(entries=ents), open(os.path.join(OUT, 'mediapipe', 'index.json'), 'w'), indent=1)

if __name__ == '__main__':
    globals()['stage_' + sys.argv[1]]()
PY
export SCR OUT ASTRONAUT CAMERA
"$PY" "$SCR/faceref.py" prep
mkdir -p "$OUT/images" "$OUT/tflite" "$OUT/mediapipe"
for k in astronaut rot45 small camera; do cp "$SCR/img/$k.png" "$OUT/images/"; done
log "images and detector tensors made"

# ---------------------------------------------------------------- 2. official detections
for k in astronaut wide tall rot45 small camera; do
  timed $MPR --solution face_detection --image "$SCR/img/$k.png" --out "$OUT/mediapipe/$k.detection.json"
done
"$PY" "$SCR/faceref.py" mesh
log "mesh ROI tensors made"

# ---------------------------------------------------------------- 3. TFLite interpreter
DET="$SCR/face_detection_short_range.tflite" MESH="$SCR/face_landmark.tflite"
for k in astronaut wide tall random1 const0.25; do
  timed $TFL --model "$DET" --input "$SCR/tensors/det_$k.f32" --outdir "$OUT/tflite/det_$k"
done
for k in astronaut rot45 random2 const0.5; do
  timed $TFL --model "$MESH" --input "$SCR/tensors/mesh_$k.f32" --outdir "$OUT/tflite/mesh_$k"
done
# our LCG file must be exactly what --fill random:SEED makes
$TFL --model "$DET" --fill random:1 --outdir "$SCR/fillcheck_det" >/dev/null
$TFL --model "$MESH" --fill random:2 --outdir "$SCR/fillcheck_mesh" >/dev/null
cmp "$SCR/fillcheck_det/0_regressors.f32" "$OUT/tflite/det_random1/0_regressors.f32"
cmp "$SCR/fillcheck_mesh/0_conv2d_21.f32" "$OUT/tflite/mesh_random2/0_conv2d_21.f32"
# committed inputs: the real-photo tensors (random/constant ones are regenerated by the tests)
for k in det_astronaut det_wide det_tall mesh_astronaut mesh_rot45; do
  cp "$SCR/tensors/$k.f32" "$OUT/tflite/$k/input.f32"
done
log "TFLite references done"

# ---------------------------------------------------------------- 4. official face mesh
for k in astronaut wide tall rot45 small camera; do
  timed $MPR --image "$SCR/img/$k.png" --refine --frames 3 --out "$OUT/mediapipe/$k.refine.json"
done
for k in astronaut rot45 camera; do
  timed $MPR --image "$SCR/img/$k.png" --frames 3 --out "$OUT/mediapipe/$k.plain.json"
done
"$PY" "$SCR/faceref.py" clip
timed $MPS --raw "$SCR/clip_320x320.rgb" --size 320x320 --refine --out-prefix "$OUT/mediapipe/clip.refine"
log "official pipeline references done"

# ---------------------------------------------------------------- 5. cross-check + index
"$PY" "$SCR/faceref.py" track
for k in astronaut rot45; do
  $TFL --model "$MESH" --input "$SCR/tensors/track_$k.f32" --outdir "$SCR/track_$k" >/dev/null
done
"$PY" "$SCR/faceref.py" check
"$PY" "$SCR/faceref.py" strip
"$PY" "$SCR/faceref.py" mpindex
cp "$SCR/checks.json" "$OUT/crosscheck.json"
"$PY" "$SCR/faceref.py" index
# machine-specific absolute paths out of the committed JSON
find "$OUT" -name '*.json' -exec sed -i -e "s#$SCR/img/#images/#g" -e "s#$SCR/#scratch/#g" {} +
cat "$SCR/timings.txt" >&2
log "done: $OUT"
