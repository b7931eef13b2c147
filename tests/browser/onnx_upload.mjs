// tests/browser/onnx_upload.mjs (ctest browser_onnx_upload): the page's
// "Load a model file" takes an .onnx file (issue 20), converted in
// WebAssembly by the C importer, in headless Chromium:
//   - a PyTorch LeNet export (tests/data/onnx/lenet_op13.onnx) loads, the
//     pad uses it and reads a drawn 7 with it, and the model the panel
//     keeps for saving is a digits file (safetensors), not the ONNX bytes;
//   - an ONNX file with operators the importer does not know (an LSTM) is
//     refused with the importer's one-line message and the pad keeps its
//     model.
// node:test: `node --test-name-pattern=REGEX` runs some; exit status 1 on failure.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, drawMouse, reading, openSession, closeSession } from './lib/harness.mjs';

const sel = (id) => `[data-testid="${id}"]`;
const ONNX = path.join(process.env.DIGITS_TESTDATA || path.join(ROOT, 'tests', 'data'), 'onnx');

async function upload(page, name) {
  await page.evaluate(() => scrollTo(0, 0));
  await page.setInputFiles(sel('model-file'), { name, mimeType: 'application/octet-stream',
                                                buffer: fs.readFileSync(path.join(ONNX, name)) });
  await page.waitForFunction((n) => /^(Loaded|Cannot load) /.test(document
    .querySelector('[data-testid="train-note"]').textContent) &&
    document.querySelector('[data-testid="train-note"]').textContent.includes(n), name,
  { timeout: 15000 });
  return page.textContent(sel('train-note'));
}

describe('browser: .onnx model upload', () => {
  let srv = null, b = null, page = null;
  before(async () => {
    ({ srv, b, page } = await openSession());
  });
  after(async () => {
    await closeSession({ srv, b });
  });

  test('an unsupported ONNX file is refused with the importer\'s message', async () => {
    const model = await page.getAttribute('html', 'data-model');
    const note = await upload(page, 'bad_lstm.onnx');
    console.log(`     ${note}`);
    assert.match(note, /^Cannot load bad_lstm\.onnx: ONNX node "[^"]+" \((\w+)\): operator \1 is not supported \(nor .*LSTM/);
    assert.equal(await page.getAttribute('html', 'data-model'), model, 'the model changed');
  });

  test('a PyTorch LeNet .onnx loads and the pad reads with it', async () => {
    const note = await upload(page, 'lenet_op13.onnx');
    assert.equal(note, 'Loaded lenet_op13.onnx: the pad uses it now.');
    assert.equal(await page.getAttribute('html', 'data-model'), 'lenet_op13');
    await page.click(sel('clear'));
    await drawMouse(page, 7);
    const r = await reading(page);
    assert.equal(r.digit, 7, `the converted LeNet read ${JSON.stringify(r)}`);
  });

  test('the panel keeps it as a digits model file', async () => {
    /* the Download button's blob, caught on its way to the link */
    await page.evaluate(() => {
      const make = URL.createObjectURL;
      URL.createObjectURL = (blob) => { window.__downloaded = blob; return make(blob); };
    });
    await page.locator(sel('model-download')).dispatchEvent('click'); /* in the closed panel */
    const bytes = Buffer.from(await page.evaluate(async () => {
      for (let i = 0; i < 100 && !window.__downloaded; i++) await new Promise((r) => setTimeout(r, 50));
      return [...new Uint8Array(await window.__downloaded.arrayBuffer())];
    }));
    assert.ok(bytes.length > 9 && bytes[8] === 0x7b, 'a safetensors file (JSON header)');
    assert.match(bytes.subarray(8, 8 + 4000).toString('latin1'), /"converted_from":"ONNX \(opset 13/);
  });

  test('no console errors', () => {
    assert.equal(b.errors.length, 0, b.errors.join('\n'));
  });
});
