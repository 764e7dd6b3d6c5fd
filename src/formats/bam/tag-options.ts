/**
 * `bam convert --tag TAG:TYPE` (repeatable) and `--tags auto|map`: typed tag fields instead of
 * the map of SAM text (typed-tags.ts, tag-sample.ts).
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { positiveInt } from '../../cli/common.js';
import { parseTagSpec, type TagSpec } from './typed-tags.js';
import { sampleTagSpecs } from './tag-sample.js';

export interface TagFlags { tag?: TagSpec[]; tags?: boolean | 'auto' | 'map'; tagsSample?: number }

export function addTagOptions(cmd: Command): Command {
  return cmd
    .option('--tag <TAG:TYPE>', 'write tags as a struct of typed fields, one per --tag (NM:i → int64, XF:f → float32, MD:Z → utf8, ML:B:C → list<uint8>), instead of the map of SAM text; repeat for more', (v: string, prev: TagSpec[] = []) => {
      try {
        const spec = parseTagSpec(v);
        if (prev.some((p) => p.name === spec.name)) throw new InvalidArgumentError(`--tag ${spec.name} given twice`);
        return [...prev, spec];
      } catch (e) {
        throw new InvalidArgumentError((e as Error).message);
      }
    })
    // Declared before commander sees --no-tags, so `tags` stays undefined (the map) unless given.
    .addOption(new Option('--tags <mode>', 'map: tags as a map of SAM text (the default); auto: a typed field for every tag seen in the first --tags-sample records').choices(['map', 'auto']))
    .option('--tags-sample <n>', 'records --tags auto looks at (default 10000)', positiveInt('--tags-sample'));
}

/** The typed fields asked: --tag's, and with --tags auto those the sample finds (--tag's types win). */
export function typedTagsOf(f: TagFlags, input: string): TagSpec[] | undefined {
  const named = f.tag ?? [];
  if (f.tags !== 'auto') return named.length > 0 ? named : undefined;
  const sampled = sampleTagSpecs(input, f.tagsSample ?? 10_000);
  return [...named, ...sampled.filter((s) => !named.some((n) => n.name === s.name))];
}

export const isTagsAuto = (f: { tags?: unknown }): boolean => f.tags === 'auto';

/** Part manifests do not record typed tags. */
export function tagShardRefusal(f: TagFlags): string | undefined {
  return (f.tag && f.tag.length > 0) || f.tags === 'auto' ? '--shard cannot be combined with --tag or --tags auto yet (the part manifest does not record them)' : undefined;
}
