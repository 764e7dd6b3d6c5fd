/**
 * The region arguments and options of `bam convert` and `bam stats`: `in.bam [REGION…]` as
 * samtools view takes them, `--index FILE` and `-M`. Regions are positional arguments after the
 * input; the commands declare one input, so the extra arguments are collected here (before the
 * action runs) into the `regionArgs` flag.
 */
import type { Command } from 'commander';
import type { RegionChoice } from './region-run.js';

export interface RegionFlags { regionArgs?: string[]; index?: string; mergeRegions?: boolean; regionsFile?: string }

export function addRegionOptions(cmd: Command): Command {
  return cmd
    .usage('[options] <input> [region...]')
    .option('--index <file>', 'the .bai or .csi index for regions (default: beside the input, as samtools finds it)')
    .option('--regions-file <bed>', 'only records overlapping the regions of this BED file, each once, in file order (samtools view --region-file; -M implied)')
    .option('-M, --merge-regions', 'with several regions: each record once, in file order (samtools view -M); default: region by region, as given')
    .allowExcessArguments(true)
    .hook('preAction', (_self, run) => {
      run.setOptionValue('regionArgs', run.args.slice(1));
    });
}

/** The regions asked, or undefined for the whole file. */
export function regionChoiceOf(f: RegionFlags): RegionChoice | undefined {
  const regions = f.regionArgs ?? [];
  if (regions.length === 0 && f.regionsFile === undefined) return undefined;
  return { regions, index: f.index, mergeRegions: f.mergeRegions ?? false, ...(f.regionsFile !== undefined ? { bed: f.regionsFile } : {}) };
}

/** Part manifests do not record regions, so a merge could not tell parts of other regions. */
export function regionShardRefusal(f: RegionFlags): string | undefined {
  if ((f.regionArgs ?? []).length > 0 || f.regionsFile !== undefined) return '--shard cannot be combined with regions (the part manifest does not record them); run each region without --shard, or shard the whole file';
  return undefined;
}
