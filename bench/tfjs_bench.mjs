/* tfjs_bench.mjs: the same networks in TensorFlow.js under the same Node, for
 * the ratios in bench/results.md: @tensorflow/tfjs-backend-wasm (SIMD, one
 * thread) and the plain-JS cpu backend, random weights, the layer shapes of
 * src/nn/arch.c. One JSON result per line, shaped like node_bench.mjs's.
 * usage: node bench/tfjs_bench.mjs [--quick] [--reps N] [--backends wasm,cpu] */
import * as tf from '@tensorflow/tfjs'; /* core + cpu + the gradients */
import * as tfwasm from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { timeCalls } from './wasm_bench.mjs';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const ri = args.indexOf('--reps');
const reps = ri >= 0 ? Number(args[ri + 1]) : 15;
const bi = args.indexOf('--backends');
const backends = bi >= 0 ? args[bi + 1].split(',') : ['wasm', 'cpu'];
const log = (s) => process.stderr.write(`  tfjs: ${s}\n`);

/* Layer lists as in src/nn/arch.c ("default" is digitnet). */
const ARCHS = {
  logreg: 'flatten; dense 10',
  mlp: 'flatten; dense 128; relu; dense 64; relu; dense 10',
  lenet5: 'conv 6 5 same; relu; maxpool 2; conv 16 5 valid; relu; maxpool 2; flatten; ' +
          'dense 120; relu; dense 84; relu; dense 10',
  cnn: 'conv 32 3 valid; bn; relu; conv 32 3 valid; relu; maxpool 2; dropout 0.25; ' +
       'conv 64 3 valid; bn; relu; conv 64 3 valid; relu; maxpool 2; dropout 0.25; flatten; ' +
       'dense 256; relu; dropout 0.5; dense 10',
  default: 'conv 24 5 valid; bn; relu; maxpool 2; conv 48 3 same; bn; relu; conv 48 3 same; bn; ' +
           'relu; maxpool 2; conv 96 3 valid; bn; relu; flatten; dropout 0.4; dense 10',
};

/* Variables and a forward function for a layer list on (n, 28, 28, 1). */
function build(spec) {
  let shape = [28, 28, 1], mflop = 0;
  const layers = [];
  for (const item of spec.split(';').map((s) => s.trim().split(/\s+/))) {
    const [kind, a, b, c] = item;
    if (kind === 'dense') {
      const I = shape.reduce((x, y) => x * y), U = Number(a);
      const lim = Math.sqrt(6 / (I + U));
      layers.push({ kind, w: tf.variable(tf.randomUniform([I, U], -lim, lim)),
                    b: tf.variable(tf.zeros([U])) });
      mflop += 2 * I * U * 1e-6;
      shape = [U];
    } else if (kind === 'conv') {
      const F = Number(a), K = Number(b), pad = c === 'same' ? 'same' : 'valid';
      const C = shape[2], lim = Math.sqrt(6 / (K * K * (C + F)));
      layers.push({ kind, pad, w: tf.variable(tf.randomUniform([K, K, C, F], -lim, lim)),
                    b: tf.variable(tf.zeros([F])) });
      const oh = pad === 'same' ? shape[0] : shape[0] - K + 1;
      const ow = pad === 'same' ? shape[1] : shape[1] - K + 1;
      mflop += 2 * oh * ow * F * K * K * C * 1e-6;
      shape = [oh, ow, F];
    } else if (kind === 'bn') {
      const C = shape[shape.length - 1];
      layers.push({ kind, g: tf.variable(tf.ones([C])), b: tf.variable(tf.zeros([C])),
                    mean: tf.zeros([C]), varr: tf.ones([C]) });
    } else if (kind === 'maxpool') {
      const p = Number(a);
      layers.push({ kind, p });
      shape = [Math.floor(shape[0] / p), Math.floor(shape[1] / p), shape[2]];
    } else if (kind === 'dropout') {
      layers.push({ kind, rate: Number(a) });
    } else if (kind === 'flatten') {
      layers.push({ kind });
      shape = [shape.reduce((x, y) => x * y)];
    } else {
      layers.push({ kind });
    }
  }
  const forward = (x, train) => {
    let h = x;
    for (const l of layers) {
      if (l.kind === 'dense') h = tf.add(tf.matMul(h, l.w), l.b);
      else if (l.kind === 'conv') h = tf.add(tf.conv2d(h, l.w, 1, l.pad), l.b);
      else if (l.kind === 'relu') h = tf.relu(h);
      else if (l.kind === 'maxpool') h = tf.maxPool(h, l.p, l.p, 'valid');
      else if (l.kind === 'flatten') h = tf.reshape(h, [h.shape[0], -1]);
      else if (l.kind === 'dropout') h = train ? tf.dropout(h, l.rate) : h;
      else if (l.kind === 'bn') {
        if (train) {
          const { mean, variance } = tf.moments(h, [0, 1, 2]);
          h = tf.batchNorm(h, mean, variance, l.b, l.g, 1e-3);
        } else {
          h = tf.batchNorm(h, l.mean, l.varr, l.b, l.g, 1e-3);
        }
      }
    }
    return h; /* logits */
  };
  return { forward, mflop };
}

