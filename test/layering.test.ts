/**
 * The layers' rules, read from the source of src/: the transports (http/, slack/) never import
 * db/; core/ imports nothing from db/ (the composition roots — app.ts, the CLIs, the workers —
 * build the stores and hand them in); db/ takes from core/ only the vocabulary and the interfaces
 * it implements; no SQL outside db/; no file over 300 lines.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const src = join(root, 'src');

/** The core modules db/ may import, by path under src/core (any name). */
const dbMayImportFromCore = [
  'core/vocabulary.ts', // statuses, kinds, Actor
  'core/keys.ts', // normalized e-mail, e-mail hash, batch id format
  'core/health.ts', // HealthStore
  'core/stores.ts', // Stores: the set of interfaces db/sqlite/stores.ts builds
  'core/text-fold.ts', // how text filters compare: both databases fold with its table
];
/** Store interfaces (`core/<area>/<name>-store.ts`) are what db/ implements. */
const storeInterface = /^core\/(?:[a-z0-9-]+\/)*[a-z0-9-]+-store\.ts$/;
/** core/types.ts re-exports the vocabulary: db/ may take those names from it, nothing else. */
const vocabularyNames = new Set(
  [...read(join(src, 'core/vocabulary.ts')).matchAll(/^export (?:const|type|function) (\w+)/gm)].map(
    (m) => m[1]!,
  ),
);

type Import = { file: string; target: string; names: string[] | null; line: string };

function read(path: string): string {
  return readFileSync(path, 'utf8');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** `a, type B, c as d` → ['a', 'B', 'c']; null for `* as x`, a default import or a bare import. */
function namedImports(clause: string): string[] | null {
  const braces = /^\s*(?:type\s+)?\{([^}]*)\}\s*$/.exec(clause);
  if (!braces) return null;
  return braces[1]!
    .split(',')
    .map((n) =>
      n
        .trim()
        .replace(/^type\s+/, '')
        .split(/\s+as\s+/)[0]!
        .trim(),
    )
    .filter(Boolean);
}

