#!/usr/bin/env node
// Where ONNX Runtime spends its time, node by node, to set beside `smw-bench model`'s
// per-layer table (docs/PERFORMANCE.md, "Layer by layer against ONNX Runtime").
//
//   node bench/compare/ort_profile.js MODEL.onnx INPUTS.json [--threads N] [--runs N] [--depth D] [--json]
//
// MODEL.onnx and INPUTS.json are the ones `make bench-compare` leaves in
// bench/.work/compare/<model>/ (model.onnx, inputs.json). Same session options as
// ort_worker.js (optimization 'all', sequential, intraOpNumThreads N) plus ORT's own
// profiler; the first fifth of the runs (at least 2) are warm-up and not counted. Prints per
// node its median kernel time, per op type and per scope the sums of those medians. A node's
// scope is the module path of its name (without the node's own last part), cut to D parts
// (default 3): "/m/blocks.1/blocks.1.0/conv_pw/Conv" is in "/m/blocks.1/blocks.1.0", as
// `smw-bench model` names the layer "blocks.1.0". ORT's layout reorders
// (ReorderInput/ReorderOutput) carry no scope: they are counted in the scope of the node
// before them. The profiler itself adds a few us per node, so the sums run above an
// unprofiled run's time; compare scopes with each other, not with bench-compare's ms.
// ORT_MODULES (env) is the node_modules holding onnxruntime-node.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');

function usage(out) {
  out.write('usage: node ort_profile.js MODEL.onnx INPUTS.json [--threads N] [--runs N] [--depth D] [--json]\n' +
            '  MODEL.onnx, INPUTS.json: from bench/.work/compare/<model>/ (make bench-compare)\n' +
            '  --threads N  intraOpNumThreads (default 1)\n' +
            '  --runs N     profiled runs, 5..10000 (default 30; the first fifth are warm-up)\n' +
            '  --depth D    scope = the first D parts of a node\'s module path, 1..16 (default 3)\n' +
            '  --json       one JSON document instead of the tables\n');
}

function fail(msg) {
  process.stderr.write(`ort_profile: ${msg}\n`);
  process.exit(2);
}

function parseArgs(argv) {
  const a = {threads: 1, runs: 30, depth: 3, json: false, files: []};
  for (let i = 0; i < argv.length; i++) {
    const v = argv[i];
    if (v === '-h' || v === '--help') {
      usage(process.stdout);
      process.exit(0);
    } else if (v === '--json') {
      a.json = true;
    } else if (v === '--threads' || v === '--runs' || v === '--depth') {
      const n = Number(argv[++i]);
      const [lo, hi] = {'--threads': [1, 256], '--runs': [5, 10000], '--depth': [1, 16]}[v];
      if (!Number.isInteger(n) || n < lo || n > hi) fail(`${v} needs a whole number in ${lo}..${hi}`);
      a[v.slice(2)] = n;
    } else if (v.startsWith('-')) {
      fail(`unknown option ${v} (--help)`);
    } else {
      a.files.push(v);
    }
  }
  if (a.files.length !== 2) {
    usage(process.stderr);
    process.exit(2);
  }
  return a;
}

function readFeeds(ort, inputsJson) {
  let list;
  try {
    list = JSON.parse(fs.readFileSync(inputsJson, 'utf8'));
  } catch (e) {
    fail(`${inputsJson}: ${e.message}`);
  }
  if (!Array.isArray(list) || list.length === 0) fail(`${inputsJson}: expected a list of inputs`);
  const feeds = {};
  for (const d of list) {
    if (!d || typeof d.name !== 'string' || !Array.isArray(d.shape) || typeof d.file !== 'string')
      fail(`${inputsJson}: an input lacks name, shape or file`);
    const Arr = d.dtype === 'float64' ? Float64Array : d.dtype === 'float32' ? Float32Array : null;
    if (!Arr) fail(`${inputsJson}: input ${d.name}: dtype ${d.dtype} is not float32 or float64`);
    const file = path.isAbsolute(d.file) ? d.file : path.join(path.dirname(inputsJson), d.file);
    let b;
    try {
      b = fs.readFileSync(file);
    } catch (e) {
      fail(`${inputsJson}: input ${d.name}: ${e.message}`);
    }
    const want = d.shape.reduce((p, x) => p * x, 1) * Arr.BYTES_PER_ELEMENT;
    if (b.length !== want) fail(`${file}: ${b.length} bytes, shape ${JSON.stringify(d.shape)} needs ${want}`);
    feeds[d.name] = new ort.Tensor(d.dtype, new Arr(b.buffer.slice(b.byteOffset, b.byteOffset + b.length)), d.shape);
  }
  return feeds;
}

