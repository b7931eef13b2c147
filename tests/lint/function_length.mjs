/* function_length.mjs: the function-length rule of issue 19 (no function
 * longer than 120 lines in src/ and web/), as a check that lists every
 * offender as FILE:LINE NAME (N lines) and exits 1 if there is any.
 *
 *   node tests/lint/function_length.mjs [--max N] [ROOT]
 *
 * C (.c, .h under src/): a scanner of top-level function bodies, counted
 * from the signature's first line to the closing brace. Comments, strings,
 * character literals and preprocessor lines are blanked first, so braces
 * inside them do not count; `extern "C" {` opens no body.
 * JS (.js, .mjs under web/, except generated files: web/sw.js, web/build/,
 * node_modules): parsed with acorn, so every kind of function is seen
 * (declarations, expressions, arrows, methods); a function's length
 * includes the closures inside it, and a long closure is listed too. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);

/* acorn from node_modules or NODE_PATH, else Debian's (installed with
 * emscripten, whose optimizer needs it too) */
function loadAcorn() {
  for (const id of ['acorn', '/usr/share/nodejs/acorn']) {
    try { return require(id); } catch { /* try the next place */ }
  }
  throw new Error('acorn not found: install Debian node-acorn (or emscripten), or npm install');
}

/* Every file under dir whose name ends with one of exts, skipping the
 * relative paths in skip (files or folders). */
function walk(dir, exts, skip, root) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name), rel = relative(root, path);
    if (skip.some((s) => rel === s || rel.startsWith(`${s}/`))) continue;
    if (statSync(path).isDirectory()) out.push(...walk(path, exts, skip, root));
    else if (exts.some((e) => name.endsWith(e))) out.push(path);
  }
  return out;
}

/* ---- C ------------------------------------------------------------------- */

/* The text with comments, string and character literals and preprocessor
 * lines (with their continuations) replaced by spaces; newlines kept, so
 * offsets map to the same lines. */
function blankC(src) {
  const out = src.split('');
  const blank = (from, to) => { for (let k = from; k < to; k++) if (out[k] !== '\n') out[k] = ' '; };
  let i = 0, lineStart = true;
  while (i < src.length) {
    const c = src[i], n = src[i + 1];
    if (lineStart && /[ \t]/.test(c)) { i++; continue; }
    if (lineStart && c === '#') {
      let j = i;
      while (j < src.length && !(src[j] === '\n' && src[j - 1] !== '\\')) j++;
      blank(i, j);
      i = j;
      continue;
    }
    lineStart = c === '\n';
    let j = i;
    if (c === '/' && n === '*') {
      j = src.indexOf('*/', i + 2);
      j = j < 0 ? src.length : j + 2;
    } else if (c === '/' && n === '/') {
      while (j < src.length && src[j] !== '\n') j++;
    } else if (c === '"' || c === "'") {
      j++;
      while (j < src.length && src[j] !== c && src[j] !== '\n') j += src[j] === '\\' ? 2 : 1;
      j++;
    } else {
      i++;
      continue;
    }
    blank(i, j);
    i = j;
  }
  return out.join('');
}

/* Top-level functions of a C file: [{name, line, lines}]. A body is a
 * top-level `{` whose declaration (the text since the previous top-level
 * `;` or `}`) ends with `)` and has no `=` (not an initializer). */
export function cFunctions(src) {
  const text = blankC(src);
  const lineAt = [];
  for (let i = 0, line = 1; i <= text.length; i++) {
    lineAt.push(line);
    if (text[i] === '\n') line++;
  }
  const found = [];
  let depth = 0, declStart = 0, externs = 0, fn = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '{') {
      if (depth === 0) {
        const decl = text.slice(declStart, i).trim();
        if (/\bextern$/.test(decl)) {  /* extern "C" {, its string blanked */
          externs++;
          declStart = i + 1;
          continue;
        }
        if (decl.endsWith(')') && !decl.includes('=')) {
          const name = /([A-Za-z_]\w*)\s*\([^()]*(\([^()]*\)[^()]*)*\)\s*$/.exec(decl)?.[1] ?? '?';
          const first = declStart + text.slice(declStart).search(/\S/);
          fn = { name, line: lineAt[first] };
        }
      }
      depth++;
    } else if (c === '}') {
      if (depth === 0 && externs > 0) {
        externs--;
      } else if (--depth === 0) {
        if (fn) found.push({ ...fn, lines: lineAt[i] - fn.line + 1 });
        fn = null;
      }
      if (depth === 0) declStart = i + 1;
    } else if (c === ';' && depth === 0) {
      declStart = i + 1;
    }
  }
  return found;
}

