// An init script for the bench's pages: records performance.now() in `window.__hydratedAt` when
// hydration flips <html data-hydrated>, on the page's own clock (no polling delay in a figure),
// and says so on the console, which interactive.mjs waits for: Playwright's waitForFunction would
// inject and run its own script in the page while it loads (about 10 ms of the page's main thread
// in a trace of /members; the median 0-20 ms higher), a cost no member's browser pays.
export const recordHydration = () => {
  // Observes the document (always there, unlike <html> at this early point) and its subtree.
  new MutationObserver((_, observer) => {
    if (document.documentElement?.dataset.hydrated === 'true') {
      window.__hydratedAt = performance.now();
      observer.disconnect();
      console.debug('keystone-bench: hydrated');
    }
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-hydrated'] });
};
