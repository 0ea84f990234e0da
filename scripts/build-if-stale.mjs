/**
 * Brings dist/ up to date with src/: `npm start` and the command-line tools run node on dist/ and
 * call this first (their `pre` scripts in package.json), as does `npm install` (`prepare`), so an
 * edit or a `git pull` can never leave them running old code, and an unchanged tree starts at once.
 *
 * dist/.build-stamp records a hash of each source (path and content) and of the tsconfig files;
 * checking it reads ~1.5 MB, a few milliseconds (mtimes would miss a checkout that keeps them). A
 * source whose hash changed is compiled again with TypeScript's transpileModule: one file at a time,
 * no type check (as tsx did; the type check is `npm test`'s), the same output as `tsc -p
 * tsconfig.build.json` (tsconfig sets isolatedModules and verbatimModuleSyntax). The new build goes
 * to a fresh folder that then replaces dist/ whole, so a file removed from src/ leaves nothing
 * behind (a worker thread's entry point is named by a string no compiler follows) and a process
 * starting meanwhile never sees half a build.
 *
 * `node scripts/build-if-stale.mjs [--force]`: --force compiles every file (`npm run build`). Quiet
 * under `npm run -s` (npm_config_loglevel=silent) except for errors. Plain JS, no dependencies but
 * TypeScript, loaded only when something must be compiled.
 */
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const stampName = '.build-stamp';
const sha = (data) => createHash('sha256').update(data).digest('hex');

/** Every .ts file under `dir`, relative to it with `/`, sorted. */
function sourcesUnder(dir) {
  const out = [];
  const walk = (d) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts'))
        out.push(relative(dir, path).replaceAll('\\', '/'));
    }
  };
  if (existsSync(dir)) walk(dir);
  return out.sort();
}

/** What a build of `root` is made from: the tsconfig files' hash and each source's. */
export function fingerprint(root) {
  const config = sha(
    ['tsconfig.json', 'tsconfig.build.json']
      .map((f) => (existsSync(join(root, f)) ? readFileSync(join(root, f), 'utf8') : '(none)'))
      .join('\0'),
  );
  const src = join(root, 'src');
  const files = Object.fromEntries(sourcesUnder(src).map((f) => [f, sha(readFileSync(join(src, f)))]));
  return { config, files };
}

/** The fingerprint `root`/dist was built from, or null. */
function builtFrom(root) {
  try {
    return JSON.parse(readFileSync(join(root, 'dist', stampName), 'utf8'));
  } catch {
    return null;
  }
}

const same = (a, b) => JSON.stringify(a) === JSON.stringify(b);

/**
 * Brings `root`/dist up to date (everything again with `force`); returns 'fresh' or 'built'.
 * Throws when a file does not compile (dist/ is left as it was).
 */
export function ensureBuild(root, { force = false, quiet = false } = {}) {
  const print = (line) => {
    if (!quiet) process.stderr.write(`${line}\n`);
  };
  const now = fingerprint(root);
  const before = force ? null : builtFrom(root);
  if (before && same(before, now)) return 'fresh';
  const dist = join(root, 'dist');
  let ts;
  try {
    ts = createRequire(import.meta.url)('typescript');
  } catch {
    // An install without devDependencies (npm install --omit=dev) cannot compile: it runs what it has.
    if (!existsSync(join(dist, 'main.js')))
      throw new Error('dist/ is missing and TypeScript is not installed');
    print('TypeScript is not installed: running dist/ as it was built');
    return 'fresh';
  }
  const started = performance.now();
  const parsed = ts.getParsedCommandLineOfConfigFile(join(root, 'tsconfig.build.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  // transpileModule does not read package.json: every file is ESM ("type": "module"), which is
  // what NodeNext emits here, so ESNext gives the same output.
  const options = {
    ...parsed.options,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
  };
  const reuse = before && before.config === now.config ? before.files : {};
  const tmp = join(root, `.dist-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  const errors = [];
  let compiled = 0;
  for (const [file, hash] of Object.entries(now.files)) {
    const js = file.replace(/\.ts$/, '.js');
    mkdirSync(dirname(join(tmp, js)), { recursive: true });
    if (reuse[file] === hash && existsSync(join(dist, js))) {
      copyFileSync(join(dist, js), join(tmp, js));
      continue;
    }
    const path = join(root, 'src', file);
    const out = ts.transpileModule(readFileSync(path, 'utf8'), {
      compilerOptions: options,
      fileName: path,
      reportDiagnostics: true,
    });
    for (const d of out.diagnostics ?? []) {
      if (d.category !== ts.DiagnosticCategory.Error) continue;
      const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
      const where = at ? `src/${file}:${at.line + 1}:${at.character + 1}` : `src/${file}`;
      errors.push(`${where}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
    }
    writeFileSync(join(tmp, js), out.outputText);
    compiled++;
  }
  if (errors.length > 0) {
    rmSync(tmp, { recursive: true, force: true });
    throw new Error(`${errors.join('\n')}\nthe build failed: dist/ is unchanged`);
  }
  writeFileSync(join(tmp, stampName), `${JSON.stringify(now)}\n`);
  const old = join(root, `.dist-old-${process.pid}`);
  if (existsSync(dist)) renameSync(dist, old);
  try {
    renameSync(tmp, dist);
  } catch (e) {
    // Another process put its build in place meanwhile: from the same sources, or it checks again.
    if (!existsSync(dist)) throw e;
    rmSync(tmp, { recursive: true, force: true });
  }
  rmSync(old, { recursive: true, force: true });
  const s = ((performance.now() - started) / 1000).toFixed(1);
  print(`Built dist/: ${compiled} of ${Object.keys(now.files).length} files compiled in ${s} s`);
  return 'built';
}

const self = fileURLToPath(import.meta.url);
if (process.argv[1] && pathToFileURL(process.argv[1]).href === pathToFileURL(self).href) {
  try {
    ensureBuild(dirname(dirname(self)), {
      force: process.argv.includes('--force'),
      quiet: process.env.npm_config_loglevel === 'silent',
    });
  } catch (e) {
    process.stderr.write(`coldbatch: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}
