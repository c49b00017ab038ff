/**
 * Safe reads from the API server's JSON. Objects come from the network: every field is checked
 * for its type instead of being trusted to match a declared shape.
 */
export const kubeJson = {
  isObject(value: unknown): value is Record<string, unknown> {
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  },

  /** `value[key]` when it is an object. */
  object(value: unknown, key: string): Record<string, unknown> | undefined {
    const field = kubeJson.isObject(value) ? value[key] : undefined;
    return kubeJson.isObject(field) ? field : undefined;
  },

  /** `value[key]` when it is a non-empty string. */
  string(value: unknown, key: string): string | undefined {
    const field = kubeJson.isObject(value) ? value[key] : undefined;
    return typeof field === 'string' && field !== '' ? field : undefined;
  },

  /** `value[key]` when it is an array: its object elements. */
  objects(value: unknown, key: string): Record<string, unknown>[] {
    const field = kubeJson.isObject(value) ? value[key] : undefined;
    return Array.isArray(field) ? field.filter(kubeJson.isObject) : [];
  },

  /** Labels or annotations: a frozen copy with only the string values. */
  stringMap(value: unknown, key: string): Readonly<Record<string, string>> {
    const map: Record<string, string> = {};
    for (const [name, text] of Object.entries(kubeJson.object(value, key) ?? {})) {
      if (typeof text === 'string') map[name] = text;
    }
    return Object.freeze(map);
  },

  /** `metadata.resourceVersion` of a list, an object or a bookmark. */
  resourceVersion(value: unknown): string | undefined {
    return kubeJson.string(kubeJson.object(value, 'metadata'), 'resourceVersion');
  },
};
