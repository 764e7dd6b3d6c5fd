/**
 * `--progress json`: stderr carries JSON lines only (issue 19), so a program reading it never meets
 * a line it cannot parse. Progress objects and the summary are written as JSON by their code;
 * every other message (warnings, rejections, errors, the lines of format commands) is turned into
 * one here, at the stream, so no message path can slip through as plain text:
 * `threadmill: error [CODE]: text` → {"type":"error","code":…,"message":…},
 * `threadmill: warning: text` → {"type":"warning",…}, `threadmill: rejected text` → {"type":"rejected",…},
 * anything else → {"type":"message","message":…}.
 */

/** True when the command line asks for `--progress json` (read before commander runs, so its own usage errors are JSON too). */
export function jsonProgressAsked(argv: readonly string[]): boolean {
  return argv.some((a, i) => a === '--progress=json' || (a === '--progress' && argv[i + 1] === 'json'));
}

export function messageToJson(line: string): string {
  if (line.startsWith('{')) {
    try {
      JSON.parse(line);
      return line;
    } catch {
      // not JSON after all: wrapped below
    }
  }
  const error = /^threadmill: error \[([A-Z0-9_]+)\]: (.*)$/s.exec(line);
  if (error) return JSON.stringify({ type: 'error', code: error[1], message: error[2] });
  const warning = /^threadmill: warning: (.*)$/s.exec(line);
  if (warning) return JSON.stringify({ type: 'warning', message: warning[1] });
  const rejected = /^threadmill: rejected (.*)$/s.exec(line);
  if (rejected) return JSON.stringify({ type: 'rejected', message: rejected[1] });
  return JSON.stringify({ type: 'message', message: line.replace(/^threadmill: /, '') });
}

let installed = false;

/** Makes every line written to stderr from here on a JSON line (whole lines; a partial line waits for its end or the exit). */
export function jsonStderr(stream: NodeJS.WriteStream = process.stderr): void {
  if (installed) return;
  installed = true;
  const write = stream.write.bind(stream) as (chunk: string, cb?: (err?: Error | null) => void) => boolean;
  let pending = '';
  const convert = (text: string): string => {
    const lines = (pending + text).split('\n');
    pending = lines.pop()!;
    return lines.filter((l) => l.trim() !== '').map((l) => `${messageToJson(l)}\n`).join('');
  };
  stream.write = ((chunk: string | Uint8Array, ...rest: unknown[]): boolean => {
    const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    const cb = rest.find((r): r is (err?: Error | null) => void => typeof r === 'function');
    const out = convert(text);
    if (out === '') {
      if (cb) process.nextTick(cb);
      return true;
    }
    return write(out, cb);
  }) as NodeJS.WriteStream['write'];
  process.on('exit', () => {
    if (pending.trim() !== '') write(`${messageToJson(pending)}\n`);
    pending = '';
  });
}
