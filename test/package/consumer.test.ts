/**
 * The package as a library user gets it (issue 19): `npm pack`, unpacked into an empty project
 * beside links to the installed dependencies (offline: no registry), then `tsc --noEmit` with
 * `strict` and `skipLibCheck: false` over a file that imports it. Also: the exports are exactly
 * the names docs/api.md documents, and the tarball carries LICENSE and every doc the README links.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import ts from 'typescript';

const repo = resolve(import.meta.dirname, '../../..');
const root = mkdtempSync(join(tmpdir(), 'tm-package-'));
const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { dependencies: Record<string, string> };

/** Packs the tarball once (scripts off: dist/ is already built by `npm test`'s pretest). */
function pack(): { tarball: string; files: string[] } {
  const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', root], { cwd: repo, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  const info = (JSON.parse(out) as { filename: string; files: { path: string }[] }[])[0]!;
  return { tarball: join(root, info.filename), files: info.files.map((f) => f.path) };
}
const packed = pack();

test('a strict consumer type-checks against the packed package (skipLibCheck: false)', () => {
  const project = join(root, 'consumer');
  const installed = join(project, 'node_modules', 'threadmill');
  mkdirSync(installed, { recursive: true });
  execFileSync('tar', ['xzf', packed.tarball, '-C', installed, '--strip-components=1']);
  // What `npm install threadmill` brings: its dependencies (not its devDependencies), and the
  // consumer's own @types/node.
  for (const dep of [...Object.keys(manifest.dependencies), '@types/node']) {
    const link = join(project, 'node_modules', dep);
    mkdirSync(dirname(link), { recursive: true });
    symlinkSync(join(repo, 'node_modules', dep), link);
  }
  writeFileSync(join(project, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  writeFileSync(join(project, 'tsconfig.json'), JSON.stringify({ compilerOptions: { target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', strict: true, skipLibCheck: false, noEmit: true, types: ['node'] }, include: ['index.ts'] }));
  writeFileSync(join(project, 'index.ts'), [
    "import * as tm from 'threadmill';",
    "const summary: tm.NostrConvertSummary = await tm.convertNostr({ inputs: ['e.jsonl'], outDir: 'pb' });",
    "const db = new tm.ScanDb('scan.db');",
    "const rows: tm.DirectoryRow[] = db.directories({});",
    "const err: tm.ThreadmillError = new tm.UsageError('x');",
    'console.log(summary.written, rows.length, err.code);',
  ].join('\n'));
  const r = spawnSync(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', project], { encoding: 'utf8' });
  assert.equal(r.status, 0, `tsc --noEmit in a strict consumer:\n${r.stdout}${r.stderr}`);
});

test('the exports are exactly the names docs/api.md documents', () => {
  const documented = new Set<string>();
  for (const line of readFileSync(join(repo, 'docs/api.md'), 'utf8').split('\n')) {
    const names = /^- ((?:`\w+`(?:, )?)+) — /.exec(line);
    if (names) for (const m of names[1]!.matchAll(/`(\w+)`/g)) documented.add(m[1]!);
  }
  const index = join(repo, 'dist/src/index.d.ts');
  const program = ts.createProgram([index], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext });
  const checker = program.getTypeChecker();
  const exported = checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(index)!)!).map((s) => s.name);
  assert.deepEqual([...exported].sort(), [...documented].sort());
});

test('the tarball carries LICENSE, docs/api.md and every doc the README links', () => {
  assert.ok(packed.files.includes('LICENSE'));
  assert.match(readFileSync(join(repo, 'LICENSE'), 'utf8'), /^MIT License/);
  const linked = [...readFileSync(join(repo, 'README.md'), 'utf8').matchAll(/`(docs\/[\w./-]+\.md)`/g)].map((m) => m[1]!);
  assert.ok(linked.length > 3);
  for (const doc of [...linked, 'docs/api.md']) {
    assert.ok(existsSync(join(repo, doc)), `the README links ${doc}, which does not exist`);
    assert.ok(packed.files.includes(doc), `${doc} is not in the package`);
  }
});
