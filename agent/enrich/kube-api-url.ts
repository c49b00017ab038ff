/**
 * The API server's base URL: the configured one, else the in-cluster one that kubelet puts in
 * every pod's environment (`KUBERNETES_SERVICE_HOST` / `KUBERNETES_SERVICE_PORT`), as client-go's
 * `rest.InClusterConfig` builds it. An IPv6 host needs brackets in a URL (`https://[fd00::1]:443`).
 * Undefined when there is neither: the caller logs that metadata is off.
 */
export function kubeApiUrl(
  apiUrl: string | undefined,
  serviceHost: string | undefined,
  servicePort: string | undefined,
): string | undefined {
  if (apiUrl !== undefined && apiUrl !== '') return apiUrl.replace(/\/+$/, '');
  if (serviceHost === undefined || serviceHost === '' || servicePort === undefined || servicePort === '') return undefined;
  const host = serviceHost.includes(':') && !serviceHost.startsWith('[') ? `[${serviceHost}]` : serviceHost;
  return `https://${host}:${servicePort}`;
}
