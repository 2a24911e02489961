import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/*
 * The import rules of ../shared/GUIDE.md, checked on the source: no import cycles; nothing imports
 * proxy/ but the composition root; config/ and metrics/ are leaves; the gateway's own paths are a
 * leaf constant everyone may import.
 */

const SRC = dirname(fileURLToPath(import.meta.url));
/** The files that assemble the application, and so may know every part of it. */
const COMPOSITION_ROOT = new Set(['main.ts', 'create-gateway.ts', 'app.module.ts', 'start-primary.ts']);
/** Leaf files anyone may import: constants without imports of their own. */
const SHARED_LEAVES = new Set(['own-paths.ts']);

/** Every non-spec source file, relative to src/, with the source files it imports. */
function importGraph(): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  const visit = (folder: string) => {
    for (const entry of readdirSync(folder, { withFileTypes: true })) {
      const path = join(folder, entry.name);
      if (entry.isDirectory()) visit(path);
      else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.spec.ts')) {
        const text = readFileSync(path, 'utf8');
        const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)\.js'/g)].map((match) =>
          relative(SRC, resolve(dirname(path), `${match[1]}.ts`)),
        );
        graph.set(relative(SRC, path), imports);
      }
    }
  };
  visit(SRC);
  return graph;
}

const folderOf = (file: string) => (file.includes('/') ? file.slice(0, file.indexOf('/')) : file);

describe('import rules', () => {
  const graph = importGraph();

  it('finds the source files and their imports', () => {
    expect(graph.size).toBeGreaterThan(50);
    expect(graph.get('proxy/proxy.middleware.ts')).toContain('balancer/balancer.service.ts');
  });

  it('has no import cycles between files', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const walk = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'visiting');
      for (const imported of graph.get(file) ?? []) walk(imported, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) walk(file, []);
    expect(cycles).toEqual([]);
  });

  it('has no import cycles between folders', () => {
    const edges = new Set<string>();
    for (const [file, imports] of graph) {
      for (const imported of imports) if (folderOf(file) !== folderOf(imported)) edges.add(`${folderOf(file)} -> ${folderOf(imported)}`);
    }
    const both = [...edges].filter((edge) => {
      const [from, to] = edge.split(' -> ');
      return edges.has(`${to} -> ${from}`);
    });
    expect(both).toEqual([]);
  });

  it('lets nothing but the composition root import proxy/', () => {
    const importers = [...graph]
      .filter(([file, imports]) => !file.startsWith('proxy/') && !COMPOSITION_ROOT.has(file) && imports.some((imported) => imported.startsWith('proxy/')))
      .map(([file]) => file);
    expect(importers).toEqual([]);
  });

  it.each(['balancer', 'breaker', 'cluster'])('keeps routing/ above %s/: it never imports routing/ (proxy -> routing -> balancer -> breaker)', (below) => {
    const upward = [...graph]
      .filter(([file, imports]) => file.startsWith(`${below}/`) && imports.some((imported) => imported.startsWith('routing/')))
      .map(([file]) => file);
    expect(upward).toEqual([]);
  });

  it.each(['config', 'metrics'])('keeps %s/ a leaf: it imports nothing of the gateway but shared constants', (leaf) => {
    const outside = [...graph]
      .filter(([file]) => file.startsWith(`${leaf}/`))
      .flatMap(([file, imports]) => imports.filter((imported) => !imported.startsWith(`${leaf}/`) && !SHARED_LEAVES.has(imported)).map((imported) => `${file} -> ${imported}`));
    expect(outside).toEqual([]);
  });

  it('keeps the shared constants leaves themselves', () => {
    for (const leaf of SHARED_LEAVES) expect(graph.get(leaf)).toEqual([]);
  });
});
