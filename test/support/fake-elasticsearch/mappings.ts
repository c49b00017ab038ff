/**
 * The fake Elasticsearch's mappings: what a real index enforces on the documents written to it.
 * An index starts with the explicit `properties` (and `dynamic_templates`) of the index template
 * that matched when it was created; every new field is then mapped dynamically from its first
 * value and remembered, so a later document that gives the field another shape is refused, as on
 * a real cluster. Only what decides accept-or-refuse is modelled: object versus concrete value,
 * and the value types of long/integer/short/byte, double/float, boolean and date fields.
 *
 * Follows Elasticsearch's `server/src/main/java/org/elasticsearch/index/mapper/DocumentParser.java`
 * (object vs value, the "failed to parse field" and "tried to parse field ... as object" errors),
 * `DynamicFieldsBuilder.java` (string → date when it looks like one, else text with a keyword
 * sub-field; integer → long; decimal → float; boolean → boolean), and the documentation page
 * "Dynamic field mapping" (`date_detection` on by default, `numeric_detection` off).
 */

export interface FieldMapping {
  readonly type?: string;
  readonly properties?: Readonly<Record<string, FieldMapping>>;
}

export interface TemplateMappings {
  readonly properties?: Readonly<Record<string, FieldMapping>>;
  readonly dynamic_templates?: ReadonlyArray<Readonly<Record<string, { path_match?: string; match?: string; match_mapping_type?: string; mapping?: { type?: string } }>>>;
  readonly date_detection?: boolean;
}

/** A refusal, as the item's `error` carries it (its `type` is set by the caller: it depends on the version). */
export interface MappingFailure {
  readonly reason: string;
  readonly caused_by?: { readonly type: string; readonly reason: string };
}

const OBJECT_TYPES = new Set(['object', 'nested']);
/** Types whose values are never looked into: any JSON goes. */
const OPAQUE_TYPES = new Set(['flattened', 'object_disabled']);
const INTEGER_TYPES = new Set(['long', 'integer', 'short', 'byte', 'unsigned_long']);
const DECIMAL_TYPES = new Set(['double', 'float', 'half_float', 'scaled_float']);

/** `strict_date_optional_time` (the default date format), plus epoch milliseconds as a number. */
const STRICT_DATE_OPTIONAL_TIME = /^\d{4}(-\d{2}(-\d{2}(T\d{2}(:\d{2}(:\d{2}([.,]\d{1,9})?)?)?(Z|[+-]\d{2}(:?\d{2})?)?)?)?)?$/;

/** Glob of a dynamic template (`*` only), as Elasticsearch's `Regex.simpleMatch`. */
function globMatch(pattern: string, text: string): boolean {
  const re = new RegExp(`^${pattern.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*')}$`);
  return re.test(text);
}

