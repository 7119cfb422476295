// Ground truth of a rendered page, measured in the page itself: every visible line (a column in vertical
// writing) with its text in reading order and its box in CSS pixels, from Range.getClientRects per character.
// Blocks that overflow the page are removed first, so that what is measured is what the screenshot shows.
// Ruby annotations (<rt>) are not part of the base text: they are listed per block instead.
(() => {
  const W = window.innerWidth, H = window.innerHeight;
  const blocks = () => Array.from(document.querySelectorAll('[data-block]'));
  const inside = (r) => r.left >= 0 && r.top >= 0 && r.right <= W && r.bottom <= H;
  // drop trailing blocks until everything left fits (a block is all of its text or none of it); any block
  // may stick out, not only the last: in columns the first column's foot runs past the page
  const fits = (all) => all.every(b => Array.from(b.getClientRects()).every(inside))
    && document.documentElement.scrollWidth <= W && document.documentElement.scrollHeight <= H;
  for (let all = blocks(); all.length; all = blocks()) {
    if (fits(all)) break;
    const last = all[all.length - 1];
    const parent = last.parentElement;
    last.remove();
    // an emptied list or table row goes too
    if (parent && parent.matches('ul, ol, tr') && !parent.querySelector('[data-block]')) parent.remove();
  }
  const lines = [];
  const range = document.createRange();
  const out = { lines, blocks: [] };
  for (const block of blocks()) {
    const vertical = getComputedStyle(block).writingMode.startsWith('vertical');
    const info = { id: Number(block.dataset.block), role: block.dataset.role, row: block.dataset.row ?? null,
                   col: block.dataset.col ?? null, text: '', ruby: [] };
    for (const rt of block.querySelectorAll('rt')) {
      const base = Array.from(rt.parentElement.childNodes).filter(n => n.nodeName !== 'RT' && n.nodeName !== 'RP')
        .map(n => n.textContent).join('');
      info.ruby.push({ base, reading: rt.textContent });
    }
    let line = null;
    const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
    for (let node = walker.nextNode(); node; node = walker.nextNode()) {
      if (node.parentElement.closest('rt, rp')) continue;
      const s = node.data;
      for (let i = 0; i < s.length; ) {
        const j = i + (s.codePointAt(i) > 0xffff ? 2 : 1);
        const ch = s.slice(i, j);
        range.setStart(node, i); range.setEnd(node, j);
        i = j;
        const r = Array.from(range.getClientRects()).find(x => x.width > 0 || x.height > 0);
        if (!r) continue;  // collapsed white space
        const blank = /\s/.test(ch);
        let fresh = line === null;
        if (!fresh && !blank && line.last) {
          const p = line.last;
          fresh = vertical
            ? Math.abs(r.left - p.left) > p.width / 2 || r.top < p.top - 1
            : Math.abs(r.top - p.top) > p.height / 2 || r.left < p.left - 1;
        }
        if (fresh) {
          if (blank) continue;  // a line does not start with the space that wrapped
          line = { text: '', block: info.id, role: info.role, vertical, x0: Infinity, y0: Infinity, x1: -Infinity, y1: -Infinity, last: null };
          lines.push(line);
        }
        line.text += ch;
        if (!blank) {
          line.x0 = Math.min(line.x0, r.left); line.y0 = Math.min(line.y0, r.top);
          line.x1 = Math.max(line.x1, r.right); line.y1 = Math.max(line.y1, r.bottom);
          line.last = r;
        }
      }
    }
    out.blocks.push(info);
  }
  // a line's box spans the font's ascent to descent, which on a ruby line holds the ruby too: clip it to
  // the base text's side of each <rt> it overlaps, so a crop of the box shows the line and not its readings
  const rubies = Array.from(document.querySelectorAll('rt')).flatMap(rt => Array.from(rt.getClientRects()));
  for (const l of lines) {
    const vertical = l.vertical && l.text.length > 1;
    for (const r of rubies) {
      if (r.right <= l.x0 || r.left >= l.x1 || r.bottom <= l.y0 || r.top >= l.y1) continue;
      // ruby stands on the right of a column and above a row; a rect on the other side is another line's
      if (vertical && r.left > (l.x0 + l.x1) / 2) l.x1 = Math.min(l.x1, r.left);
      if (!vertical && r.bottom < (l.y0 + l.y1) / 2) l.y0 = Math.max(l.y0, r.bottom);
    }
  }
  for (const l of lines) {
    l.text = l.text.trim();
    l.box = [Math.floor(l.x0), Math.floor(l.y0), Math.ceil(l.x1), Math.ceil(l.y1)];
    delete l.x0; delete l.y0; delete l.x1; delete l.y1; delete l.last;
  }
  out.lines = lines.filter(l => l.text);
  return out;
})()
