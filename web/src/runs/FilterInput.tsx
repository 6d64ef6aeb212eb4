import { useRef, useState } from 'preact/hooks';
import type { Keys } from './RunsTable';

const PREFIXES: [string, keyof Keys][] = [['metrics.', 'metrics'], ['params.', 'params'], ['tags.', 'tags']];

/** quoteKey writes a key as the filter grammar wants it: bare when it is a plain name, else in backticks. */
function quoteKey(k: string): string {
  return /^[A-Za-z_][\w.]*$/.test(k) ? k : '`' + k + '`';
}

/**
 * suggest answers the completions of the word before the caret: the keys
 * of an entity after "metrics.", "params." or "tags.", or for a bare word
 * the keys of any entity that contain it.
 */
export function suggest(text: string, caret: number, keys: Keys): { from: number; items: string[] } {
  const before = text.slice(0, caret);
  const m = /([A-Za-z_]+\.)?`?([^\s`'"=<>!()]*)$/.exec(before);
  if (!m) return { from: caret, items: [] };
  const from = caret - m[0].length;
  const word = m[2].toLowerCase();
  const prefix = m[1]?.toLowerCase();
  const items: string[] = [];
  for (const [p, kind] of PREFIXES) {
    if (prefix && prefix !== p && !(prefix === 'metric.' && p === 'metrics.') && !(prefix === 'param.' && p === 'params.') && !(prefix === 'tag.' && p === 'tags.')) continue;
    if (!prefix && !word) continue;
    for (const k of keys[kind]) if (k.toLowerCase().includes(word)) items.push(p + quoteKey(k));
  }
  // Keys that start with the word first.
  const starts = (s: string) => s.slice(s.indexOf('.') + 1).replace(/^`/, '').toLowerCase().startsWith(word);
  items.sort((a, b) => Number(starts(b)) - Number(starts(a)));
  return { from, items: items.slice(0, 12) };
}

/** FilterInput is the runs search box, with completion of metric, parameter and tag keys. */
export function FilterInput({ value, onInput, keys }: { value: string; onInput: (v: string) => void; keys: Keys }) {
  const ref = useRef<HTMLInputElement>(null);
  const [sug, setSug] = useState<{ from: number; items: string[] }>({ from: 0, items: [] });
  const [active, setActive] = useState(0);
  const update = (v: string) => {
    const caret = ref.current?.selectionStart ?? v.length;
    setSug(suggest(v, caret, keys));
    setActive(0);
  };
  const accept = (item: string) => {
    const el = ref.current!;
    const caret = el.selectionStart ?? value.length;
    const next = value.slice(0, sug.from) + item + ' ' + value.slice(caret);
    onInput(next);
    setSug({ from: 0, items: [] });
    requestAnimationFrame(() => { el.focus(); const p = sug.from + item.length + 1; el.setSelectionRange(p, p); });
  };
  return (
    <div class="filter-box">
      <input ref={ref} class="search filter-input" name="filter" value={value} spellcheck={false} autocomplete="off"
        role="combobox" aria-expanded={sug.items.length > 0} aria-autocomplete="list"
        placeholder={`Search run names, or filter: metrics.accuracy > 0.9 and params.lr = '0.01' and tags.team = 'vision'`}
        onInput={(e) => { const v = (e.target as HTMLInputElement).value; onInput(v); update(v); }}
        onBlur={() => setTimeout(() => setSug({ from: 0, items: [] }), 150)}
        onKeyDown={(e) => {
          if (!sug.items.length) return;
          if (e.key === 'ArrowDown') { e.preventDefault(); setActive((active + 1) % sug.items.length); }
          else if (e.key === 'ArrowUp') { e.preventDefault(); setActive((active - 1 + sug.items.length) % sug.items.length); }
          else if (e.key === 'Tab' || (e.key === 'Enter' && sug.items.length)) { e.preventDefault(); accept(sug.items[active]); }
          else if (e.key === 'Escape') setSug({ from: 0, items: [] });
        }} />
      {sug.items.length ? (
        <ul class="suggestions" role="listbox">
          {sug.items.map((s, i) => (
            <li key={s} role="option" aria-selected={i === active} class={i === active ? 'active' : ''} data-suggestion={s}
              onMouseDown={(e) => { e.preventDefault(); accept(s); }}>{s}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