function median(xs) {
  const s = xs.slice().sort((p, q) => p - q);
  return s.length % 2 ? s[(s.length - 1) / 2] : 0.5 * (s[s.length / 2 - 1] + s[s.length / 2]);
}

function scopeOf(name, depth) {
  if (!name.startsWith('/')) return null;
  const parts = name.split('/').slice(1, -1); // the module path: drop '' and the node's own name
  return parts.length ? '/' + parts.slice(0, depth).join('/') : null;
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  const [model, inputsJson] = a.files;
  if (!fs.existsSync(model)) fail(`${model}: no such file`);
  const mods = process.env.ORT_MODULES || path.join(__dirname, '..', '.work', 'ort', 'node_modules');
  let ort;
  try {
    ort = require(path.join(mods, 'onnxruntime-node'));
  } catch (e) {
    fail(`onnxruntime-node not found under ${mods}: run make bench-compare once (or set ORT_MODULES)`);
  }
  const feeds = readFeeds(ort, inputsJson);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ort-profile-'));
  try {
    const sess = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all', intraOpNumThreads: a.threads, interOpNumThreads: 1,
      executionMode: 'sequential', enableProfiling: true, profileFilePrefix: path.join(dir, 'p'),
    });
    for (let i = 0; i < a.runs; i++) await sess.run(feeds);
    sess.endProfiling();
    const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));
    if (files.length !== 1) fail(`expected one profile in ${dir}, found ${files.length}`);
    report(a, model, JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8')));
  } finally {
    fs.rmSync(dir, {recursive: true, force: true});
  }
}

function report(a, model, events) {
  const warm = Math.max(2, Math.floor(a.runs / 5));
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').map((e) => e.dur / 1000);
  // kernel events of one node come in run order; the first `warm` runs are dropped
  const byNode = new Map();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
    const name = e.name.slice(0, -'_kernel_time'.length);
    if (!byNode.has(name)) byNode.set(name, {name, op: (e.args && e.args.op_name) || '?', us: []});
    byNode.get(name).us.push(e.dur);
  }
  const nodes = [];
  let scope = '(start)';
  for (const n of byNode.values()) {
    scope = scopeOf(n.name, a.depth) || scope;
    const counted = n.us.slice(warm);
    nodes.push({name: n.name, op: n.op, scope, median_us: counted.length ? median(counted) : median(n.us)});
  }
  const sum = (key) => {
    const m = new Map();
    for (const n of nodes) m.set(n[key], (m.get(n[key]) || 0) + n.median_us);
    return [...m].map(([k, us]) => ({[key]: k, ms: us / 1000}));
  };
  const doc = {
    model, threads: a.threads, runs: a.runs, warmup_runs: warm,
    run_median_ms: median(runs.slice(warm)), nodes_ms: nodes.reduce((s, n) => s + n.median_us, 0) / 1000,
    by_scope: sum('scope'), by_op: sum('op').sort((p, q) => q.ms - p.ms), nodes,
  };
  if (a.json) {
    process.stdout.write(JSON.stringify(doc) + '\n');
    return;
  }
  const out = process.stdout;
  out.write(`${model}: ${a.threads} thread(s), ${a.runs - warm} profiled runs after ${warm} warm-up: ` +
            `run median ${doc.run_median_ms.toFixed(3)} ms, node medians sum ${doc.nodes_ms.toFixed(3)} ms\n`);
  out.write('by op type (ms):\n');
  for (const r of doc.by_op) out.write(`  ${r.op.padEnd(22)} ${r.ms.toFixed(3).padStart(9)}\n`);
  out.write('by scope, in run order (ms):\n');
  for (const r of doc.by_scope) out.write(`  ${r.scope.padEnd(40)} ${r.ms.toFixed(3).padStart(9)}\n`);
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
