/**
 * From the merged table to fs-scans' tree: which directories are kept, their ids, and the
 * recursive (`_r`) figures rolled up from the deepest level.
 *
 * - The scan root is the shallowest directory that has a line of its own or files directly in it;
 *   directories above it (`/gpfs` of `/gpfs/csfs1/asp`) are not rows, as in fs-scans, whose root is
 *   stored under its last name with no parent.
 * - Every directory below the root that some record lies under is a row, whether or not it had a
 *   line (fs-scans silently drops files whose directory has no line): those are counted as
 *   `created`, and count in their parent's dir_count_nr like any subdirectory.
 * - Ids: by depth, then parent id, then name bytes — fs-scans also numbers by depth from 0; within
 *   a depth it follows its input order, which we do not depend on.
 * - Roll-up follows fs-scans' pass2b exactly, including that a directory with subdirectories but
 *   no file anywhere below gets max_atime_r = 0 (its SQL takes MAX(COALESCE(x, 0), …)).
 */
import { MANY, NONE } from './aggregate.js';
import { combineOwner, type DirTable } from './merge.js';

/** max_atime_r of a directory with subdirectories and no access time below: fs-scans stores 0. */
export const ATIME_ZERO = -1e18;

export interface Tree {
  /** Rows in id order: order[id] is the table index. */
  order: Int32Array;
  /** Table index → id, -1 for directories above the root. */
  idOf: Int32Array;
  rootDepth: number;
  created: number;
  dirsNr: Float64Array;
  filesR: Float64Array;
  sizeR: BigInt64Array;
  dirsR: Float64Array;
  atimeR: Float64Array;
  /** Recursive owner / group state by id (NONE, MANY or the id). */
  uidR: Float64Array;
  gidR: Float64Array;
}

function compareNames(t: DirTable, a: number, b: number): number {
  const x = t.nameOf(a), y = t.nameOf(b);
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) if (x[i] !== y[i]) return x[i]! - y[i]!;
  return x.length - y.length;
}

function rootDepthOf(t: DirTable): number {
  let d = Infinity;
  for (let i = 0; i < t.count; i++) if ((t.own[i] || t.files[i]! > 0) && t.depth[i]! < d) d = t.depth[i]!;
  return d;
}

/** Ids by depth, then parent id, then name. */
function number(t: DirTable, rootDepth: number): { order: Int32Array; idOf: Int32Array } {
  const levels: number[][] = [];
  for (let i = 0; i < t.count; i++) {
    const d = t.depth[i]!;
    if (d >= rootDepth) (levels[d - rootDepth] ??= []).push(i);
  }
  const idOf = new Int32Array(t.count).fill(-1);
  const order: number[] = [];
  for (const level of levels) {
    if (!level) continue;
    level.sort((a, b) => {
      const pa = t.depth[a] === rootDepth ? -1 : idOf[t.parent[a]!]!;
      const pb = t.depth[b] === rootDepth ? -1 : idOf[t.parent[b]!]!;
      return pa - pb || compareNames(t, a, b);
    });
    for (const i of level) {
      idOf[i] = order.length;
      order.push(i);
    }
  }
  return { order: Int32Array.from(order), idOf };
}

export function buildTree(t: DirTable): Tree {
  const rootDepth = rootDepthOf(t);
  const { order, idOf } = number(t, rootDepth);
  const n = order.length;
  const dirsNr = new Float64Array(n), filesR = new Float64Array(n), dirsR = new Float64Array(n), atimeR = new Float64Array(n);
  const sizeR = new BigInt64Array(n), uidR = new Float64Array(n), gidR = new Float64Array(n);
  const hasChild = new Uint8Array(n);
  let created = 0;
  for (let id = 0; id < n; id++) {
    const i = order[id]!;
    dirsNr[id] = dirsNr[id]! + t.dirLines[i]!;
    filesR[id] = t.files[i]!;
    sizeR[id] = t.size[i]!;
    atimeR[id] = t.atime[i]!;
    uidR[id] = t.uid[i]!;
    gidR[id] = t.gid[i]!;
    if (!t.own[i]) created++;
    if (t.depth[i] === rootDepth) continue;
    const p = idOf[t.parent[i]!]!;
    hasChild[p] = 1;
    if (!t.own[i]) dirsNr[p] = dirsNr[p]! + 1; // a created directory is still a subdirectory
  }
  for (let id = 0; id < n; id++) dirsR[id] = dirsNr[id]!;
  for (let id = n - 1; id >= 0; id--) {
    if (hasChild[id] && atimeR[id]! < ATIME_ZERO) atimeR[id] = ATIME_ZERO;
    const i = order[id]!;
    if (t.depth[i] === rootDepth) continue;
    const p = idOf[t.parent[i]!]!;
    filesR[p] = filesR[p]! + filesR[id]!;
    sizeR[p] = sizeR[p]! + sizeR[id]!;
    dirsR[p] = dirsR[p]! + dirsR[id]!;
    if (atimeR[id]! > atimeR[p]!) atimeR[p] = atimeR[id]!;
    uidR[p] = combineOwner(uidR[p]!, uidR[id]!);
    gidR[p] = combineOwner(gidR[p]!, gidR[id]!);
  }
  return { order, idOf, rootDepth: n === 0 ? 0 : rootDepth, created, dirsNr, filesR, sizeR, dirsR, atimeR, uidR, gidR };
}

/** The owner_uid / owner_gid column value of a state: -1 none, NULL several, else the id. */
export function ownerValue(state: number): number | null {
  return state === MANY ? null : state === NONE ? -1 : state;
}