const results = { push: (r) => console.log(JSON.stringify(r)) }; /* streamed */
for (const backend of backends) {
  /* the cpu backend is far slower (bench/results.md): fewer samples keep
   * the run short */
  const slow = backend === 'cpu';
  const opt = quick ? { reps: 3, minMs: 5, warmMs: 30 }
                    : { reps: slow ? Math.min(reps, 5) : reps, minMs: 25, warmMs: slow ? 50 : 200 };
  if (backend === 'wasm') {
    const dir = dirname(createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm'));
    tfwasm.setWasmPaths(`${dir}/`);
    tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
    tf.env().set('WASM_HAS_SIMD_SUPPORT', true);
  }
  await tf.setBackend(backend);
  await tf.ready();
  const target = `tfjs-${backend}`;
  log(`backend ${tf.getBackend()}`);
  for (const [arch, spec] of Object.entries(ARCHS)) {
    const { forward, mflop } = build(spec);
    for (const batch of [1, 64]) {
      if (quick && slow && batch === 64 && (arch === 'cnn' || arch === 'default')) continue;
      const x = tf.randomUniform([batch, 28, 28, 1]);
      const t = timeCalls(() => { const o = tf.tidy(() => tf.softmax(forward(x, false)));
                                   o.dataSync(); o.dispose(); }, opt);
      results.push({ kind: 'predict', target, arch, batch, mode: 'net', ms: t.med, min: t.min,
                     max: t.max, cpu_ms: t.cpu, mflop: mflop * batch });
      log(`${arch} b${batch} ${t.med.toFixed(4)} ms`);
      x.dispose();
    }
  }
  for (const arch of ['mlp', 'cnn']) {
    const { forward } = build(ARCHS[arch]);
    const optimizer = tf.train.adam(1e-4);
    for (const batch of [32, 128]) {
      if (slow && arch === 'cnn') {
        results.push({ kind: 'train', target, arch, batch, threads: 1,
                       error: 'skipped: a step takes minutes (conv backward in plain JS)' });
        continue;
      }
      const x = tf.randomUniform([batch, 28, 28, 1]);
      const y = tf.oneHot(tf.randomUniform([batch], 0, 10, 'int32'), 10);
      const step = () => tf.tidy(() => {
        optimizer.minimize(() => tf.losses.softmaxCrossEntropy(y, forward(x, true)));
      });
      try {
        step();
        const t = timeCalls(step, quick ? { reps: 3, minMs: 20, warmMs: 20 }
                                        : { reps: slow ? 3 : Math.min(reps, 7),
                                            minMs: slow ? 1 : 150, warmMs: slow ? 1 : 300 });
        results.push({ kind: 'train', target, arch, batch, threads: 1, ips: batch / t.med * 1e3,
                       min: batch / t.max * 1e3, max: batch / t.min * 1e3,
                       cpu_ips: t.cpu ? batch / t.cpu * 1e3 : null });
        log(`train ${arch} b${batch} ${(batch / t.med * 1e3).toFixed(0)} img/s`);
      } catch (e) {
        results.push({ kind: 'train', target, arch, batch, threads: 1,
                       error: String(e.message || e).split('\n')[0].slice(0, 120) });
        log(`train ${arch} b${batch}: ${e.message}`);
      }
      x.dispose();
      y.dispose();
    }
  }
}
