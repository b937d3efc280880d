// faceapi_ref.mjs: @vladmandic/face-api@1.7.15 itself, on @tensorflow/tfjs@4.22.0's
// pure-JS CPU backend, as the reference for the default emotion model's
// preprocessing and accuracy (docs/EMOTION.md). Our code is never the oracle.
//
// Needs (installed by tests/gen/make_emotion_refs.sh into a scratch folder, given
// as NODE_PATH):  @tensorflow/tfjs@4.22.0  @vladmandic/face-api@1.7.15
//                 jpeg-js@0.4.4  pngjs@7.0.0
//
//   node faceapi_ref.mjs prep IMAGE X Y W H OUT.npy
//       face-api's own crop of box (x, y, w, h) in IMAGE (extractFaceTensors:
//       clip to the image, floor), padToSquare (centred, black), resizeBilinear
//       to 112x112 (alignCorners false, halfPixelCenters false), minus the mean
//       RGB, / 255: the exact float tensor FaceExpressionNet sees, as .npy
//       [1,112,112,3] float32; prints the softmax probabilities as JSON.
//   node faceapi_ref.mjs eval LIST.csv OUT.json
//       LIST.csv rows "path,label": the whole face-api pipeline per photo
//       (SSD MobileNet v1, minConfidence 0.5, the largest face), its detector box
//       and the expression probabilities on that box, plus the 68-landmark
//       alignedRect and the probabilities on it (face-api's withFaceLandmarks()
//       path). One JSON object per photo in an array.
import fs from 'fs';
import path from 'path';
import { createRequire } from 'module';

const require = createRequire(path.join(process.env.NODE_PATH || process.cwd(), 'x.js'));
const tf = require('@tensorflow/tfjs');
const jpeg = require('jpeg-js');
const { PNG } = require('pngjs');
const faceapiDir = path.dirname(require.resolve('@vladmandic/face-api/package.json'));
// The Node build that takes tfjs from @tensorflow/tfjs (not a bundled copy); the
// pure-JS 'cpu' backend is selected below (the wasm backend it also registers is unused).
const faceapi = require(path.join(faceapiDir, 'dist/face-api.node-wasm.js'));

function decode(file) {
  const buf = fs.readFileSync(file);
  let w, h, data, ch;
  if (buf[0] === 0x89 && buf[1] === 0x50) {
    const png = PNG.sync.read(buf);
    w = png.width; h = png.height; data = png.data; ch = 4;
  } else if (buf[0] === 0xff && buf[1] === 0xd8) {
    const j = jpeg.decode(buf, { useTArray: true, formatAsRGBA: true, maxMemoryUsageInMB: 1024 });
    w = j.width; h = j.height; data = j.data; ch = 4;
  } else if (buf[0] === 0x50 && buf[1] === 0x36) {
    const m = buf.toString('latin1', 0, 64).match(/^P6\s+(\d+)\s+(\d+)\s+255\s/);
    if (!m) throw new Error(`${file}: unsupported PPM header`);
    w = +m[1]; h = +m[2]; data = buf.subarray(m[0].length); ch = 3;
  } else {
    throw new Error(`${file}: not PNG, JPEG or PPM`);
  }
  const rgb = new Int32Array(w * h * 3);
  for (let i = 0; i < w * h; i++) for (let c = 0; c < 3; c++) rgb[i * 3 + c] = data[i * ch + c];
  return tf.tensor3d(rgb, [h, w, 3], 'int32');
}

async function loadNet(net, name) {
  const dir = path.join(faceapiDir, 'model');
  const manifest = JSON.parse(fs.readFileSync(path.join(dir, `${name}-weights_manifest.json`), 'utf8'));
  const specs = [];
  const bufs = [];
  for (const group of manifest) {
    for (const p of group.paths) bufs.push(fs.readFileSync(path.join(dir, p)));
    specs.push(...group.weights);
  }
  const all = Buffer.concat(bufs);
  const ab = all.buffer.slice(all.byteOffset, all.byteOffset + all.length);
  net.loadFromWeightMap(tf.io.decodeWeights(ab, specs));
}

