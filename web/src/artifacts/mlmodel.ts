// Reading an MLmodel file: the small part of YAML MLflow writes there
// (nested mappings by indentation, plain and quoted scalars, quoted strings
// folded over several lines), and the signature's column or tensor specs.

export type YamlValue = string | number | boolean | null | { [k: string]: YamlValue };

function scalar(s: string): YamlValue {
  const t = s.trim();
  if (t.startsWith("'")) return t.slice(1, t.endsWith("'") ? -1 : undefined).replace(/''/g, "'");
  if (t.startsWith('"')) {
    try { return JSON.parse(t); } catch { return t.slice(1, -1); }
  }
  if (t === '' || t === 'null' || t === '~') return null;
  if (t === 'true' || t === 'false') return t === 'true';
  if (/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(t)) return Number(t);
  return t;
}

/** quoteOpen tells whether a quoted scalar continues on the next line. */
function quoteOpen(v: string): boolean {
  const t = v.trim();
  if (t.startsWith("'")) return !t.slice(1).replace(/''/g, '').includes("'");
  if (t.startsWith('"')) return !(t.length > 1 && t.endsWith('"') && !t.endsWith('\\"'));
  return false;
}

/** parseMLmodel reads the mappings of an MLmodel file. */
export function parseMLmodel(text: string): Record<string, YamlValue> {
  const root: Record<string, YamlValue> = {};
  const stack: { indent: number; obj: Record<string, YamlValue> }[] = [{ indent: -1, obj: root }];
  const lines = text.replace(/\r\n?/g, '\n').split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim() || line.trim().startsWith('#')) continue;
    const m = /^(\s*)([^:#]+?):(?:\s+(.*))?$/.exec(line);
    if (!m) continue;
    const indent = m[1].length;
    while (stack.length > 1 && stack[stack.length - 1].indent >= indent) stack.pop();
    const parent = stack[stack.length - 1].obj;
    let v = m[3] ?? '';
    if (v === '' || v === '|' || v === '>') {
      const obj: Record<string, YamlValue> = {};
      parent[m[2].trim()] = obj;
      stack.push({ indent, obj });
      continue;
    }
    // A quoted string YAML folded over lines: joined with a space.
    while (quoteOpen(v) && i + 1 < lines.length) v += ' ' + lines[++i].trim();
    parent[m[2].trim()] = scalar(v);
  }
  return root;
}

export interface SpecRow { name: string; type: string; shape?: string; required?: boolean }

/** specRows turns a signature's inputs or outputs (a JSON string) into table rows. */
export function specRows(json: YamlValue | undefined): SpecRow[] {
  if (typeof json !== 'string' || !json) return [];
  let spec: any[];
  try { spec = JSON.parse(json); } catch { return []; }
  if (!Array.isArray(spec)) return [];
  return spec.map((c, i) => {
    if (c.type === 'tensor') {
      const ts = c['tensor-spec'] || {};
      return { name: c.name || `tensor ${i}`, type: `tensor (${ts.dtype || '?'})`, shape: Array.isArray(ts.shape) ? `(${ts.shape.join(', ')})` : undefined, required: c.required };
    }
    let type = String(c.type ?? '');
    if (c.type === 'array' && c.items) type = `array<${c.items.type}>`;
    if (c.type === 'object') type = 'object';
    return { name: c.name ?? `column ${i}`, type, required: c.required };
  });
}
