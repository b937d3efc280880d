#!/usr/bin/env node
// ONNX Runtime peer for bench/compare.sh: one process per (model, threads).
//
//   node ort_worker.js MODEL.onnx INPUTS.json THREADS
//
// INPUTS.json: [{"name", "dtype": "float32"|"float64", "shape": [...], "file": raw LE data}].
// The session uses graphOptimizationLevel 'all', intraOpNumThreads = THREADS,
// interOpNumThreads 1, sequential execution. Commands on stdin, one JSON line
// each, one JSON line answered:
//   {"cmd": "outputs", "dir": D}  run once, write D/out<k>.bin (+ dtype, shape)
//   {"cmd": "run", "n": N}        N timed runs back to back, answer {"ms": [...]}
//   {"cmd": "quit"}
// ORT_MODULES (env) is the node_modules holding onnxruntime-node.
'use strict';
const fs = require('fs');
const path = require('path');
const readline = require('readline');

const mods = process.env.ORT_MODULES || path.join(__dirname, '..', '.work', 'ort', 'node_modules');
const ort = require(path.join(mods, 'onnxruntime-node'));

async function main() {
  const [model, inputsJson, threadsS] = process.argv.slice(2);
  if (!model || !inputsJson || !threadsS) {
    console.error('usage: node ort_worker.js MODEL.onnx INPUTS.json THREADS');
    process.exit(2);
  }
  const threads = parseInt(threadsS, 10);
  const sess = await ort.InferenceSession.create(model, {
    graphOptimizationLevel: 'all', intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const feeds = {};
  for (const d of JSON.parse(fs.readFileSync(inputsJson, 'utf8'))) {
    const b = fs.readFileSync(d.file);
    const Arr = d.dtype === 'float64' ? Float64Array : Float32Array;
    const a = new Arr(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
    feeds[d.name] = new ort.Tensor(d.dtype, a, d.shape);
  }
  await sess.run(feeds);
  console.log(JSON.stringify({ ok: true, onnxruntime: ort.env.versions.common, threads,
    outputs: sess.outputNames }));
  const rl = readline.createInterface({ input: process.stdin });
  for await (const line of rl) {
    const cmd = JSON.parse(line);
    if (cmd.cmd === 'outputs') {
      const r = await sess.run(feeds);
      const files = sess.outputNames.map((n, k) => {
        const f = path.join(cmd.dir, `out${k}.bin`);
        const t = r[n];
        fs.writeFileSync(f, Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
        return { file: f, dtype: t.type, shape: t.dims };
      });
      console.log(JSON.stringify({ files }));
    } else if (cmd.cmd === 'run') {
      const ms = [];
      for (let i = 0; i < cmd.n; i++) {
        const t0 = process.hrtime.bigint();
        await sess.run(feeds);
        ms.push(Number(process.hrtime.bigint() - t0) / 1e6);
      }
      console.log(JSON.stringify({ ms }));
    } else break;
  }
  process.exit(0);
}

main().catch(e => { console.error(e && e.stack || String(e)); process.exit(1); });