function writeNpy(file, arr, shape) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}), }`;
  const pad = 16 - ((10 + header.length + 1) % 16);
  header += ' '.repeat(pad % 16) + '\n';
  const pre = Buffer.alloc(10);
  pre.write('\x93NUMPY', 0, 'latin1');
  pre[6] = 1; pre[7] = 0; pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(new Float32Array(arr).buffer);
  fs.writeFileSync(file + '.tmp', Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
  fs.renameSync(file + '.tmp', file);
}

const LABELS = ['neutral', 'happy', 'sad', 'angry', 'fearful', 'disgusted', 'surprised'];
const probsOf = (e) => Object.fromEntries(LABELS.map((k) => [k, e[k]]));

async function main() {
  const [mode, ...args] = process.argv.slice(2);
  // prep (the preprocessing reference) always on the pure-JS cpu backend; eval
  // may use the wasm backend (XNNPACK; FACEAPI_BACKEND=wasm): the SSD detector
  // at 512x512 takes minutes per photo on the cpu backend of a shared machine.
  await tf.setBackend(mode === 'eval' && process.env.FACEAPI_BACKEND ? process.env.FACEAPI_BACKEND : 'cpu');
  await tf.ready();
  await loadNet(faceapi.nets.faceExpressionNet, 'face_expression_model');
  if (mode === 'prep') {
    const [file, x, y, w, h, out] = args;
    const img = decode(file);
    const box = new faceapi.Rect(+x, +y, +w, +h);
    const [face] = await faceapi.extractFaceTensors(img, [box]);
    const input = await faceapi.toNetInput(face);
    // FaceFeatureExtractor.forwardInput, the same ops in the same order.
    const t = tf.tidy(() => {
      const batch = tf.cast(input.toBatchTensor(112, true), 'float32');
      const mean = tf.tensor1d([122.782, 117.001, 104.298]);
      return tf.div(tf.sub(batch, mean), 255);
    });
    writeNpy(out, await t.data(), t.shape);
    const probs = await faceapi.nets.faceExpressionNet.predictExpressions(face);
    console.log(JSON.stringify({ image: file, box: [+x, +y, +w, +h], clipped: face.shape, probs: probsOf(probs) }));
    return;
  }
  if (mode !== 'eval') throw new Error('usage: faceapi_ref.mjs prep|eval ...');
  await loadNet(faceapi.nets.ssdMobilenetv1, 'ssd_mobilenetv1_model');
  await loadNet(faceapi.nets.faceLandmark68Net, 'face_landmark_68_model');
  const [list, out] = args;
  const rows = fs.readFileSync(list, 'utf8').split('\n').filter((l) => l.trim());
  const opts = new faceapi.SsdMobilenetv1Options({ minConfidence: 0.5 });
  const results = [];
  for (const row of rows) {
    const [file, label] = row.split(',');
    const r = { image: file, label };
    try {
      const img = decode(file);
      r.width = img.shape[1]; r.height = img.shape[0];
      // One SSD pass; the expressions on each box are computed exactly as
      // extractAllFacesAndComputeResults does (extractFaceTensors, then
      // predictExpressions on the face tensor).
      const dets = await faceapi.detectAllFaces(img, opts).withFaceLandmarks();
      if (dets.length) {
        const best = dets.reduce((a, b) => (a.detection.box.area >= b.detection.box.area ? a : b));
        const exprOn = async (det) => {
          const [face] = await faceapi.extractFaceTensors(img, [det]);
          const e = await faceapi.nets.faceExpressionNet.predictExpressions(face);
          face.dispose();
          return probsOf(e);
        };
        const b = best.detection.box;
        r.det = { score: best.detection.score, box: [b.x, b.y, b.width, b.height], probs: await exprOn(best.detection) };
        const a = best.alignedRect.box;
        r.aligned = { box: [a.x, a.y, a.width, a.height], probs: await exprOn(best.alignedRect) };
      }
      img.dispose();
    } catch (e) {
      r.error = String(e.message || e);
    }
    results.push(r);
    process.stderr.write(`${results.length}/${rows.length} ${file} ${r.det ? 'face' : 'no face'}\n`);
  }
  fs.writeFileSync(out + '.tmp', JSON.stringify(results, null, 1));
  fs.renameSync(out + '.tmp', out);
}

main().catch((e) => { console.error(e); process.exit(1); });
