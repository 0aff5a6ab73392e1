import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { ProvinceView } from './province-view.js';

/**
 * `view.json` in the data folder. Each save writes a temporary file and renames it over the old one,
 * so a reader (or a restart after a crash) sees the previous view or the new one, never half of one.
 * Saves run one after the other in the order they were asked for.
 */
export class ViewFile {
  private last: Promise<void> = Promise.resolve();

  constructor(readonly path: string) {}

  /**
   * The saved view, or an empty one when there is no file yet.
   * @throws Error when the file holds another province's view, or cannot be read.
   */
  async load(province: string): Promise<ProvinceView> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return new ProvinceView(province);
      throw e;
    }
    const view = ProvinceView.fromJSON(JSON.parse(text));
    if (view.province !== province) {
      throw new Error(
        `${this.path} holds the view of province ${view.province}, not ${province}: use another DATA_DIR`,
      );
    }
    return view;
  }

  /** Writes the view as it is now. */
  save(view: ProvinceView): Promise<void> {
    const text = `${JSON.stringify(view, null, 2)}\n`;
    const next = this.last.then(async () => {
      await mkdir(dirname(this.path), { recursive: true });
      const temporary = `${this.path}.${process.pid}.tmp`;
      await writeFile(temporary, text);
      await rename(temporary, this.path);
    });
    // A failed save fails its caller; the next save still runs.
    this.last = next.catch(() => undefined);
    return next;
  }
}
