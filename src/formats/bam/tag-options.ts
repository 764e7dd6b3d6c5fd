/** `bam convert --tag TAG:TYPE` (repeatable): typed tag fields instead of the tags map (typed-tags.ts). */
import { InvalidArgumentError, type Command } from 'commander';
import { parseTagSpec, type TagSpec } from './typed-tags.js';

export interface TagFlags { tag?: TagSpec[] }

export function addTagOptions(cmd: Command): Command {
  return cmd.option('--tag <TAG:TYPE>', 'write tags as a struct of typed fields, one per --tag (NM:i → int64, XF:f → float32, MD:Z → utf8), instead of the map of SAM text; repeat for more', (v: string, prev: TagSpec[] = []) => {
    try {
      const spec = parseTagSpec(v);
      if (prev.some((p) => p.name === spec.name)) throw new InvalidArgumentError(`--tag ${spec.name} given twice`);
      return [...prev, spec];
    } catch (e) {
      throw new InvalidArgumentError((e as Error).message);
    }
  });
}

/** Part manifests do not record typed tags. */
export function tagShardRefusal(f: TagFlags): string | undefined {
  return f.tag && f.tag.length > 0 ? '--shard cannot be combined with --tag yet (the part manifest does not record it)' : undefined;
}