/** Every relative import and re-export of every file under src/, as paths under src/ ('db/schema.ts'). */
function imports(): Import[] {
  const statement = /^\s*(?:import|export)\s+(?:([^;'"]*?)\s+from\s+)?['"]([^'"]+)['"]/gm;
  const dynamic = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;
  return sourceFiles(src).flatMap((path) => {
    const text = read(path);
    const file = relative(src, path).split('\\').join('/');
    const found = [
      ...[...text.matchAll(statement)].map((m) => ({ clause: m[1] ?? '', spec: m[2]!, line: m[0].trim() })),
      ...[...text.matchAll(dynamic)].map((m) => ({ clause: '', spec: m[1]!, line: m[0] })),
    ];
    return found
      .filter((i) => i.spec.startsWith('.'))
      .map((i) => ({
        file,
        target: relative(src, resolve(dirname(path), i.spec))
          .split('\\')
          .join('/')
          .replace(/\.js$/, '.ts'),
        names: namedImports(i.clause),
        line: i.line.replace(/\s+/g, ' '),
      }));
  });
}

const all = imports();
const show = (list: Import[]) => list.map((i) => `${i.file}: ${i.line}`);
const layer = (path: string) => posix.normalize(path).split('/')[0]!;

/** A transport (http/, slack/) reaching into db/. */
const transportIntoDb = (i: Import) => ['http', 'slack'].includes(layer(i.file)) && layer(i.target) === 'db';

/** core/ reaching into db/ (stores are handed in by the composition root). */
const coreIntoDb = (i: Import) => layer(i.file) === 'core' && layer(i.target) === 'db';

/** SQL outside db/: the database drivers, the query builder, prepared statements, SQL text. */
const sqlMarkers = [
  /from ['"](?:better-sqlite3|drizzle-orm|pg)[^'"]*['"]/,
  /\.prepare\(\s*[`'"]/,
  /\bsql`/,
  /[`'"]\s*(?:SELECT|INSERT INTO|UPDATE \w+ SET|DELETE FROM|PRAGMA)\b/,
];
const sqlOutsideDb = (file: string, text: string) =>
  !file.startsWith('db/') && sqlMarkers.some((m) => m.test(text));

/** db/ taking from core/ something other than the vocabulary or an interface it implements. */
function dbIntoCore(i: Import): boolean {
  if (layer(i.file) !== 'db' || layer(i.target) !== 'core') return false;
  if (dbMayImportFromCore.includes(i.target) || storeInterface.test(i.target)) return false;
  const onlyVocabulary = i.names?.every((n) => vocabularyNames.has(n)) === true;
  return !(i.target === 'core/types.ts' && onlyVocabulary);
}

describe('layering', () => {
  it('reads the import lines of src/ (so the rules below have something to check)', () => {
    expect(all.some((i) => i.file === 'app.ts' && i.target === 'db/client.ts')).toBe(true);
    expect(all.some((i) => i.file === 'db/schema/batches.ts' && i.target === 'core/vocabulary.ts')).toBe(
      true,
    );
    expect(namedImports('type { A, type B, c as d }')).toEqual(['A', 'B', 'c']);
    expect(vocabularyNames.has('BatchStatus')).toBe(true);
  });

  it('http/ and slack/ import nothing from db/', () => {
    expect(show(all.filter(transportIntoDb))).toEqual([]);
  });

  it('core/ imports nothing from db/', () => {
    expect(show(all.filter(coreIntoDb))).toEqual([]);
  });

  it('no SQL outside db/', () => {
    const files = sourceFiles(src).map((p) => relative(src, p).split('\\').join('/'));
    expect(files.filter((f) => sqlOutsideDb(f, read(join(src, f))))).toEqual([]);
  });

  it('no file in src/ over 300 lines', () => {
    const long = sourceFiles(src)
      .map((p) => ({ file: relative(src, p), lines: read(p).split('\n').length - 1 }))
      .filter((f) => f.lines > 300);
    expect(long).toEqual([]);
  });

  it('db/ imports from core/ only the vocabulary and the interfaces it implements', () => {
    expect(show(all.filter(dbIntoCore))).toEqual([]);
  });

  it('the rules refuse what they should and let the rest through', () => {
    const at = (file: string, target: string, names: string[] | null = null): Import => ({
      file,
      target,
      names,
      line: '',
    });
    expect(transportIntoDb(at('slack/blocks/batches.ts', 'db/schema.ts'))).toBe(true);
    expect(transportIntoDb(at('http/routes/health.ts', 'db/client.ts'))).toBe(true);
    expect(transportIntoDb(at('http/routes/batches.ts', 'core/types.ts'))).toBe(false);
    expect(transportIntoDb(at('app.ts', 'db/client.ts'))).toBe(false);
    expect(dbIntoCore(at('db/legacy-contacts.ts', 'core/batches/batch-service.ts'))).toBe(true);
    expect(dbIntoCore(at('db/sqlite/x-store.ts', 'core/types.ts', ['CoreDeps']))).toBe(true);
    expect(dbIntoCore(at('db/sqlite/x-store.ts', 'core/types.ts', ['BatchStatus']))).toBe(false);
    expect(dbIntoCore(at('db/sqlite/batch-store.ts', 'core/batches/batch-store.ts'))).toBe(false);
    expect(dbIntoCore(at('db/schema.ts', 'core/vocabulary.ts'))).toBe(false);
    expect(coreIntoDb(at('core/batches/batch-service.ts', 'db/sqlite/batch-store.ts'))).toBe(true);
    expect(coreIntoDb(at('core/batches/batch-service.ts', 'core/batches/batch-store.ts'))).toBe(false);
    expect(sqlOutsideDb('core/x.ts', "import { eq } from 'drizzle-orm';")).toBe(true);
    expect(sqlOutsideDb('core/x.ts', 'this.db.prepare(`SELECT 1`)')).toBe(true);
    expect(sqlOutsideDb('core/x.ts', "const q = 'SELECT id FROM batches';")).toBe(true);
    expect(sqlOutsideDb('db/sqlite/x.ts', "import { eq } from 'drizzle-orm';")).toBe(false);
    expect(sqlOutsideDb('core/x.ts', "const text = 'Select a batch to activate';")).toBe(false);
  });
});
