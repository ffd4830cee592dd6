/**
 * The window is never blank: index.html's static shell ("Custodian — Starting…") is painted
 * before the React app is even evaluated (docs/desktop-app.md "Accessibility and layout"). The
 * entry waits for one frame, then imports the app chunk (build/bundle.mjs splits it off).
 * @module
 */

/** Runs `load` after the browser painted the current document once. */
export function afterFirstPaint(load: () => Promise<void>): void {
  requestAnimationFrame(() => {
    setTimeout(() => {
      void load().catch((e: unknown) => {
        const root = document.getElementById('root');
        if (root !== null) root.textContent = `Custodian could not start: ${String(e)}`;
      });
    }, 0);
  });
}
