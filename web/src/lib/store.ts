// Small persistent UI preferences in localStorage, namespaced.
export function load<T>(key: string, fallback: T): T {
  try {
    const s = localStorage.getItem('mltrack.' + key);
    return s ? (JSON.parse(s) as T) : fallback;
  } catch {
    return fallback;
  }
}

export function save(key: string, value: unknown) {
  try {
    localStorage.setItem('mltrack.' + key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: preferences are a convenience only */
  }
}
