/**
 * The `method` label's values. Any other method counts as `other`: methods come from clients,
 * and every distinct label value is a new series kept for the life of the process.
 */
export const METHOD_LABELS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'other'] as const;
export type MethodLabel = (typeof METHOD_LABELS)[number];

/**
 * The `status_class` label's values. `other` holds the statuses outside 100–599 that a backend
 * may still send (Node passes any three-digit status through), rather than filing them as 5xx.
 */
export const STATUS_CLASS_LABELS = ['1xx', '2xx', '3xx', '4xx', '5xx', 'other'] as const;
export type StatusClassLabel = (typeof STATUS_CLASS_LABELS)[number];

/** Where a request method's label sits in METHOD_LABELS; a switch, as this runs once per request. */
export function methodIndex(method: string): number {
  switch (method) {
    case 'GET':
      return 0;
    case 'HEAD':
      return 1;
    case 'POST':
      return 2;
    case 'PUT':
      return 3;
    case 'DELETE':
      return 4;
    case 'PATCH':
      return 5;
    case 'OPTIONS':
      return 6;
    default:
      return 7;
  }
}

/** Where a status's class sits in STATUS_CLASS_LABELS. */
export function statusClassIndex(status: number): number {
  return status >= 100 && status < 600 ? Math.floor(status / 100) - 1 : STATUS_CLASS_LABELS.length - 1;
}

export function methodLabel(method: string): MethodLabel {
  return METHOD_LABELS[methodIndex(method)];
}

export function statusClassLabel(status: number): StatusClassLabel {
  return STATUS_CLASS_LABELS[statusClassIndex(status)];
}
