// Errors of the cluster roles, each with a stable code (docs/CLUSTER.md lists them).
export class ClusterError extends Error {
  constructor(
    readonly code: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
  }
}
