// Reads the truth of one rendered screen from the DOM: the client rects of every value span
// (data-v) and decoy span (data-d), and the non-personal words (for the text-layer check).
// Personal text is never returned: only its boxes.
(() => {
  const inside = (r) => r.left >= -0.5 && r.top >= -0.5 && r.right <= innerWidth + 0.5 && r.bottom <= innerHeight + 0.5;
  // Visible where the element itself is hit at its left, centre and right (not clipped, not covered).
  const hits = (el, r) => {
    const y = r.top + r.height / 2;
    const inset = Math.min(2.5, r.width / 4);  // hit testing rounds inline boxes' edges
    return [r.left + inset, r.left + r.width / 2, r.right - inset].every((x) => {
      const h = document.elementFromPoint(x, y);
      return h !== null && (h === el || el.contains(h));
    });
  };
  const rectsOf = (el) => Array.from(el.getClientRects()).filter((r) => r.width >= 1 && r.height >= 1);

  window.__veilCollect = () => {
    const marks = [];
    for (const el of document.querySelectorAll('[data-v],[data-d]')) {
      const rects = rectsOf(el);
      if (!rects.length) continue;
      const shown = rects.every((r) => inside(r) && hits(el, r));
      marks.push({v: el.dataset.v || null, d: el.dataset.d || null, n: el.dataset.n || '',
                  partial: el.dataset.partial === '1', shown,
                  rects: rects.map((r) => [r.left, r.top, r.width, r.height])});
    }
    const words = [];
    const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      const parent = node.parentElement;
      if (!parent || parent.closest('[data-v]') || parent.closest('style,script')) continue;
      for (const m of node.textContent.matchAll(/\S+/g)) {
        const range = document.createRange();
        range.setStart(node, m.index);
        range.setEnd(node, m.index + m[0].length);
        const rects = Array.from(range.getClientRects()).filter((r) => r.width >= 1 && r.height >= 1);
        if (rects.length === 1) {
          if (inside(rects[0]) && hits(parent, rects[0])) words.push({t: m[0], r: [rects[0].left, rects[0].top, rects[0].width, rects[0].height]});
          continue;
        }
        // A run wrapped over lines (CJK): one entry per character.
        for (let k = 0; k < m[0].length; k++) {
          range.setStart(node, m.index + k);
          range.setEnd(node, m.index + k + 1);
          const r = range.getBoundingClientRect();
          if (r.width >= 1 && inside(r) && hits(parent, r)) words.push({t: m[0][k], r: [r.left, r.top, r.width, r.height]});
        }
      }
    }
    return {marks, words};
  };

  window.__veilType = (fraction) => {
    const el = document.querySelector('[data-typed]');
    if (!el) return;
    if (el.__full === undefined) el.__full = el.textContent;
    const n = Math.max(1, Math.round(el.__full.length * fraction));
    el.textContent = el.__full.slice(0, n);
    el.dataset.partial = n < el.__full.length ? '1' : '0';
  };

  window.__veilScroll = (selector, step) => {
    const el = selector === 'html' ? document.scrollingElement : document.querySelector(selector);
    if (el) el.scrollTop = Math.round(step * el.clientHeight * 0.3);
  };
})();
