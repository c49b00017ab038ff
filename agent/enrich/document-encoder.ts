import type { PodInfo, PodMetadataSource } from '../core/pod-metadata.ts';
import type { LogFile, LogRecord } from '../core/record.ts';

/**
 * The output schema: which fields a record becomes. Everything that is the same for every
 * line of a file (node, pod, container, labels...) is serialised once per file into a JSON
 * fragment; per record only the message, timestamp, stream and flags are serialised.
 *
 * fluentd: the fields of fluentd-kubernetes-daemonset with fluent-plugin-kubernetes_metadata_filter
 *   {"log", "stream", "@timestamp", "docker":{"container_id"}, "kubernetes":{"namespace_name",
 *    "pod_name", "pod_id", "container_name", "container_image", "container_image_id", "host",
 *    "labels", "annotations", "namespace_labels", "owner":{"kind","name"}, "restart_count"}}
 *   host logs: {"log", "@timestamp", "host", "path"}
 * ecs: Elastic Common Schema, as Filebeat's kubernetes autodiscover writes it
 *   {"@timestamp", "message", "stream", "log":{"file":{"path"}}, "host":{"name"},
 *    "kubernetes":{"node":{"name"}, "namespace", "pod":{"name","uid"}, "container":{"name"},
 *    "labels", "annotations", "namespace_labels", "owner"}, "container":{"id","image":{"name"}}}
 * Flags: a truncated record has `"truncated":true` (fluentd) / `"log":{"flags":["truncated"]}` (ecs);
 * a line that did not match its format has `"decode_error":"<reason>"` / `"error":{"type":"<reason>"}`.
 */
export interface DocumentEncoder {
  /** The document JSON. */
  encode(record: LogRecord): string;
  /** True when the file's pod is excluded from shipping (annotations, or this agent's own pod). */
  excluded(file: LogFile): boolean;
}

export interface DocumentEncoderOptions {
  readonly schema: 'fluentd' | 'ecs';
  readonly nodeName: string;
  readonly dedotKeys: boolean;
  readonly pods: PodMetadataSource | undefined;
  /** This agent's own pod: its logs are never shipped (they would feed themselves). */
  readonly selfPod: { readonly namespace: string | undefined; readonly name: string | undefined };
  /** Honour `nodetail.io/exclude` / `fluentbit.io/exclude` (any pod author can set them). Default true. */
  readonly honorExcludeAnnotations?: boolean;
}

interface FileFields {
  readonly generation: number;
  /** `,"key":value...` appended after the per-record fields; empty for none. */
  readonly fragment: string;
  readonly excluded: boolean;
}

export function createDocumentEncoder(options: DocumentEncoderOptions): DocumentEncoder {
  const { schema, pods } = options;
  const cache = new WeakMap<LogFile, FileFields>();
  let lastFile: LogFile | undefined;
  let lastFields: FileFields | undefined;

  const fieldsOf = (file: LogFile): FileFields => {
    const generation = pods?.generation() ?? 0;
    if (file === lastFile && lastFields !== undefined && lastFields.generation === generation) return lastFields;
    let fields = cache.get(file);
    if (fields === undefined || fields.generation !== generation) {
      const pod = pods?.lookup(file.meta);
      fields = { generation, fragment: fileFragment(schema, file, pod, options), excluded: isExcluded(file, pod, options) };
      cache.set(file, fields);
    }
    lastFile = file;
    lastFields = fields;
    return fields;
  };

  const excluded = (file: LogFile): boolean => fieldsOf(file).excluded;
  if (schema === 'fluentd') {
    return {
      excluded,
      encode(record) {
        const fields = fieldsOf(record.file);
        let doc = '{"log":' + JSON.stringify(record.message);
        if (record.stream !== undefined) doc += ',"stream":"' + record.stream + '"';
        doc += ',"@timestamp":' + JSON.stringify(record.time);
        if (record.truncated) doc += ',"truncated":true';
        if (record.error !== undefined) doc += ',"decode_error":"' + record.error + '"';
        return doc + fields.fragment + '}';
      },
    };
  }
  return {
    excluded,
    encode(record) {
      const fields = fieldsOf(record.file);
      let doc = '{"@timestamp":' + JSON.stringify(record.time) + ',"message":' + JSON.stringify(record.message);
      if (record.stream !== undefined) doc += ',"stream":"' + record.stream + '"';
      if (record.error !== undefined) doc += ',"error":{"type":"' + record.error + '"}';
      doc += ',"log":{"file":{"path":' + JSON.stringify(record.file.matchedPath) + '}';
      if (record.truncated) doc += ',"flags":["truncated"]';
      return doc + '}' + fields.fragment + '}';
    },
  };
}

function isExcluded(file: LogFile, pod: PodInfo | undefined, options: DocumentEncoderOptions): boolean {
  const { namespace, pod: podName } = file.meta;
  const self = options.selfPod;
  if (self.name !== undefined && podName === self.name && (self.namespace === undefined || namespace === self.namespace)) return true;
  return options.honorExcludeAnnotations !== false && (pod?.excluded ?? false);
}

function fileFragment(schema: 'fluentd' | 'ecs', file: LogFile, pod: PodInfo | undefined, options: DocumentEncoderOptions): string {
  const m = file.meta;
  const container = pod?.containers.find((c) => c.name === m.container);
  const containerId = m.containerId ?? container?.containerId;
  const keys = (o: Readonly<Record<string, string>> | undefined) => (o === undefined || Object.keys(o).length === 0 ? undefined : options.dedotKeys ? dedot(o) : o);
  if (file.source === 'host') {
    return schema === 'fluentd'
      ? json({ host: options.nodeName, path: file.matchedPath })
      : json({ host: { name: options.nodeName } });
  }
  if (schema === 'fluentd') {
    return json({
      docker: containerId === undefined ? undefined : { container_id: containerId },
      kubernetes: {
        namespace_name: m.namespace,
        pod_name: m.pod,
        pod_id: m.podUid ?? pod?.uid,
        container_name: m.container,
        container_image: container?.image,
        container_image_id: container?.imageId,
        restart_count: m.restartCount,
        host: options.nodeName,
        pod_ip: pod?.podIp,
        labels: keys(pod?.labels),
        annotations: keys(pod?.annotations),
        namespace_labels: keys(pod?.namespaceLabels),
        owner: pod?.owner,
      },
    });
  }
  return json({
    host: { name: options.nodeName },
    kubernetes: {
      node: { name: options.nodeName },
      namespace: m.namespace,
      pod: { name: m.pod, uid: m.podUid ?? pod?.uid, ip: pod?.podIp },
      container: { name: m.container, restart_count: m.restartCount },
      labels: keys(pod?.labels),
      annotations: keys(pod?.annotations),
      namespace_labels: keys(pod?.namespaceLabels),
      owner: pod?.owner,
    },
    container: containerId === undefined && container === undefined ? undefined : { id: containerId, image: container === undefined ? undefined : { name: container.image } },
  });
}

/** `{"a":1,"b":2}` → `,"a":1,"b":2` (undefined members dropped by JSON.stringify). */
function json(members: Record<string, unknown>): string {
  const text = JSON.stringify(members);
  return text === '{}' ? '' : ',' + text.slice(1, -1);
}

/** Label keys with `.` replaced by `_`, so `app` and `app.kubernetes.io/name` never collide in a mapping. */
function dedot(o: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(o)) out[k.replaceAll('.', '_')] = v;
  return out;
}
