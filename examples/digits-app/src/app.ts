// app.ts: a drawing pad whose digit is read by the digits-recognizer
// package at each lifted stroke. ?worker runs the recognizer in a Web
// Worker ({ worker: true }): the same calls, the network off the main
// thread. The page says when it is ready (html[data-ready="1"]) and what
// it read (#prediction's data-digit), for the tests.
import { createRecognizer, DigitsError } from 'digits-recognizer';
import type { Prediction, RecognizerOptions } from 'digits-recognizer';
import './style.css';

type Assets = Pick<RecognizerOptions, 'wasm' | 'model'>;

export async function start(assets: Assets = {}): Promise<void> {
  const pad = document.querySelector<HTMLCanvasElement>('#pad')!;
  const out = document.querySelector<HTMLOutputElement>('#prediction')!;
  const status = document.querySelector<HTMLElement>('#status')!;
  const ctx = pad.getContext('2d')!;
  const clear = (): void => {
    ctx.fillStyle = '#fff';
    ctx.fillRect(0, 0, pad.width, pad.height);
    show(null);
  };
  const show = (r: Prediction | null): void => {
    out.dataset.digit = r?.digit == null ? '' : String(r.digit);
    out.dataset.state = r == null || r.empty ? 'empty' : r.digit == null ? 'unsure' : 'sure';
    out.dataset.confidence = String(r?.confidence ?? 0);
    out.textContent = r?.digit == null ? '…' : `${r.digit} (${(r.confidence * 100).toFixed(1)}%)`;
  };
  clear();

  const worker = new URLSearchParams(location.search).has('worker');
  const explain = (e: unknown): string =>
    e instanceof DigitsError ? `${e.codeName}: ${e.message}` : String(e);
  let recognizer;
  try {
    recognizer = worker ? await createRecognizer({ worker: true, ...assets })
      : await createRecognizer(assets);
  } catch (e) {
    status.textContent = `Cannot start: ${explain(e)}`;
    return;
  }
  status.textContent = `${recognizer.variant} build${worker ? ', in a worker' : ''}`;
  document.documentElement.dataset.build = recognizer.variant;
  document.documentElement.dataset.ready = '1';

  const read = async (): Promise<void> => {
    try {
      show(await recognizer.predict(pad));
    } catch (e) {
      status.textContent = explain(e);
    }
  };

  let last: [number, number] | null = null;
  const at = (e: PointerEvent): [number, number] => {
    const b = pad.getBoundingClientRect();
    return [(e.clientX - b.left) * (pad.width / b.width), (e.clientY - b.top) * (pad.height / b.height)];
  };
  pad.addEventListener('pointerdown', (e) => {
    pad.setPointerCapture(e.pointerId);
    last = at(e);
  });
  pad.addEventListener('pointermove', (e) => {
    if (!last) return;
    const p = at(e);
    ctx.strokeStyle = '#000';
    ctx.lineWidth = 18;
    ctx.lineCap = ctx.lineJoin = 'round';
    ctx.beginPath();
    ctx.moveTo(...last);
    ctx.lineTo(...p);
    ctx.stroke();
    last = p;
  });
  pad.addEventListener('pointerup', () => {
    last = null;
    void read();
  });
  document.querySelector('#clear')!.addEventListener('click', clear);
}
