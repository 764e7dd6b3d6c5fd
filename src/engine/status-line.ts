/**
 * One line of status on a terminal, redrawn in place, that never changes a terminal mode.
 *
 * Why not cli-progress (used before, issue 19): it turned line wrapping off (`ESC[?7l`) and only
 * turned it back on from a `stop()` that an interrupt or a crash never reached, so after Ctrl-C the
 * shell cut every line at the window's width; its timer redrew the bar over messages, which landed
 * on the bar's line (`…ETA 15sthreadmill: …`). This line is drawn with a carriage return and
 * erase-to-end-of-line only, cut to one column less than the window (so the terminal never wraps
 * it), redrawn on a resize, and erased before anything else is written to the stream: every
 * message starts on a line of its own, and whatever way the process ends (normal end, error,
 * SIGINT, SIGTERM, a closed pipe) there is no mode to restore.
 */
import type { WriteStream } from 'node:tty';

type Write = WriteStream['write'];

export class StatusLine {
  private shown = false;
  private text = '';
  private readonly ownWrite: Write;
  private readonly previous: PropertyDescriptor | undefined;
  private readonly onResize = (): void => this.draw();
  private readonly onExit = (): void => this.clear();

  constructor(private readonly stream: WriteStream) {
    this.previous = Object.getOwnPropertyDescriptor(stream, 'write');
    this.ownWrite = stream.write.bind(stream) as Write;
    // Anything else written to the stream (a warning, an error, the interrupt message) first
    // erases the status line, so it lands at column 0 of a clean line; the next update redraws.
    const foreign = ((chunk: unknown, ...rest: unknown[]) => {
      this.clear();
      return (this.ownWrite as (...a: unknown[]) => boolean)(chunk, ...rest);
    }) as Write;
    stream.write = foreign;
    stream.on('resize', this.onResize);
    process.on('exit', this.onExit);
  }

  /** Width the line may use: one less than the window, so the cursor never reaches the last column. */
  get width(): number {
    return Math.max(1, (this.stream.columns || 80) - 1);
  }

  update(text: string): void {
    this.text = text;
    this.draw();
  }

  /** Leaves the last text on screen and moves below it; the stream is the caller's again. */
  finish(): void {
    if (this.shown) this.ownWrite('\n');
    this.shown = false;
    this.release();
  }

  private draw(): void {
    try {
      this.ownWrite(`\r${cut(this.text, this.width)}\x1b[K`);
      this.shown = true;
    } catch {
      // stderr closed (EPIPE): there is nobody to show the line to.
    }
  }

  private clear(): void {
    if (!this.shown) return;
    this.shown = false;
    try {
      this.ownWrite('\r\x1b[K');
    } catch {
      // as in draw()
    }
  }

  private release(): void {
    if (this.previous) Object.defineProperty(this.stream, 'write', this.previous);
    else delete (this.stream as { write?: Write }).write;
    this.stream.off('resize', this.onResize);
    process.off('exit', this.onExit);
  }
}

/** The first `width` characters (code points) of `text`. */
export function cut(text: string, width: number): string {
  const chars = Array.from(text);
  return chars.length <= width ? text : chars.slice(0, width).join('');
}