/** Java's `Map.toString` / `List.toString`, which Elasticsearch uses for "Preview of field's value". */
function javaString(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(javaString).join(', ')}]`;
  if (value !== null && typeof value === 'object') return `{${Object.entries(value).map(([k, v]) => `${k}=${javaString(v)}`).join(', ')}}`;
  return String(value);
}

export class IndexMappings {
  /** Field path (`a.b.c`) → mapped type (`object` for objects). */
  readonly #fields = new Map<string, string>();
  readonly #dynamicTemplates: TemplateMappings['dynamic_templates'];
  readonly #dateDetection: boolean;

  constructor(template: TemplateMappings | undefined) {
    this.#dynamicTemplates = template?.dynamic_templates ?? [];
    this.#dateDetection = template?.date_detection ?? true;
    if (template?.properties !== undefined) this.#addExplicit('', template.properties);
  }

  /** The mapped type of a field path, as `GET <index>/_mapping` would show it. */
  typeOf(path: string): string | undefined {
    return this.#fields.get(path);
  }

  /**
   * Checks a document; when it fits, the fields it adds are remembered. A refused document
   * leaves the mappings unchanged (Elasticsearch applies a mapping update only with its document).
   */
  check(doc: unknown, id: string, source: string): MappingFailure | undefined {
    const added = new Map<string, string>();
    const failure = this.#walk(doc as Record<string, unknown>, '', id, source, added);
    if (failure === undefined) for (const [path, type] of added) this.#fields.set(path, type);
    return failure;
  }

  #addExplicit(prefix: string, properties: Readonly<Record<string, FieldMapping>>): void {
    for (const [name, mapping] of Object.entries(properties)) {
      // A dotted name in `properties` is a path of objects, as `log.file.path`.
      const parts = name.split('.');
      for (let i = 1; i < parts.length; i++) this.#fields.set(prefix + parts.slice(0, i).join('.'), 'object');
      const path = prefix + name;
      const type = mapping.type ?? 'object';
      this.#fields.set(path, type);
      if (mapping.properties !== undefined) this.#addExplicit(`${path}.`, mapping.properties);
    }
  }

  #known(path: string, added: Map<string, string>): string | undefined {
    return this.#fields.get(path) ?? added.get(path);
  }

  #walk(object: Record<string, unknown>, prefix: string, id: string, source: string, added: Map<string, string>): MappingFailure | undefined {
    for (const [name, value] of Object.entries(object)) {
      const failure = this.#field(prefix + name, name, value, id, source, added);
      if (failure !== undefined) return failure;
    }
    return undefined;
  }

  #field(path: string, name: string, value: unknown, id: string, source: string, added: Map<string, string>): MappingFailure | undefined {
    if (value === null) return undefined; // null indexes nothing and maps nothing
    if (Array.isArray(value)) {
      for (const v of value) {
        const failure = this.#field(path, name, v, id, source, added);
        if (failure !== undefined) return failure;
      }
      return undefined;
    }
    const mapped = this.#known(path, added);
    if (mapped !== undefined && OPAQUE_TYPES.has(mapped)) return undefined;
    if (typeof value === 'object') {
      if (mapped === undefined) added.set(path, 'object');
      else if (!OBJECT_TYPES.has(mapped)) {
        return {
          reason: `failed to parse field [${path}] of type [${mapped}] in document with id '${id}'. Preview of field's value: '${javaString(value)}'`,
          caused_by: { type: 'illegal_state_exception', reason: `Can't get text on a START_OBJECT at 1:${column(source, name)}` },
        };
      }
      return this.#walk(value as Record<string, unknown>, `${path}.`, id, source, added);
    }
    if (mapped === undefined) {
      added.set(path, this.#dynamicType(path, name, value));
      return undefined;
    }
    if (OBJECT_TYPES.has(mapped)) {
      return { reason: `object mapping for [${path}] tried to parse field [${name}] as object, but found a concrete value` };
    }
    return valueFailure(path, mapped, value, id);
  }

  /** The type a new field gets from its first value: a dynamic template, else the defaults. */
  #dynamicType(path: string, name: string, value: string | number | boolean | unknown): string {
    const kind = typeof value === 'string' ? 'string' : typeof value === 'boolean' ? 'boolean' : Number.isInteger(value) ? 'long' : 'double';
    for (const entry of this.#dynamicTemplates ?? []) {
      const t = Object.values(entry)[0];
      if (t === undefined) continue;
      if (t.match_mapping_type !== undefined && t.match_mapping_type !== '*' && t.match_mapping_type !== kind) continue;
      if (t.path_match !== undefined && !globMatch(t.path_match, path)) continue;
      if (t.match !== undefined && !globMatch(t.match, name)) continue;
      return t.mapping?.type ?? 'keyword';
    }
    if (kind === 'string') return this.#dateDetection && STRICT_DATE_OPTIONAL_TIME.test(value as string) ? 'date' : 'text';
    return kind === 'double' ? 'float' : kind;
  }
}

/** A concrete value against its field's type (text and keyword take any value: it is made a string). */
function valueFailure(path: string, type: string, value: unknown, id: string): MappingFailure | undefined {
  const fail = (causeType: string, causeReason: string): MappingFailure => ({
    reason: `failed to parse field [${path}] of type [${type}] in document with id '${id}'. Preview of field's value: '${javaString(value)}'`,
    caused_by: { type: causeType, reason: causeReason },
  });
  if (INTEGER_TYPES.has(type) || DECIMAL_TYPES.has(type)) {
    if (typeof value === 'number' || (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value)))) return undefined;
    return fail('number_format_exception', `For input string: "${String(value)}"`);
  }
  if (type === 'boolean') {
    if (value === true || value === false || value === 'true' || value === 'false' || value === '') return undefined;
    return fail('illegal_argument_exception', `Failed to parse value [${String(value)}] as only [true] or [false] are allowed.`);
  }
  if (type === 'date' || type === 'date_nanos') {
    if (typeof value === 'number' || (typeof value === 'string' && STRICT_DATE_OPTIONAL_TIME.test(value))) return undefined;
    return fail('illegal_argument_exception', `failed to parse date field [${String(value)}] with format [strict_date_optional_time||epoch_millis]`);
  }
  return undefined;
}

/** Where a field's value starts in the source line (1-based), for the `[1:N]` of a parse error. */
export function column(source: string, name: string): number {
  const at = source.indexOf(`${JSON.stringify(name)}:`);
  return at < 0 ? 1 : at + JSON.stringify(name).length + 2;
}