/* ---- JS ------------------------------------------------------------------ */

const FUNCTION = new Set(['FunctionDeclaration', 'FunctionExpression', 'ArrowFunctionExpression']);

/* A readable name for a function node, from where it sits. */
function jsName(node, parent) {
  if (node.id) return node.id.name;
  const key = (k) => (k.type === 'Identifier' ? k.name : k.type === 'Literal' ? String(k.value) : '[computed]');
  if (!parent) return '(anonymous)';
  if (parent.type === 'VariableDeclarator' && parent.id.type === 'Identifier') return parent.id.name;
  if ((parent.type === 'Property' || parent.type === 'MethodDefinition' ||
       parent.type === 'PropertyDefinition') && parent.value === node) return key(parent.key);
  if (parent.type === 'AssignmentExpression') {
    const l = parent.left;
    if (l.type === 'Identifier') return l.name;
    if (l.type === 'MemberExpression') return key(l.property);
  }
  if (parent.type === 'CallExpression') {
    const c = parent.callee;
    const callee = c.type === 'Identifier' ? c.name : c.type === 'MemberExpression' ? key(c.property) : 'call';
    return `(callback of ${callee})`;
  }
  return '(anonymous)';
}

/* Every function of a JS module: [{name, line, lines}], nested ones too. */
export function jsFunctions(src, acorn) {
  const ast = acorn.parse(src, { ecmaVersion: 'latest', sourceType: 'module', locations: true,
                                 allowHashBang: true });
  const found = [];
  const visit = (node, parent) => {
    if (FUNCTION.has(node.type))
      found.push({ name: jsName(node, parent), line: node.loc.start.line,
                   lines: node.loc.end.line - node.loc.start.line + 1 });
    for (const k of Object.keys(node)) {
      if (k === 'loc') continue;
      const v = node[k];
      if (Array.isArray(v)) v.forEach((x) => x && typeof x.type === 'string' && visit(x, node));
      else if (v && typeof v.type === 'string') visit(v, node);
    }
  };
  visit(ast, null);
  return found;
}

/* ---- main ---------------------------------------------------------------- */

function main(argv) {
  let max = 120, root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--max') max = Number(argv[++i]);
    else root = resolve(argv[i]);
  }
  if (!(max > 0)) throw new Error('--max needs a positive number');
  const acorn = loadAcorn();
  const cFiles = walk(join(root, 'src'), ['.c', '.h'], [], root);
  const jsFiles = walk(join(root, 'web'), ['.js', '.mjs'],
                       ['web/sw.js', 'web/build', 'web/node_modules'], root)
    .filter((f) => !f.includes('/node_modules/'));
  const long = [];
  for (const [files, scan] of [[cFiles, cFunctions], [jsFiles, (s) => jsFunctions(s, acorn)]]) {
    for (const f of files) {
      for (const fn of scan(readFileSync(f, 'utf8')))
        if (fn.lines > max) long.push({ file: relative(root, f), ...fn });
    }
  }
  long.sort((a, b) => b.lines - a.lines);
  for (const fn of long) console.log(`${fn.file}:${fn.line} ${fn.name} (${fn.lines} lines)`);
  console.log(`${cFiles.length} C and ${jsFiles.length} JS files: ` +
              `${long.length} function${long.length === 1 ? '' : 's'} over ${max} lines`);
  return long.length ? 1 : 0;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    process.exitCode = main(process.argv.slice(2));
  } catch (e) {
    console.error(`function_length: ${e.message}`);
    process.exitCode = 2;
  }
}
